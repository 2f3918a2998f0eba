"""Every request field that references another record (an incubator, a department, an account,
an enterprise, a grid, a listing, a task, a carrier's grid, an institute's partners ...): an id
that names no record is a 422 naming that field with a stable code, never a 500 from the
database's foreign key (issue 22, finding 2: ``PATCH /enterprises/{id} {"incubator_id":
"NOPE"}`` was a 500 as admin and as grid leader)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from helpers import SENDS_IF_MATCH, bearer, demand_body, named_fields, new_enterprise_id

from common.auth import Role

UNKNOWN_UUID = str(uuid.UUID(int=0x22))
UNKNOWN = "NOPE"
SOON = (date.today() + timedelta(days=200)).isoformat()


@pytest.fixture(scope="module")
def world(platform, infrastructure) -> dict[str, Any]:
    """Records the paths of the cases need: an enterprise of INC01, a demand triaged to one
    department whose task was returned (coordination), a live listing and a carrier."""
    import httpx

    from common.auth import Principal, mint_token
    from common.config import DEV_JWT_SECRET

    def tok(role: Role, **claims: Any) -> str:
        claims.setdefault("user_id", f"refs-{role}-{uuid.uuid4().hex[:6]}")
        return mint_token(Principal(role=role, **claims), DEV_JWT_SECRET, 3600)

    admin = tok(Role.ADMIN)
    coordinator = tok(Role.COORDINATOR, department_id="economic_development")
    ent = new_enterprise_id(incubator_id="INC01")
    worker = tok(Role.GRID_WORKER, grid_ids=("INC01",))

    def new_demand() -> str:
        with httpx.Client(base_url=platform.gateway_url(), timeout=15, **SENDS_IF_MATCH) as c:
            created = c.post("/api/v1/demands", headers=bearer(worker), json=demand_body(
                channel="grid_worker", enterprise_id=ent))
        assert created.status_code == 201, created.text
        return created.json()["id"]

    with httpx.Client(base_url=platform.gateway_url(), timeout=15, **SENDS_IF_MATCH) as c:
        demand = {"id": new_demand()}
        triaged = c.post(f"/api/v1/demands/{demand['id']}/triage", headers=bearer(coordinator),
                         json={"category": "fire", "proposed_opinion": "消防",
                               "departments": [{"department_id": "fire_rescue"}]})
        assert triaged.status_code == 200, triaged.text
        task = triaged.json()["tasks"][0]["id"]
        returned = c.post(f"/api/v1/tasks/{task}/return",
                          headers=bearer(tok(Role.LIAISON, department_id="fire_rescue")),
                          json={"reason": "不属于本部门"})
        assert returned.status_code == 200, returned.text
        listing = c.post("/api/v1/listings", headers=bearer(tok(Role.ENTERPRISE,
                                                                 enterprise_id=ent)),
                         json={"title": "外协加工", "category": "processing", "side": "supply",
                               "valid_until": SOON})
        assert listing.status_code == 201, listing.text
        carrier = c.post("/api/v1/zone/carriers", headers=bearer(admin),
                         json={"name": f"引用测试楼{uuid.uuid4().hex[:6]}",
                               "kind": "office_building", "leasable_area": 1000})
        assert carrier.status_code == 201, carrier.text
    return {"enterprise": ent, "demand": demand["id"], "task": task,
            "listing": listing.json()["id"], "carrier": carrier.json()["id"],
            "tok": tok, "new_demand": new_demand}


def audience(**criteria: Any) -> dict[str, Any]:
    return {"grid_ids": [], "incubator_ids": [], "enterprise_ids": [], **criteria}


def policy(**overrides: Any) -> dict[str, Any]:
    return {"kind": "notice", "title": "通知", "body": "正文", **overrides}


def meeting(**overrides: Any) -> dict[str, Any]:
    return {"theme": "政企恳谈会", "starts_at": "2099-03-01T09:00:00+08:00", "place": "会议室",
            "organiser_department_id": "economic_development", **overrides}


def contract(ent: str, **overrides: Any) -> dict[str, Any]:
    return {"enterprise_id": ent, "title": "投资协议", "signed_on": "2026-01-05",
            "department_id": "economic_development", **overrides}


def project(**overrides: Any) -> dict[str, Any]:
    return {"name": "新建厂房项目", "site_address": "高新区某路", "planned_investment": 1000,
            **overrides}


def institute(**overrides: Any) -> dict[str, Any]:
    return {"name": f"研发中心{uuid.uuid4().hex[:6]}", "level": "municipal",
            "host_kind": "other", "host_name": "某大学", **overrides}


W = dict[str, Any]
#: (case id, role and claims, method, path, body, the field that must be named)
Case = tuple[str, Callable[[W], tuple[Role, dict[str, Any]]], str, Callable[[W], str],
             Callable[[W], dict[str, Any]], str]

ADMIN: Callable[[W], tuple[Role, dict[str, Any]]] = lambda w: (Role.ADMIN, {})  # noqa: E731
COORD: Callable[[W], tuple[Role, dict[str, Any]]] = lambda w: (  # noqa: E731
    Role.COORDINATOR, {"department_id": "economic_development"})
LEADER: Callable[[W], tuple[Role, dict[str, Any]]] = lambda w: (  # noqa: E731
    Role.GRID_LEADER, {"grid_ids": ("INC01",)})
WORKER: Callable[[W], tuple[Role, dict[str, Any]]] = lambda w: (  # noqa: E731
    Role.GRID_WORKER, {"grid_ids": ("INC01",)})


def path(template: str) -> Callable[[W], str]:
    return lambda w: template.format(**w)


def fresh_demand(action: str) -> Callable[[W], str]:
    return lambda w: f"/api/v1/demands/{w['new_demand']()}{action}"


ENTERPRISE: Callable[[W], tuple[Role, dict[str, Any]]] = lambda w: (  # noqa: E731
    Role.ENTERPRISE, {"enterprise_id": w["enterprise"]})


CASES: list[Case] = [
    # the probe's request, as admin and as grid leader
    ("enterprise.incubator_id", ADMIN, "PATCH", path("/api/v1/enterprises/{enterprise}"),
     lambda w: {"incubator_id": UNKNOWN}, "incubator_id"),
    ("enterprise.incubator_id.leader", LEADER, "PATCH", path("/api/v1/enterprises/{enterprise}"),
     lambda w: {"incubator_id": UNKNOWN}, "incubator_id"),
    ("enterprise.incubator_id.new", ADMIN, "POST", path("/api/v1/enterprises"),
     lambda w: __import__("helpers").enterprise_body(incubator_id=UNKNOWN), "incubator_id"),
    ("account.enterprise_id", ADMIN, "POST", path("/api/v1/accounts"),
     lambda w: {"username": f"refs{uuid.uuid4().hex[:8]}", "password": "Secret-pass-1",
                "role": "enterprise", "name": "张三", "enterprise_id": UNKNOWN_UUID},
     "enterprise_id"),
    ("account.department_id", ADMIN, "POST", path("/api/v1/accounts"),
     lambda w: {"username": f"refs{uuid.uuid4().hex[:8]}", "password": "Secret-pass-1",
                "role": "liaison", "name": "张三", "department_id": UNKNOWN}, "department_id"),
    *[(f"department.{field}", ADMIN, "PATCH", path("/api/v1/departments/taxation"),
       (lambda f: lambda w: {f: UNKNOWN_UUID})(field), field)
      for field in ("liaison_account_id", "head_account_id", "leader_account_id")],
    ("category.department_id", ADMIN, "POST", path("/api/v1/categories"),
     lambda w: {"department_id": UNKNOWN, "name": "新类别",
                "code": f"refs_{uuid.uuid4().hex[:8]}"}, "department_id"),
    ("category.department_id.put", ADMIN, "PUT", path("/api/v1/categories/fire"),
     lambda w: {"department_id": UNKNOWN}, "department_id"),
    ("grid.owner_department_id", ADMIN, "POST", path("/api/v1/grids"),
     lambda w: {"id": f"R{uuid.uuid4().hex[:6].upper()}", "name": "新孵化器", "kind": "incubator",
                "owner_department_id": UNKNOWN, "lon": 120.3, "lat": 36.3},
     "owner_department_id"),
    ("grid.leader_account_id", ADMIN, "PUT", path("/api/v1/grids/INC02/staff"),
     lambda w: {"leader_account_id": UNKNOWN_UUID,
                "worker_account_ids": [str(uuid.uuid4()), str(uuid.uuid4())]},
     "leader_account_id"),
    ("contract.enterprise_id", ADMIN, "POST", path("/api/v1/contracts"),
     lambda w: contract(UNKNOWN_UUID), "enterprise_id"),
    ("contract.department_id", ADMIN, "POST", path("/api/v1/contracts"),
     lambda w: contract(w["enterprise"], department_id=UNKNOWN), "department_id"),
    ("contract.obligations.department_id", ADMIN, "POST", path("/api/v1/contracts"),
     lambda w: contract(w["enterprise"], obligations=[{
         "party": "committee", "description": "配套道路", "due_on": "2099-01-01",
         "department_id": UNKNOWN}]), "obligations.0.department_id"),
    ("visit.enterprise_id", WORKER, "POST", path("/api/v1/visits"),
     lambda w: {"enterprise_id": UNKNOWN_UUID, "visited_on": "2026-01-05"}, "enterprise_id"),
    ("demand.enterprise_id", WORKER, "POST", path("/api/v1/demands"),
     lambda w: demand_body(channel="grid_worker", enterprise_id=UNKNOWN_UUID), "enterprise_id"),
    ("triage.department_id", COORD, "POST", fresh_demand("/triage"),
     lambda w: {"category": "fire", "proposed_opinion": "x",
                "departments": [{"department_id": UNKNOWN}]}, "departments"),
    ("triage.category", COORD, "POST", fresh_demand("/triage"),
     lambda w: {"category": UNKNOWN, "proposed_opinion": "x",
                "departments": [{"department_id": "fire_rescue"}]}, "category"),
    ("reassign.department_id", COORD, "POST", path("/api/v1/tasks/{task}/reassign"),
     lambda w: {"department_id": UNKNOWN, "reason": "x"}, "department_id"),
    ("preview.grid_ids", COORD, "POST", path("/api/v1/policies/audience/preview"),
     lambda w: audience(grid_ids=[UNKNOWN]), "grid_ids"),
    ("preview.incubator_ids", COORD, "POST", path("/api/v1/policies/audience/preview"),
     lambda w: audience(incubator_ids=[UNKNOWN]), "incubator_ids"),
    ("preview.enterprise_ids", COORD, "POST", path("/api/v1/policies/audience/preview"),
     lambda w: audience(enterprise_ids=[UNKNOWN_UUID]), "enterprise_ids"),
    ("policy.department_id", ADMIN, "POST", path("/api/v1/policies"),
     lambda w: policy(department_id=UNKNOWN), "department_id"),
    ("policy.audience.grid_ids", COORD, "POST", path("/api/v1/policies"),
     lambda w: policy(audience=audience(grid_ids=[UNKNOWN])), "audience.grid_ids"),
    ("meeting.organiser_department_id", ADMIN, "POST", path("/api/v1/meetings"),
     lambda w: meeting(organiser_department_id=UNKNOWN), "organiser_department_id"),
    ("meeting.audience.incubator_ids", COORD, "POST", path("/api/v1/meetings"),
     lambda w: meeting(audience=audience(incubator_ids=[UNKNOWN])), "audience.incubator_ids"),
    ("listing.enterprise_id", WORKER, "POST", path("/api/v1/listings"),
     lambda w: {"title": "外协", "category": "processing", "side": "supply",
                "valid_until": SOON, "enterprise_id": UNKNOWN_UUID}, "enterprise_id"),
    ("docking.listing_id", ENTERPRISE, "POST", path("/api/v1/dockings"),
     lambda w: {"listing_id": UNKNOWN_UUID, "message": "你好"}, "listing_id"),
    ("docking.enterprise_id", WORKER, "POST", path("/api/v1/dockings"),
     lambda w: {"listing_id": w["listing"], "message": "你好", "enterprise_id": UNKNOWN_UUID},
     "enterprise_id"),
    ("veto.subject_id", ADMIN, "PUT", path("/api/v1/appraisal/vetoes"),
     lambda w: {"subject": "grids", "subject_id": UNKNOWN, "year": 2026, "vetoed": True,
                "reason": "x"}, "subject_id"),
    ("zone.access.departments", ADMIN, "PUT", path("/api/v1/zone/economy/access"),
     lambda w: {"departments": [UNKNOWN], "roles": ["leader"]}, "departments"),
    ("zone.carrier.grid_id", ADMIN, "POST", path("/api/v1/zone/carriers"),
     lambda w: {"name": f"楼{uuid.uuid4().hex[:6]}", "kind": "office_building",
                "grid_id": UNKNOWN}, "grid_id"),
    ("zone.carrier.grid_id.patch", ADMIN, "PATCH", path("/api/v1/zone/carriers/{carrier}"),
     lambda w: {"grid_id": UNKNOWN}, "grid_id"),
    ("zone.tenancy.enterprise_id", ADMIN, "POST",
     path("/api/v1/zone/carriers/{carrier}/tenancies"),
     lambda w: {"enterprise_id": UNKNOWN_UUID, "area": 10}, "enterprise_id"),
    ("zone.project.investor_enterprise_id", ADMIN, "POST", path("/api/v1/zone/projects"),
     lambda w: project(investor_enterprise_id=UNKNOWN_UUID), "investor_enterprise_id"),
    ("zone.project.department_id", ADMIN, "POST", path("/api/v1/zone/projects"),
     lambda w: project(department_id=UNKNOWN), "department_id"),
    ("zone.institute.host_enterprise_id", ADMIN, "POST", path("/api/v1/zone/institutes"),
     lambda w: institute(host_kind="enterprise", host_name=None,
                         host_enterprise_id=UNKNOWN_UUID), "host_enterprise_id"),
    ("zone.institute.partner_enterprise_ids", ADMIN, "POST", path("/api/v1/zone/institutes"),
     lambda w: institute(partner_enterprise_ids=[UNKNOWN_UUID]), "partner_enterprise_ids"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_an_unknown_referenced_id_is_a_422_naming_the_field(client, world, case):
    _, who, method, where, make_body, field = case
    role, claims = who(world)
    headers = bearer(world["tok"](role, **claims))
    answer = client.request(method, where(world), json=make_body(world), headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert field in named_fields(problem), problem
    assert problem["code"] != "validation_failed" or problem["errors"]


def test_a_foreign_key_the_service_did_not_check_is_still_a_422_naming_the_column(db):
    """The safety net behind the services' own checks (common/errors.unknown_reference, used
    by every service's RPC entrypoint): the database's refusal becomes a 422 naming the
    column, with a stable code."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from common.errors import ValidationFailed, unknown_reference

    with pytest.raises(IntegrityError) as raised, db.begin() as conn:
        conn.execute(text("UPDATE enterprise.enterprises SET incubator_id = 'NOPE' "
                          "WHERE id = (SELECT id FROM enterprise.enterprises LIMIT 1)"))
    refusal = unknown_reference(raised.value)
    assert isinstance(refusal, ValidationFailed) and refusal.status == 422
    assert refusal.code == "reference.not_found"
    assert list(refusal.errors) == ["incubator_id"]
    assert refusal.errors["incubator_id"][0]["code"] == "reference.not_found"
    assert unknown_reference(ValueError("not a database error")) is None
