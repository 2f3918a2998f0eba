"""The registry's yearly tax and revenue (企业画像) under the grant of the per-enterprise figures
(按权限, services/enterprise/figure_access.py): who reads them in an enterprise's record, the
list and the profile, who may sort and filter by tax, that every read is audited, and that the
classification summary never lets a caller without the grant single out an enterprise.

The test's enterprises sit in two incubator grids of its own and carry figures of a year no
other test records (2087), so the summary's sums for that year are theirs alone.
"""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import httpx
import numpy
import pytest
from helpers import SENDS_IF_MATCH, bearer, enterprise_body

from common.auth import Principal, Role, mint_token
from common.config import DEV_JWT_SECRET

YEAR = 2087
GRANTED = ("revenue", "tax")
#: (grid, scale, tax, revenue, output value): six in grid A, one in grid B
FIGURES = (
    ("A", "small", 8.0, 300.0, 900.0),
    ("A", "small", 15.0, 410.0, 1_100.0),
    ("A", "small", 40.0, 520.0, 2_300.0),
    ("A", "small", 120.0, 1_250.0, 5_000.0),
    ("A", "small", 65.0, 800.0, 3_100.0),
    ("A", "micro", 3.5, 90.0, 150.0),
    ("B", "micro", 2.25, 60.0, 80.0),
)


def mint(role: Role, **claims: Any) -> str:
    claims.setdefault("user_id", f"figures-{role}-{uuid.uuid4().hex[:8]}")
    return mint_token(Principal(role=role, **claims), DEV_JWT_SECRET, 3600)


def ok(answer: httpx.Response, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json()


@pytest.fixture(scope="module")
def world(platform) -> dict[str, Any]:
    """Two incubator grids, seven enterprises with a year of figures each."""
    with httpx.Client(base_url=platform.gateway_url(), timeout=30, **SENDS_IF_MATCH) as client:
        return _world(client)


def _world(client: httpx.Client) -> dict[str, Any]:
    admin = bearer(mint(Role.ADMIN))
    run = uuid.uuid4().hex[:6]
    grids = {}
    for name in ("A", "B"):
        grids[name] = ok(client.post("/api/v1/grids", headers=admin, json={
            "id": f"RF{name}{run}".upper(), "name": f"税收授权测试孵化器{name}{run}",
            "kind": "incubator", "owner_department_id": "science_innovation",
            "address": "高新区测试路9号", "lon": 120.31, "lat": 36.31}), 201)["id"]
    enterprises = []
    for i, (grid, scale, tax, revenue, output) in enumerate(FIGURES):
        created = ok(client.post("/api/v1/enterprises", headers=admin, json=enterprise_body(
            name=f"青岛税收授权测试{run}{i}有限公司", incubator_id=grids[grid], scale=scale,
            industry_code="I65")), 201)
        for indicator, value in (("tax", tax), ("revenue", revenue), ("output_value", output)):
            ok(client.post(f"/api/v1/enterprises/{created['id']}/profile", headers=admin, json={
                "year": YEAR, "indicator": indicator, "value": value,
                "source": "registration"}), 201)
        enterprises.append({"id": created["id"], "grid": grid, "grid_id": grids[grid],
                            "scale": scale, "tax": tax, "revenue": revenue, "output": output})
    return {"run": run, "grids": grids, "enterprises": enterprises}


def callers(world: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """(granted, refused) callers by who they are: the default grant is 经济发展部, 财政金融部
    and the leaders."""
    grid_a = (world["grids"]["A"],)
    granted = {
        "leader": mint(Role.LEADER),
        "经济发展部 coordinator": mint(Role.COORDINATOR, department_id="economic_development"),
        "财政金融部 liaison": mint(Role.LIAISON, department_id="finance"),
        "财政金融部 head": mint(Role.DEPARTMENT_HEAD, department_id="finance"),
        "经济发展部 grid worker": mint(Role.GRID_WORKER, grid_ids=grid_a,
                                   department_id="economic_development"),
    }
    refused = {
        "招商部 liaison": mint(Role.LIAISON, department_id="investment_promotion"),
        "建设部 head": mint(Role.DEPARTMENT_HEAD, department_id="construction"),
        "科技创新部 coordinator": mint(Role.COORDINATOR, department_id="science_innovation"),
        "科技创新部 grid leader": mint(Role.GRID_LEADER, grid_ids=grid_a,
                                   department_id="science_innovation"),
        "grid worker without a department": mint(Role.GRID_WORKER, grid_ids=grid_a),
        "admin (grants, is not granted)": mint(Role.ADMIN),
    }
    return granted, refused


def test_tax_and_revenue_of_an_enterprise_only_for_granted_roles_and_departments(client, world):
    granted, refused = callers(world)
    first = world["enterprises"][0]
    one = f"/api/v1/enterprises/{first['id']}"
    profile = f"{one}/profile"
    listing = {"q": f"税收授权测试{world['run']}", "per_page": 50}
    for who, tok in granted.items():
        record = ok(client.get(one, headers=bearer(tok)))["latest_indicators"]
        assert (record["tax"], record["revenue"], record["withheld"]) == (
            first["tax"], first["revenue"], []), who
        values = {v["indicator"]: v["value"] for v in ok(client.get(profile, headers=bearer(
            tok)))["latest"]}
        assert values == {"tax": first["tax"], "revenue": first["revenue"],
                          "output_value": first["output"]}, who
        items = ok(client.get("/api/v1/enterprises", headers=bearer(tok), params={
            **listing, "sort": "-tax"}))["items"]
        taxes = [i["latest_indicators"]["tax"] for i in items]
        assert taxes and taxes == sorted(taxes, reverse=True), who
        bounded = ok(client.get("/api/v1/enterprises", headers=bearer(tok), params={
            **listing, "min_tax": 50}))["items"]
        assert {i["latest_indicators"]["tax"] for i in bounded} <= {65.0, 120.0}, who
    for who, tok in refused.items():
        record = ok(client.get(one, headers=bearer(tok)))["latest_indicators"]
        assert (record["tax"], record["revenue"]) == (None, None), who
        assert record["withheld"] == ["revenue", "tax"], who
        assert record["output_value"] == first["output"], who  # not covered by the grant
        answer = ok(client.get(profile, headers=bearer(tok)))
        assert {v["indicator"] for v in answer["latest"] + answer["history"]} == {
            "output_value"}, who
        assert answer["withheld"] == ["revenue", "tax"], who
        items = ok(client.get("/api/v1/enterprises", headers=bearer(tok),
                              params=listing))["items"]
        assert items, who
        assert all(i["latest_indicators"]["tax"] is None
                   and i["latest_indicators"]["revenue"] is None for i in items), who
        for asked in ({"sort": "-tax"}, {"sort": "tax"}, {"min_tax": 1}, {"max_tax": 100}):
            answer = client.get("/api/v1/enterprises", headers=bearer(tok),
                                params={**listing, **asked})
            assert answer.status_code == 403, (who, asked, answer.text)
            assert answer.json()["code"] == "zone.figures_not_granted", (who, asked)
    # granted grid staff read only their grids' enterprises
    worker = granted["经济发展部 grid worker"]
    elsewhere = world["enterprises"][-1]  # in grid B
    assert client.get(f"/api/v1/enterprises/{elsewhere['id']}",
                      headers=bearer(worker)).status_code == 404
    # an enterprise reads its own figures, not another's record
    own = bearer(mint(Role.ENTERPRISE, enterprise_id=first["id"]))
    assert ok(client.get(one, headers=own))["latest_indicators"]["tax"] == first["tax"]
    assert {v["indicator"] for v in ok(client.get(profile, headers=own))["latest"]} == {
        "tax", "revenue", "output_value"}
    assert client.get(f"/api/v1/enterprises/{elsewhere['id']}", headers=own).status_code == 404


def test_the_admins_grant_takes_effect_in_the_registry(client, world):
    admin = bearer(mint(Role.ADMIN))
    promotion = bearer(mint(Role.LIAISON, department_id="investment_promotion"))
    one = f"/api/v1/enterprises/{world['enterprises'][1]['id']}"
    assert ok(client.get(one, headers=promotion))["latest_indicators"]["tax"] is None
    grant = ok(client.get("/api/v1/zone/economy/access", headers=admin))
    changed = ok(client.put("/api/v1/zone/economy/access", headers={
        **admin, "If-Match": f'"{grant["version"]}"'}, json={
        "departments": [*grant["departments"], "investment_promotion"],
        "roles": grant["roles"]}))
    try:
        assert ok(client.get(one, headers=promotion))["latest_indicators"]["tax"] == 15.0
    finally:
        ok(client.put("/api/v1/zone/economy/access", headers=admin, json={
            "departments": grant["departments"], "roles": grant["roles"],
            "version": changed["version"]}))
    assert ok(client.get(one, headers=promotion))["latest_indicators"]["tax"] is None


def test_every_read_of_tax_and_revenue_is_audited(client, world):
    admin = bearer(mint(Role.ADMIN))
    first = world["enterprises"][0]
    actor = f"registry-auditee-{world['run']}"
    reader = bearer(mint(Role.LEADER, user_id=actor))
    detail = client.get(f"/api/v1/enterprises/{first['id']}", headers=reader)
    profile = client.get(f"/api/v1/enterprises/{first['id']}/profile", headers=reader)
    page = client.get("/api/v1/enterprises", headers=reader,
                      params={"q": f"税收授权测试{world['run']}", "per_page": 50})
    assert detail.status_code == profile.status_code == page.status_code == 200
    entries = ok(client.get("/api/v1/audit-log", headers=admin,
                            params={"actor_id": actor}))["items"]
    routes = {e["route"]: e for e in entries}
    assert set(routes) == {"enterprise.detail", "enterprise.profile", "enterprise.list"}
    assert routes["enterprise.detail"]["subject_ids"]["enterprise_ids"] == first["id"]
    assert routes["enterprise.profile"]["subject_ids"]["enterprise_ids"] == first["id"]
    listed = set(routes["enterprise.list"]["subject_ids"]["enterprise_ids"].split(","))
    assert listed == {e["id"] for e in world["enterprises"]}
    assert all(e["actor_role"] == "leader" and e["fields_changed"] == list(GRANTED)
               for e in entries)
    assert routes["enterprise.detail"]["call_id"] == f"{detail.headers['X-Request-ID']}.detail"
    # reads that returned no tax or revenue leave nothing; nor does an enterprise's own
    for role, claims in ((Role.LIAISON, {"department_id": "investment_promotion"}),
                         (Role.ENTERPRISE, {"enterprise_id": first["id"]})):
        quiet = f"registry-quiet-{role}-{world['run']}"
        tok = bearer(mint(role, user_id=quiet, **claims))
        assert client.get(f"/api/v1/enterprises/{first['id']}", headers=tok).status_code == 200
        assert client.get(f"/api/v1/enterprises/{first['id']}/profile",
                          headers=tok).status_code == 200
        assert ok(client.get("/api/v1/audit-log", headers=admin,
                             params={"actor_id": quiet}))["items"] == []


DIMENSIONS = ("grid", "industry_section", "industry_division", "scale", "output_band",
              "tax_band")


def released(client: httpx.Client, tok: str) -> dict[str, Any]:
    """Every summary of the test's year for this caller, by dimension."""
    return {by: ok(client.get("/api/v1/enterprises/summary", headers=bearer(tok),
                              params={"by": by, "year": YEAR})) for by in DIMENSIONS}


def group_of(enterprise: dict[str, Any], by: str, summary: dict[str, Any]) -> str:
    """The summary row an enterprise falls in (as the registry groups it)."""
    if by == "grid":
        return enterprise["grid_id"]
    if by == "industry_section":
        return "I"
    if by == "industry_division":
        return "I65"
    if by == "scale":
        return enterprise["scale"]
    value, bands = ((enterprise["output"], ((100, "<100万"), (1000, "100-1000万"),
                                            (10000, "1000万-1亿")))
                    if by == "output_band" else
                    (enterprise["tax"], ((10, "<10万"), (100, "10-100万"), (1000, "100-1000万"))))
    return next((label for limit, label in bands if value < limit),
                "≥1亿" if by == "output_band" else "≥1000万")


def test_the_summary_never_singles_out_an_enterprise_for_a_caller_without_the_grant(
        client, world):
    enterprises = world["enterprises"]
    granted = released(client, mint(Role.LEADER))
    assert not granted["grid"]["restricted"]
    rows = {r["key"]: r for r in granted["grid"]["rows"]}
    for name, grid_id in world["grids"].items():
        mine = [e for e in enterprises if e["grid"] == name]
        assert rows[grid_id]["tax"] == pytest.approx(sum(e["tax"] for e in mine))
        assert rows[grid_id]["revenue"] == pytest.approx(sum(e["revenue"] for e in mine))
    _, refused = callers(world)
    for who in ("招商部 liaison", "admin (grants, is not granted)"):
        summaries = released(client, refused[who])
        assert all(s["restricted"] for s in summaries.values()), who
        by_grid = {r["key"]: r for r in summaries["grid"]["rows"]}
        # grid B is one enterprise; grid A is the total less grid B, so both are withheld
        for grid_id in world["grids"].values():
            assert by_grid[grid_id]["tax"] is None and by_grid[grid_id]["revenue"] is None, who
            assert by_grid[grid_id]["output_value"] is not None, who  # not covered
        assert summaries["grid"]["total"]["tax"] == pytest.approx(
            sum(e["tax"] for e in enterprises)), who
        for name in GRANTED:
            figures = []  # every released sum as the enterprises it stands for
            for by, summary in summaries.items():
                for row in [*summary["rows"], summary["total"]]:
                    members = [i for i, e in enumerate(enterprises)
                               if row is summary["total"] or group_of(e, by, summary) == row["key"]]
                    if row[name] is None or not members:
                        continue
                    assert len(members) >= 5, (who, name, by, row)
                    assert row[name] == pytest.approx(sum(enterprises[i][name] for i in members))
                    figures.append([1.0 if i in members else 0.0 for i in range(len(enterprises))])
            span = numpy.array(figures).T
            # no sum of 1 to 4 enterprises is any combination of the released sums
            for size in range(1, 5):
                for chosen in itertools.combinations(range(len(enterprises)), size):
                    target = numpy.array([1.0 if i in chosen else 0.0
                                          for i in range(len(enterprises))])
                    weights = numpy.linalg.lstsq(span, target, rcond=None)[0]
                    assert numpy.abs(span @ weights - target).max() > 1e-6, (who, name, chosen)
