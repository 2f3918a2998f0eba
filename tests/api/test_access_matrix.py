"""The authorisation matrix: every route x every role x own/other resource, generated from
``Endpoint.roles`` and ``gateway.routes.visibility`` (the one table kept beside the routes),
against the running platform.

Layer 1: every guarded route answers 401 without a token and 403 to a role not listed.
Layer 2: every read (and the idempotent ``POST /inbox/{message_id}/read``) of one resource,
for every role that may call it, on three samples of its kind: the caller's own ("own", the A
side), another's that is not public ("other", the B side: a closed listing, a draft policy)
and another's in its public state ("public": a live listing, a published policy; the B side
again for kinds without one). The answer each gets follows from :data:`REACH`.
Layer 3: every write on a resource, for every role whose reach is not ANY, on the other and
public samples: refused (404 when it does not reach it, 403 when it reads but may not
change it), whatever the body; never applied.
Then the issue's explicit promises, which are about fields rather than status codes.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from helpers import SENDS_IF_MATCH, bearer, demand_body, eventually, new_enterprise_id

from common.auth import Principal, Role, mint_token
from common.calendar import SHANGHAI
from common.config import DEV_JWT_SECRET
from gateway.endpoints import ALL_ROLES, Endpoint
from gateway.routes import API_ENDPOINTS
from gateway.routes.visibility import REACH, Reach, reach

PARAMS = re.compile(r"{(\w+)}")
GUARDED = [e for e in API_ENDPOINTS if e.roles is not None]
# two demo grids and two departments: "own" is the A side, "other" and "public" the B side
GRID_A, GRID_B = "GEO01", "GEO02"
DEPT_A, DEPT_B = "finance", "taxation"
SIDES = ("own", "other", "public")
#: writes that only mark the caller's own state, safe to call on the own sample
IDEMPOTENT = {("POST", "/api/v1/inbox/{message_id}/read")}
#: what a read answers, by reach and sample
READ_ANSWER: dict[Reach, dict[str, int]] = {
    Reach.ANY: {"own": 200, "other": 200, "public": 200},
    Reach.OWN: {"own": 200, "other": 404, "public": 404},
    Reach.PUBLIC: {"own": 200, "other": 404, "public": 200},
    Reach.OWN_ELSE_403: {"own": 200, "other": 404, "public": 403},
    Reach.NONE: {"own": 403, "other": 403, "public": 403},
}

Sample = str | dict[str, str]  # one id, or one per audience ("enterprise" / "staff")
World = dict[str, dict[str, Sample]]


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


# --- the world: one resource of each kind on each side -----------------------------------------

def _demo_enterprises(db, grid: str, count: int) -> list[str]:
    from sqlalchemy import text
    with db.connect() as conn:
        return [str(i) for i in conn.execute(text(
            "SELECT id FROM enterprise.enterprises WHERE grid_id = :g AND in_scope "
            "ORDER BY credit_code LIMIT :n"), {"g": grid, "n": count}).scalars()]


def _account(db, username: str) -> str:
    from sqlalchemy import text
    with db.connect() as conn:
        return str(conn.execute(text("SELECT id FROM enterprise.accounts WHERE username = :u"),
                                {"u": username}).scalar_one())


def _headers(role: Role, **claims: Any) -> dict[str, str]:
    claims.setdefault("user_id", f"matrix-{role}")
    return bearer(mint_token(Principal(role=role, **claims), DEV_JWT_SECRET, 900))


def _finished_export(client: httpx.Client, headers: dict[str, str]) -> str:
    """A ledger export of the account in ``headers``, built to its end (its file readable)."""
    started = _created(client.post("/api/v1/ledger/exports", headers=headers,
                                   json={"view": "problems"}), 202)
    url = f"/api/v1/exports/{started['id']}"
    assert eventually(lambda: client.get(url, headers=headers).json()["status"] == "done",
                      timeout=60), client.get(url, headers=headers).text
    return started["id"]


def _finished_import(client: httpx.Client, headers: dict[str, str]) -> str:
    """An import job (a dry run of a file with one row) of the account in ``headers``, done."""
    from test_importer import HEADER, make_xlsx, sample_rows

    from services.enterprise.spreadsheet import XLSX_MIME

    started = _created(client.post(
        "/api/v1/enterprises/imports", params={"dry_run": "true"},
        content=make_xlsx(HEADER, sample_rows(1, "130299")),
        headers=headers | {"Content-Type": XLSX_MIME}), 202)
    url = f"/api/v1/imports/{started['id']}"
    assert eventually(lambda: client.get(url, headers=headers).json()["status"] == "done",
                      timeout=60), client.get(url, headers=headers).text
    return started["id"]


def _created(answer: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    return answer.json()


class Builder:
    """Creates the world's resources through the gateway, as the staff who would."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.coordinator = _headers(Role.COORDINATOR, department_id="economic_development")
        self.admin = _headers(Role.ADMIN)

    def handling(self, enterprise: str, dept: str) -> dict[str, str]:
        post = self.client.post
        demand = _created(post("/api/v1/demands", headers=self.coordinator, json=demand_body(
            channel="service_window", enterprise_id=enterprise)))
        triaged = _created(post(f"/api/v1/demands/{demand['id']}/triage",
                                headers=self.coordinator, json={
                                    "category": "finance", "proposed_opinion": "请办理",
                                    "departments": [{"department_id": dept,
                                                     "opinion": "请办理"}]}), 200)
        contract = _created(post("/api/v1/contracts", headers=self.coordinator, json={
            "enterprise_id": enterprise, "title": "入园协议", "department_id": dept,
            "signed_on": date.today().isoformat(), "obligations": [{
                "party": "committee", "description": "配套道路完工",
                "due_on": (date.today() + timedelta(days=90)).isoformat()}]}))
        visit = _created(post("/api/v1/visits", headers=self.coordinator, json={
            "enterprise_id": enterprise, "visited_on": date.today().isoformat()}))
        return {"demand_id": demand["id"], "task_id": triaged["tasks"][0]["id"],
                "contract_id": contract["id"], "visit_id": visit["id"],
                "obligation_id": contract["obligations"][0]["id"]}

    def listing(self, enterprise: str, title: str, *, closed: bool) -> str:
        owner = _headers(Role.ENTERPRISE, enterprise_id=enterprise)
        listing = _created(self.client.post("/api/v1/listings", headers=owner, json={
            "side": "supply", "title": title, "category": "processing",
            "valid_until": (date.today() + timedelta(days=30)).isoformat()}))
        if closed:
            _created(self.client.post(f"/api/v1/listings/{listing['id']}/close",
                                      headers=owner), 200)
        return listing["id"]

    def docking(self, requester: str, listing_id: str) -> str:
        return _created(self.client.post(
            "/api/v1/dockings", headers=_headers(Role.ENTERPRISE, enterprise_id=requester),
            json={"listing_id": listing_id, "message": "想了解合作方式"}))["id"]

    def policy(self, dept: str, enterprise: str, *, publish: bool) -> str:
        policy = _created(self.client.post("/api/v1/policies", headers=self.admin, json={
            "kind": "notice", "title": f"{dept}专项通知", "body": "请按时申报。",
            "department_id": dept, "audience": {"enterprise_ids": [enterprise]}}))
        if publish:
            _created(self.client.post(f"/api/v1/policies/{policy['id']}/publish",
                                      headers=self.admin), 200)
        return policy["id"]

    def meeting(self, dept: str, grid: str, enterprise: str) -> str:
        starts = (datetime.now(UTC) + timedelta(days=5)).astimezone(SHANGHAI)
        meeting = _created(self.client.post("/api/v1/meetings", headers=self.admin, json={
            "theme": "政企座谈", "starts_at": starts.isoformat(timespec="seconds"),
            "place": "管委会会议室", "organiser_department_id": dept,
            "audience": {"grid_ids": [grid], "enterprise_ids": [enterprise]}}))
        _created(self.client.post(f"/api/v1/meetings/{meeting['id']}/invite",
                                  headers=self.admin), 200)
        return meeting["id"]

    def zone(self, side: str) -> dict[str, str]:
        """区域资源 samples (shared inside the committee: every staff member reaches each)."""
        run = f"{side}{uuid.uuid4().hex[:6]}"
        post = self.client.post
        carrier = _created(post("/api/v1/zone/carriers", headers=self.admin, json={
            "name": f"矩阵载体{run}", "kind": "office_building", "leasable_area": 1000}))
        project = _created(post("/api/v1/zone/projects", headers=self.admin, json={
            "name": f"矩阵项目{run}", "investor_name": f"青岛矩阵投资{run}有限公司",
            "site_address": "高新区矩阵路1号", "planned_investment": 1000}))
        institute = _created(post("/api/v1/zone/institutes", headers=self.admin, json={
            "name": f"矩阵研究院{run}", "level": "municipal", "host_kind": "university",
            "host_name": "矩阵大学"}))
        industry = _created(post("/api/v1/zone/industries", headers=self.admin, json={
            "id": f"matrix_{run}", "name": f"矩阵产业{run}", "industry_codes": ["C39"]}))
        return {"carrier_id": carrier["id"], "project_id": project["id"],
                "institute_id": institute["id"], "industry_id": industry["id"]}

    def message(self, headers: dict[str, str], kind: str) -> str:
        def find() -> str | None:
            page = self.client.get("/api/v1/inbox", headers=headers,
                                   params={"per_page": 200}).json()
            return next((m["id"] for m in page["items"] if m["kind"] == kind), None)
        found = eventually(find, timeout=10)
        assert found, f"no {kind} message arrived"
        return found


@pytest.fixture(scope="module")
def world(db, infrastructure, platform) -> World:
    """Samples of every kind: the callers' own (A side), another's not public and another's
    public (B side). Every caller's account is liaison.finance's; liaison.taxation's is the
    other account, and their inboxes the staff samples of messages."""
    (ent_a,) = _demo_enterprises(db, GRID_A, 1)
    ent_b, ent_b2 = _demo_enterprises(db, GRID_B, 2)
    accounts = {side: _account(db, f"liaison.{dept}")
                for side, dept in (("own", DEPT_A), ("other", DEPT_B))}
    with httpx.Client(base_url=platform.gateway_url(), timeout=30, **SENDS_IF_MATCH) as client:
        make = Builder(client)
        own: dict[str, Sample] = {"enterprise_id": ent_a, **make.handling(ent_a, DEPT_A),
                                  **make.zone("a")}
        other: dict[str, Sample] = {"enterprise_id": ent_b, **make.handling(ent_b, DEPT_B),
                                    **make.zone("b")}
        # listings: A's closed one; B's closed one and B's live one (the board). Dockings: A
        # asked about B's live listing; B2 (B's grid) asked about it too. Policies: A's
        # department's published to A; B's department's draft, and one published to B.
        live_b = make.listing(ent_b, "提供激光切割加工", closed=False)
        own |= {"listing_id": make.listing(ent_a, "提供仓储服务", closed=True),
                "docking_id": make.docking(ent_a, live_b),
                "policy_id": make.policy(DEPT_A, ent_a, publish=True),
                "meeting_id": make.meeting(DEPT_A, GRID_A, ent_a)}
        other |= {"listing_id": make.listing(ent_b, "提供冷链运输", closed=True),
                  "docking_id": make.docking(ent_b2, live_b),
                  "policy_id": make.policy(DEPT_B, ent_b, publish=False),
                  "meeting_id": make.meeting(DEPT_B, GRID_B, ent_b)}
        public = {"listing_id": live_b, "policy_id": make.policy(DEPT_B, ent_b, publish=True)}
        for side, ent, dept in (("own", ent_a, DEPT_A), ("other", ent_b, DEPT_B)):
            sample = own if side == "own" else other
            sample |= {
                "account_id": accounts[side], "department_id": dept,
                "code": "finance" if side == "own" else "talent",
                "grid_id": GRID_A if side == "own" else GRID_B,
                "year": str(date.today().year - (0 if side == "own" else 1)),
                "export_id": _finished_export(client, _headers(
                    Role.LIAISON, user_id=accounts[side], department_id=dept)),
                "import_id": _finished_import(client, _headers(
                    Role.COORDINATOR, user_id=accounts[side],
                    department_id="economic_development")),
                "message_id": {
                    "enterprise": make.message(_headers(Role.ENTERPRISE, enterprise_id=ent),
                                               "policy_published"),
                    "staff": make.message(_headers(Role.LIAISON, user_id=accounts[side],
                                                   department_id=dept), "task_assigned")},
            }
    return {"own": own, "other": other, "public": public}


def _caller(world: World, role: Role) -> dict[str, str]:
    """A caller of ``role`` whose own things are the A side."""
    claims: dict[str, object] = {
        Role.ENTERPRISE: {"enterprise_id": world["own"]["enterprise_id"]},
        Role.GRID_WORKER: {"grid_ids": (GRID_A,)},
        Role.GRID_LEADER: {"grid_ids": (GRID_A,)},
        Role.LIAISON: {"department_id": DEPT_A},
        Role.DEPARTMENT_HEAD: {"department_id": DEPT_A},
        Role.COORDINATOR: {"department_id": "economic_development"},
    }.get(role, {})
    return _headers(role, user_id=world["own"]["account_id"], **claims)


def _sides(world: World, param: str) -> tuple[str, ...]:
    """The samples of a kind: "public" only for kinds with a public state."""
    return SIDES if param in world["public"] else SIDES[:2]


def _sample(world: World, side: str, param: str, role: Role) -> str:
    value = world[side][param]
    if isinstance(value, dict):
        return value["enterprise" if role == Role.ENTERPRISE else "staff"]
    return value


# --- layer 2: reads of own, other and public resources -------------------------------------------

def _one_resource(endpoint: Endpoint) -> bool:
    return len(PARAMS.findall(endpoint.path)) == 1


READS = [e for e in GUARDED if _one_resource(e)
         and (e.method == "GET" or (e.method, e.path) in IDEMPOTENT)]


@pytest.mark.parametrize("endpoint", READS, ids=_id)
def test_each_role_reaches_its_own_resources_and_no_others(client, world, endpoint: Endpoint):
    (param,) = PARAMS.findall(endpoint.path)
    wrong = []
    for role in sorted(endpoint.roles):
        headers = _caller(world, role)
        expected = READ_ANSWER[reach(endpoint.method, endpoint.path, param, role)]
        for side in _sides(world, param):
            url = _filled(endpoint.path, _sample(world, side, param, role))
            answer = client.request(endpoint.method, url, headers=headers)
            if answer.status_code != expected[side]:
                wrong.append((str(role), side, expected[side], answer.status_code,
                              answer.text[:200]))
    assert not wrong, wrong


def test_every_path_resource_has_a_row_and_every_read_a_sample(world):
    """A new kind of resource in a path must get a row in the visibility table, and the world
    a sample of it when a route reads it."""
    params = {p for e in GUARDED for p in PARAMS.findall(e.path)}
    missing = params - set(REACH)
    assert not missing, f"add these to gateway/routes/visibility.py REACH: {sorted(missing)}"
    read = {PARAMS.findall(e.path)[0] for e in READS}
    assert read <= set(world["own"]) & set(world["other"]), read - set(world["own"])


# --- layer 3: writes on others' resources -----------------------------------------------------

#: a valid body for each write on a resource (the gateway validates before any service decides)
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/api/v1/enterprises/{enterprise_id}"): {"address": "高新区改址路9号"},
    ("POST", "/api/v1/enterprises/{enterprise_id}/scope"): {
        "in_scope": False, "reason": "moved_out", "effective_on": date.today().isoformat()},
    ("POST", "/api/v1/enterprises/{enterprise_id}/profile"): {
        "year": date.today().year - 1, "indicator": "revenue", "value": 1,
        "source": "self_report"},
    ("POST", "/api/v1/demands/{demand_id}/rating"): {"efficiency": 1, "attitude": 1,
                                                     "quality": 1},
    ("POST", "/api/v1/tasks/{task_id}/return"): {"reason": "不属本部门"},
    ("POST", "/api/v1/tasks/{task_id}/notes"): {"body": "越权备注", "visibility": "internal"},
    ("POST", "/api/v1/tasks/{task_id}/extensions"): {"workdays": 3, "reason": "越权延期"},
    ("POST", "/api/v1/tasks/{task_id}/complete"): {"result": "越权办结"},
    ("POST", "/api/v1/tasks/{task_id}/report"): {"text": "越权书面报告"},
    ("PATCH", "/api/v1/policies/{policy_id}"): {"title": "越权修改"},
    ("POST", "/api/v1/policies/{policy_id}/withdraw"): {"reason": "越权撤回"},
    ("PATCH", "/api/v1/listings/{listing_id}"): {"title": "越权修改"},
    ("POST", "/api/v1/dockings/{docking_id}/accept"): {"message": "越权接受"},
    ("POST", "/api/v1/dockings/{docking_id}/decline"): {"message": "越权拒绝"},
    ("PATCH", "/api/v1/meetings/{meeting_id}"): {"place": "越权地点"},
    ("PUT", "/api/v1/meetings/{meeting_id}/registration"): {"response": "registered"},
    ("PUT", "/api/v1/meetings/{meeting_id}/attendance"): {"attended": []},
    ("POST", "/api/v1/meetings/{meeting_id}/feedback"): {"rating": 1},
    ("POST", "/api/v1/meetings/{meeting_id}/cancel"): {"reason": "越权取消"},
}


def _scoped_roles(endpoint: Endpoint) -> list[Role]:
    """The roles that may call ``endpoint`` but reach only some of its resources."""
    param = PARAMS.findall(endpoint.path)[-1]  # the resource acted on
    return [r for r in sorted(endpoint.roles)
            if reach(endpoint.method, endpoint.path, param, r) != Reach.ANY]


WRITES = [e for e in GUARDED if e.method != "GET" and (e.method, e.path) not in IDEMPOTENT
          and PARAMS.search(e.path) and _scoped_roles(e)]


def _write_param(endpoint: Endpoint) -> Any:
    return pytest.param(endpoint, id=_id(endpoint))


def _write_answer(read: int) -> int:
    """A write where the read answers ``read``: what the caller sees it may not change."""
    return 403 if read == 200 else read


@pytest.mark.parametrize("endpoint", [_write_param(e) for e in WRITES])
def test_no_role_changes_a_resource_beyond_its_reach(client, world, endpoint: Endpoint):
    params = PARAMS.findall(endpoint.path)
    assert endpoint.body is None or (endpoint.method, endpoint.path) in BODIES, \
        "give this write a valid body in BODIES"
    wrong = []
    for role in _scoped_roles(endpoint):
        expected = READ_ANSWER[reach(endpoint.method, endpoint.path, params[-1], role)]
        for side in _sides(world, params[-1])[1:]:
            url = endpoint.path
            for param in params:
                url = url.replace(f"{{{param}}}", _sample(world, side, param, role))
            answer = client.request(endpoint.method, url, headers=_caller(world, role),
                                    json=BODIES.get((endpoint.method, endpoint.path), {}))
            if answer.status_code != _write_answer(expected[side]):
                wrong.append((str(role), side, _write_answer(expected[side]),
                              answer.status_code, answer.text[:200]))
    assert not wrong, wrong


# --- the promises, field by field -----------------------------------------------------

def _contacts(phone: str) -> list[dict[str, str]]:
    return [{"name": "对接联系人", "title": "经理", "phone": phone, "email": f"{phone}@example.cn"}]


def test_an_enterprise_never_sees_another_enterprises_demand_profile_or_contacts(client,
                                                                                 world):
    """Contacts are never on the board; a docking shows them to its two parties only, and only
    once the listing's enterprise accepted. Another enterprise's demand, timeline and profile
    do not exist for an enterprise."""
    mine = _caller(world, Role.ENTERPRISE)
    for path in ("/api/v1/demands/{}", "/api/v1/demands/{}/timeline"):
        assert client.get(path.format(world["other"]["demand_id"]),
                          headers=mine).status_code == 404
    for path in ("/api/v1/enterprises/{}", "/api/v1/enterprises/{}/profile"):
        assert client.get(path.format(world["other"]["enterprise_id"]),
                          headers=mine).status_code == 404
    seller_phone, buyer_phone = "13900000081", "13900000082"
    seller = new_enterprise_id(name="青岛矩阵供方科技有限公司", contacts=_contacts(seller_phone))
    buyer = new_enterprise_id(name="青岛矩阵需方制造有限公司", contacts=_contacts(buyer_phone))
    as_seller = _headers(Role.ENTERPRISE, enterprise_id=seller)
    as_buyer = _headers(Role.ENTERPRISE, enterprise_id=buyer)
    listing = _created(client.post("/api/v1/listings", headers=as_seller, json={
        "side": "supply", "title": "提供矩阵测试加工服务", "category": "processing",
        "valid_until": (date.today() + timedelta(days=30)).isoformat()}))
    board = [client.get(f"/api/v1/listings/{listing['id']}", headers=as_buyer),
             client.get(f"/api/v1/listings/{listing['id']}/matches", headers=as_buyer),
             client.get("/api/v1/listings/search", headers=as_buyer,
                        params={"q": "矩阵测试加工"})]
    for answer in board:
        assert answer.status_code == 200, answer.text
        assert seller_phone not in answer.text and "contacts" not in answer.text
    docking = _created(client.post("/api/v1/dockings", headers=as_buyer, json={
        "listing_id": listing["id"], "message": "想了解加工能力"}))
    url = f"/api/v1/dockings/{docking['id']}"
    for party in (as_buyer, as_seller):
        before = client.get(url, headers=party)
        assert before.status_code == 200 and before.json()["contacts"] is None, before.text
        assert seller_phone not in before.text and buyer_phone not in before.text
    bystanders = (mine, _caller(world, Role.GRID_WORKER), _caller(world, Role.GRID_LEADER))
    for bystander in bystanders:
        assert client.get(url, headers=bystander).status_code == 404
    assert client.post(f"{url}/accept", headers=as_buyer, json={}).status_code == 403
    accepted = client.post(f"{url}/accept", headers=as_seller, json={"message": "欢迎"})
    assert accepted.status_code == 200, accepted.text
    seen_by_buyer = client.get(url, headers=as_buyer).json()["contacts"]
    assert seen_by_buyer["owner"][0]["phone"] == seller_phone
    assert client.get(url, headers=as_seller).json()["contacts"]["requester"][0]["phone"] \
        == buyer_phone
    for bystander in bystanders:
        assert client.get(url, headers=bystander).status_code == 404
    again = client.get(f"/api/v1/listings/{listing['id']}", headers=mine)
    assert again.status_code == 200 and seller_phone not in again.text


def test_a_liaison_never_reads_another_departments_internal_notes(client, world):
    """Internal notes (内部备注) stay with the department that wrote them, the coordinators,
    leaders and admins: not the grid staff, not the enterprise's timeline, and not the liaison
    of the department the task moves to."""
    coordinator = _caller(world, Role.COORDINATOR)
    enterprise = world["own"]["enterprise_id"]
    demand = _created(client.post("/api/v1/demands", headers=coordinator, json=demand_body(
        channel="service_window", enterprise_id=enterprise)))
    task = _created(client.post(f"/api/v1/demands/{demand['id']}/triage", headers=coordinator,
                                json={"category": "finance", "proposed_opinion": "请办理",
                                      "departments": [{"department_id": DEPT_A,
                                                       "opinion": "请办理"}]}), 200)["tasks"][0]
    notes = f"/api/v1/tasks/{task['id']}/notes"
    liaison_a = _caller(world, Role.LIAISON)
    secret, shared = f"内部-{uuid.uuid4().hex[:8]}", f"公开-{uuid.uuid4().hex[:8]}"
    for body, visibility in ((secret, "internal"), (shared, "public")):
        _created(client.post(notes, headers=liaison_a,
                             json={"body": body, "visibility": visibility}))
    liaison_b = _headers(Role.LIAISON, department_id=DEPT_B)
    assert client.get(notes, headers=liaison_b).status_code == 404  # not yet theirs
    _created(client.post(f"/api/v1/tasks/{task['id']}/return", headers=liaison_a,
                         json={"reason": "应由税务部门办理"}), 200)
    _created(client.post(f"/api/v1/tasks/{task['id']}/reassign", headers=coordinator,
                         json={"department_id": DEPT_B, "reason": "改由税务部门办理"}), 200)

    def bodies(headers: dict[str, str]) -> set[str]:
        answer = client.get(notes, headers=headers)
        assert answer.status_code == 200, answer.text
        return {n["body"] for n in answer.json()["items"]}

    assert bodies(liaison_b) == {shared}  # the task is theirs now; the note is not
    assert bodies(_headers(Role.DEPARTMENT_HEAD, department_id=DEPT_B)) == {shared}
    assert bodies(_caller(world, Role.GRID_WORKER)) == {shared}
    for reader in (coordinator, _caller(world, Role.LEADER), _caller(world, Role.ADMIN)):
        assert bodies(reader) == {secret, shared}
    timeline = client.get(f"/api/v1/demands/{demand['id']}/timeline",
                          headers=_caller(world, Role.ENTERPRISE))
    assert timeline.status_code == 200 and secret not in timeline.text
    assert shared in timeline.text
