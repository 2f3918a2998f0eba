"""The authorisation matrix: every route x every role x own/other resource, generated from
``Endpoint.roles`` and ``gateway.routes.visibility`` (the one table kept beside the routes),
against the running platform."""

from __future__ import annotations

import re
import uuid
from datetime import date

import httpx
import pytest
from helpers import bearer, demand_body

from common.auth import Role
from gateway.endpoints import ALL_ROLES, Endpoint
from gateway.routes import API_ENDPOINTS
from gateway.routes.visibility import Reach, reach

PARAMS = re.compile(r"{(\w+)}")
GUARDED = [e for e in API_ENDPOINTS if e.roles is not None]
# two demo grids and two departments: "own" is the A side, "other" the B side
GRID_A, GRID_B = "GEO01", "GEO02"
DEPT_A, DEPT_B = "finance", "taxation"


def _id(endpoint: Endpoint) -> str:
    return f"{endpoint.method} {endpoint.path}"


def _filled(path: str, value: str = "00000000-0000-4000-8000-000000000000") -> str:
    return PARAMS.sub(value, path)


# --- layer 1: Endpoint.roles -------------------------------------------------------------------

@pytest.mark.parametrize("endpoint", GUARDED, ids=_id)
def test_no_token_is_401_and_a_role_not_listed_is_403(client, token, endpoint: Endpoint):
    url = _filled(endpoint.path)
    anonymous = client.request(endpoint.method, url, json={})
    assert anonymous.status_code == 401, anonymous.text
    for role in sorted(ALL_ROLES - endpoint.roles):
        claims = {"enterprise_id": str(uuid.uuid4())} if role == Role.ENTERPRISE else {}
        answer = client.request(endpoint.method, url, json={},
                                headers=bearer(token(role, **claims)))
        assert answer.status_code == 403, (role, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"


# --- layer 2: own and other resources ------------------------------------------------------------

def _enterprise_in(db, grid: str) -> str:
    from sqlalchemy import text
    with db.connect() as conn:
        return str(conn.execute(text(
            "SELECT id FROM enterprise.enterprises WHERE grid_id = :g AND in_scope "
            "ORDER BY credit_code LIMIT 1"), {"g": grid}).scalar_one())


@pytest.fixture(scope="module")
def world(db, infrastructure, platform) -> dict[str, dict[str, str]]:
    """One resource of each kind on the A side (the callers' own) and on the B side."""
    from common.auth import Principal, mint_token
    from common.config import DEV_JWT_SECRET

    coordinator = bearer(mint_token(Principal(user_id="matrix-coordinator",
                                              role=Role.COORDINATOR,
                                              department_id="economic_development"),
                                    DEV_JWT_SECRET, 900))
    sides: dict[str, dict[str, str]] = {}
    with httpx.Client(base_url=platform.gateway_url(), timeout=30) as client:
        for side, grid, dept in (("own", GRID_A, DEPT_A), ("other", GRID_B, DEPT_B)):
            enterprise = _enterprise_in(db, grid)
            demand = client.post("/api/v1/demands", headers=coordinator, json=demand_body(
                channel="service_window", enterprise_id=enterprise))
            assert demand.status_code == 201, demand.text
            demand_id = demand.json()["id"]
            triaged = client.post(f"/api/v1/demands/{demand_id}/triage", headers=coordinator,
                                  json={"category": "finance", "proposed_opinion": "请办理",
                                        "departments": [{"department_id": dept,
                                                         "opinion": "请办理"}]})
            assert triaged.status_code == 200, triaged.text
            contract = client.post("/api/v1/contracts", headers=coordinator, json={
                "enterprise_id": enterprise, "title": "入园协议", "department_id": dept,
                "signed_on": date.today().isoformat()})
            assert contract.status_code == 201, contract.text
            visit = client.post("/api/v1/visits", headers=coordinator, json={
                "enterprise_id": enterprise, "visited_on": date.today().isoformat()})
            assert visit.status_code == 201, visit.text
            sides[side] = {"enterprise_id": enterprise, "demand_id": demand_id,
                           "task_id": triaged.json()["tasks"][0]["id"],
                           "contract_id": contract.json()["id"], "visit_id": visit.json()["id"]}
    return sides


def _caller(token, role: Role, world) -> dict[str, str]:
    """A caller of ``role`` whose own things are the A side."""
    claims: dict[str, object] = {
        Role.ENTERPRISE: {"enterprise_id": world["own"]["enterprise_id"]},
        Role.GRID_WORKER: {"grid_ids": (GRID_A,)},
        Role.GRID_LEADER: {"grid_ids": (GRID_A,)},
        Role.LIAISON: {"department_id": DEPT_A},
        Role.DEPARTMENT_HEAD: {"department_id": DEPT_A},
        Role.COORDINATOR: {"department_id": "economic_development"},
    }.get(role, {})
    return bearer(token(role, **claims))


def _readable(endpoint: Endpoint) -> bool:
    from gateway.routes.visibility import REACH
    params = PARAMS.findall(endpoint.path)
    return (endpoint.method == "GET" and len(params) == 1 and params[0] in REACH)


READS = [e for e in GUARDED if _readable(e)]


@pytest.mark.parametrize("endpoint", READS, ids=_id)
def test_each_role_reaches_its_own_resources_and_no_others(client, token, world,
                                                           endpoint: Endpoint):
    (param,) = PARAMS.findall(endpoint.path)
    for role in sorted(endpoint.roles):
        headers = _caller(token, role, world)
        expected = reach(endpoint.method, endpoint.path, param, role)
        for side in ("own", "other"):
            url = _filled(endpoint.path, world[side][param])
            answer = client.get(url, headers=headers)
            if expected == Reach.NONE:
                want = 403
            elif expected == Reach.OWN and side == "other":
                want = 404
            else:
                want = 200
            assert answer.status_code == want, (role, side, answer.text[:300])


def test_every_path_resource_has_a_row_or_is_covered_elsewhere():
    """A new kind of resource in a path must get a row in the visibility table (or be named
    here with the test module that checks its scoping)."""
    from gateway.routes.visibility import REACH
    covered_elsewhere = {
        "account_id": "test_accounts_api", "department_id": "public to staff",
        "grid_id": "test_registry_api", "code": "admin only", "year": "calendar, not scoped",
        "category": "admin only", "difficulty": "admin only", "message_id": "test_notifications",
        "delivery_id": "admin only", "extension_id": "coordinators only",
        "obligation_id": "test_contracts_api",
        "listing_id": "test_listings_api (live: everyone; else its enterprise, grid, staff)",
        "docking_id": "test_listings_api (its two parties and staff)",
        "policy_id": "test_policies (enterprise: addressed only; drafts: the department)",
        "meeting_id": "test_meetings_api",
    }
    params = {p for e in GUARDED for p in PARAMS.findall(e.path)}
    missing = params - set(REACH) - set(covered_elsewhere)
    assert not missing, f"add these to gateway/routes/visibility.py REACH: {sorted(missing)}"
