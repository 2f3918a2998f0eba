"""Policy publishing (政策发布): the domain rules on their own (drafts, publishing once, who sees
what, reach, receipts, search), then through the gateway against the running platform: a
policy for industry C39 in one grid reaches exactly that grid's in-scope C39 enterprises, and
its reach statistics say so."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from conftest import METRICS_PORTS
from helpers import bearer, eventually, named_fields, new_enterprise_id
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from common.errors import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from services.notification import policies, templates
from services.notification.models import ChannelPreference, Delivery, InboxMessage

pytestmark = pytest.mark.timeout(180)

LIAISON = Principal(user_id="liaison-fin", role=Role.LIAISON, department_id="finance")
HEAD = Principal(user_id="head-fin", role=Role.DEPARTMENT_HEAD, department_id="finance")
OTHER_LIAISON = Principal(user_id="liaison-tax", role=Role.LIAISON, department_id="taxation")
COORDINATOR = Principal(user_id="coord", role=Role.COORDINATOR,
                        department_id="economic_development")
ADMIN = Principal(user_id="admin", role=Role.ADMIN)
LEADER = Principal(user_id="leader", role=Role.LEADER)
GRID_WORKER = Principal(user_id="gw", role=Role.GRID_WORKER, grid_ids=("INC01",))


def enterprise(eid: str) -> Principal:
    return Principal(user_id=f"user-of-{eid[:8]}", role=Role.ENTERPRISE, enterprise_id=eid)


def members(n: int, grid: str = "INC01", code: str = "C3911") -> list[dict]:
    return [{"id": str(uuid.uuid4()), "name": f"企业{i}", "grid_id": grid, "industry_code": code}
            for i in range(n)]


def draft(**overrides) -> dict:
    data = {"kind": "policy", "title": "关于支持集成电路产业发展的若干政策",
            "body": "为加快集成电路产业发展，对符合条件的企业给予研发费用补贴。",
            "attachments": [{"name": "申报指南.pdf", "url": "https://example.org/guide.pdf",
                             "size": 102400, "media_type": "application/pdf"}],
            "valid_from": None, "valid_until": None, "audience": {"industry_codes": ["C39"]}}
    data.update(overrides)
    return data


@pytest.fixture
def session(db) -> Iterator[Session]:
    with Session(db) as s, s.begin():
        yield s


def new_draft(session: Session, principal: Principal = LIAISON, **overrides):
    return policies.create(session, principal, draft(**overrides), "finance", "财政金融部")


def inbox_of(session: Session, eid: str, event_id: str) -> list[InboxMessage]:
    return list(session.execute(select(InboxMessage).where(
        InboxMessage.recipient == f"enterprise:{eid}",
        InboxMessage.event_id == event_id)).scalars())


# --------------------------------------------------------------------------- domain rules


def test_who_writes_for_which_department():
    assert policies.issuing_department(LIAISON, None) == "finance"
    assert policies.issuing_department(HEAD, "finance") == "finance"
    with pytest.raises(Forbidden):
        policies.issuing_department(LIAISON, "taxation")
    assert policies.issuing_department(COORDINATOR, None) == "economic_development"
    assert policies.issuing_department(COORDINATOR, "taxation") == "taxation"
    assert policies.issuing_department(ADMIN, "finance") == "finance"
    with pytest.raises(ValidationFailed) as failed:
        policies.issuing_department(ADMIN, None)
    assert "department_id" in failed.value.errors
    for principal in (GRID_WORKER, LEADER, enterprise(str(uuid.uuid4()))):
        with pytest.raises(Forbidden):
            policies.issuing_department(principal, None)


def test_publishing_delivers_once_per_enterprise_and_freezes_the_draft(session):
    policy = new_draft(session)
    assert (policy.status, policy.version) == ("draft", 1)
    policy = policies.update(session, LIAISON, policy.id, {"title": "新标题", "version": 1})
    assert policy.version == 2
    with pytest.raises(PreconditionFailed):
        policies.update(session, LIAISON, policy.id, {"title": "旧版本上的修改", "version": 1})
    with pytest.raises(ValidationFailed):
        policies.update(session, LIAISON, policy.id, {
            "valid_from": date(2026, 3, 1), "valid_until": date(2026, 2, 1)})
    with pytest.raises(Conflict):  # the audience was resolved for version 1; it is at 2
        policies.publish(session, HEAD, policy.id, 1, members(1))
    audience = members(3)
    policy, delivered = policies.publish(session, HEAD, policy.id, 2, audience)
    assert (policy.status, policy.version, policy.recipient_count, delivered) == (
        "published", 3, 3, 3)
    for m in audience:
        (message,) = inbox_of(session, m["id"], policy.id)
        assert message.kind == "policy_published" and message.link == f"/policies/{policy.id}"
        assert "新标题" in message.title and "财政金融部" in message.body
    # again (a retried publish, even with another audience): nothing new
    again, delivered = policies.publish(session, HEAD, policy.id, 2, members(2))
    assert delivered is None and again.version == 3 and again.recipient_count == 3
    assert session.execute(select(func.count()).select_from(InboxMessage).where(
        InboxMessage.event_id == policy.id)).scalar_one() == 3
    assert policies.check_publishable(session, HEAD, policy.id, 1).status == "published"
    with pytest.raises(Conflict):
        policies.update(session, LIAISON, policy.id, {"title": "发布后不能改"})


def test_a_draft_changed_while_resolving_is_not_published(session):
    policy = new_draft(session)
    policies.update(session, LIAISON, policy.id, {"body": "改过的正文"})
    with pytest.raises(Conflict):
        policies.publish(session, LIAISON, policy.id, 1, members(1))
    with pytest.raises(PreconditionFailed):
        policies.check_publishable(session, LIAISON, policy.id, 1)
    expired = new_draft(session, valid_until=date.today() - timedelta(days=2))
    with pytest.raises(ValidationFailed) as failed:
        policies.check_publishable(session, LIAISON, expired.id)
    assert "valid_until" in failed.value.errors


def test_who_sees_a_policy(session):
    audience = members(2)
    inside, outside = audience[0]["id"], str(uuid.uuid4())
    policy = new_draft(session)
    for principal in (OTHER_LIAISON, LEADER, GRID_WORKER, enterprise(inside)):
        with pytest.raises(NotFound):  # a draft is its department's business
            policies.visible(session, principal, policy.id)
    assert policies.visible(session, COORDINATOR, policy.id).id == policy.id
    with pytest.raises(Forbidden):
        policies.update(session, GRID_WORKER, policy.id, {"title": "x"})
    policies.publish(session, LIAISON, policy.id, 1, audience)
    for principal in (OTHER_LIAISON, LEADER, GRID_WORKER, enterprise(inside)):
        assert policies.visible(session, principal, policy.id).id == policy.id
    with pytest.raises(NotFound):
        policies.visible(session, enterprise(outside), policy.id)
    with pytest.raises(NotFound):
        policies.visible(session, LIAISON, "not-a-uuid")
    with pytest.raises(Forbidden):  # another department may read it, not withdraw it
        policies.withdraw(session, OTHER_LIAISON, policy.id, "不适用")
    with pytest.raises(Forbidden):
        policies.reach(session, OTHER_LIAISON, policy.id)
    with pytest.raises(Forbidden):
        policies.reach(session, GRID_WORKER, policy.id)
    assert policies.reach(session, LEADER, policy.id)["targeted"] == 2


def test_read_receipts_and_reach_by_grid_and_industry(session):
    audience = members(3, "INC01", "C3911") + members(1, "GEO02", "C3821")
    policy = new_draft(session)
    policies.publish(session, LIAISON, policy.id, 1, audience)
    reader = enterprise(audience[0]["id"])
    data, first = policies.get(session, reader, policy.id)
    assert first and data["read_at"] is not None
    _, again = policies.get(session, Principal(user_id="colleague", role=Role.ENTERPRISE,
                                               enterprise_id=audience[0]["id"]), policy.id)
    assert not again  # the enterprise's first read only
    (message,) = inbox_of(session, audience[0]["id"], policy.id)
    assert message.read_at is not None  # opening the policy reads its message too
    (other_message,) = inbox_of(session, audience[3]["id"], policy.id)
    assert policies.read_from_message(session, enterprise(audience[3]["id"]),
                                      other_message) == "policy"
    staff_get, first = policies.get(session, LIAISON, policy.id)
    assert not first and staff_get["read_at"] is None

    reach = policies.reach(session, LIAISON, policy.id)
    assert (reach["targeted"], reach["delivered"], reach["read"]) == (4, 4, 2)
    assert reach["read_rate"] == 0.5
    assert reach["by_grid"] == [{"key": "INC01", "targeted": 3, "read": 1},
                                {"key": "GEO02", "targeted": 1, "read": 1}]
    assert reach["by_industry"] == [{"key": "C39", "targeted": 3, "read": 1},
                                    {"key": "C38", "targeted": 1, "read": 1}]
    read = policies.receipts(session, COORDINATOR, policy.id,
                             {"read": True, "page": 1, "per_page": 50})
    assert read["total"] == 2
    assert {r["read_by"] for r in read["items"]} == {reader.user_id,
                                                     f"user-of-{audience[3]['id'][:8]}"}
    unread = policies.receipts(session, COORDINATOR, policy.id,
                               {"read": False, "grid_id": "INC01", "page": 1, "per_page": 50})
    assert unread["total"] == 2 and all(r["read_at"] is None for r in unread["items"])

    # a grid worker reads the receipts of their grid's enterprises only
    worker = Principal(user_id="worker-inc01", role=Role.GRID_WORKER, grid_ids=("INC01",))
    theirs = policies.receipts(session, worker, policy.id, {"page": 1, "per_page": 50})
    assert theirs["total"] == 3 and {r["grid_id"] for r in theirs["items"]} == {"INC01"}
    not_yet = policies.receipts(session, worker, policy.id,
                                {"read": False, "page": 1, "per_page": 50})
    assert not_yet["total"] == 2
    elsewhere = Principal(user_id="worker-geo09", role=Role.GRID_WORKER, grid_ids=("GEO09",))
    assert policies.receipts(session, elsewhere, policy.id,
                             {"page": 1, "per_page": 50})["total"] == 0
    with pytest.raises(Forbidden):  # the figures stay with the writers and leaders
        policies.reach(session, worker, policy.id)
    draft = new_draft(session)
    with pytest.raises(NotFound):
        policies.receipts(session, worker, draft.id, {"page": 1, "per_page": 50})


def test_enterprises_list_and_search_what_concerns_them(session):
    eid = str(uuid.uuid4())
    me = [{"id": eid, "name": "甲", "grid_id": "INC01", "industry_code": "C39"}]
    today = date.today()
    chips = new_draft(session, title="集成电路流片补贴", body="流片费用按比例补贴。")
    talent = new_draft(session, kind="notice", title="人才公寓申请通知",
                       body="符合条件的博士可申请人才公寓。")
    old = new_draft(session, title="过期的集成电路政策", body="已经过期。",
                    valid_from=today - timedelta(days=30), valid_until=today - timedelta(days=1))
    not_mine = new_draft(session, title="集成电路设计奖励", body="另一批企业。")
    for p in (chips, talent):
        policies.publish(session, LIAISON, p.id, 1, me)
    # published before it expired (the rule is checked when publishing)
    old.valid_until = today + timedelta(days=1)
    policies.publish(session, LIAISON, old.id, 1, me)
    old.valid_until = today - timedelta(days=1)
    session.flush()
    policies.publish(session, LIAISON, not_mine.id, 1, members(1))

    def titles(principal: Principal, **q) -> set[str]:
        page = policies.page(session, principal, {"page": 1, "per_page": 200, **q})
        return {item["title"] for item in page["items"]}

    mine = enterprise(eid)
    assert titles(mine) == {"集成电路流片补贴", "人才公寓申请通知", "过期的集成电路政策"}
    assert titles(mine, q="集成电路") == {"集成电路流片补贴", "过期的集成电路政策"}
    assert titles(mine, q="集成电路", valid_now=True) == {"集成电路流片补贴"}
    assert titles(mine, q="博士") == {"人才公寓申请通知"}  # the body is searched too
    assert titles(mine, kind="notice") == {"人才公寓申请通知"}
    assert titles(mine, q="100%_") == set()  # wildcards are text
    policies.get(session, mine, chips.id)
    assert titles(mine, unread=True) == {"人才公寓申请通知", "过期的集成电路政策"}
    assert "集成电路设计奖励" in titles(LEADER, q="集成电路")
    # drafts: the department's own writers, coordinators and admins
    secret = new_draft(session, title="尚未发布的集成电路草稿")
    assert secret.title in titles(LIAISON, status="draft")
    assert secret.title in titles(COORDINATOR, q="草稿")
    assert secret.title not in titles(OTHER_LIAISON, q="草稿")
    assert secret.title not in titles(LEADER, q="草稿")
    assert titles(mine, status="draft") == titles(mine)  # enterprises see published only


def test_withdrawal_tells_the_recipients_once(session):
    audience = members(2)
    policy = new_draft(session)
    with pytest.raises(Conflict):
        policies.withdraw(session, LIAISON, policy.id, "草稿不能撤回")
    policies.publish(session, LIAISON, policy.id, 1, audience)
    with pytest.raises(PreconditionFailed):
        policies.withdraw(session, LIAISON, policy.id, "有误", expected_version=1)
    policy, told = policies.withdraw(session, LIAISON, policy.id, "政策口径调整")
    assert (policy.status, told) == ("withdrawn", 2)
    assert policies.withdraw(session, LIAISON, policy.id, "再次撤回")[1] == 0
    event = policies.withdrawal_event_id(policy.id)
    (notice,) = inbox_of(session, audience[0]["id"], event)
    assert notice.kind == "policy_withdrawn" and "政策口径调整" in notice.body
    mine = enterprise(audience[0]["id"])
    data, first = policies.get(session, mine, policy.id)  # still readable, as withdrawn
    assert data["status"] == "withdrawn" and not first
    assert policies.page(session, mine, {"page": 1, "per_page": 20})["total"] == 0
    with pytest.raises(Conflict):
        policies.publish(session, LIAISON, policy.id, policy.version, audience)


def test_a_large_audience_is_delivered_set_wise_with_channel_preferences(session):
    audience = members(1200)
    session.add(ChannelPreference(recipient=f"enterprise:{audience[7]['id']}",
                                  channel="email", address="ops@example.org", enabled=True))
    session.flush()
    policy = new_draft(session, kind="notice")
    policy, delivered = policies.publish(session, COORDINATOR, policy.id, 1, audience)
    assert delivered == 1200 and policy.recipient_count == 1200
    queued = session.execute(select(Delivery).join(
        InboxMessage, InboxMessage.id == Delivery.message_id).where(
        InboxMessage.event_id == policy.id)).scalars().all()
    assert [(d.recipient, d.channel) for d in queued] == [
        (f"enterprise:{audience[7]['id']}", "email")]
    session.execute(text("UPDATE notification.deliveries SET state = 'dead' WHERE id = :i"),
                    {"i": queued[0].id})  # keep the running sweep away from it
    assert policies.reach(session, ADMIN, policy.id)["targeted"] == 1200


def test_policy_message_texts():
    title, body, link = templates.policy_published(
        "p1", "notice", "关于开展2026年度高企认定的通知", "申报材料" * 40, "科技创新部",
        date(2026, 3, 1), date(2026, 6, 30), attachments=2)
    assert title == "【通知】关于开展2026年度高企认定的通知" and link == "/policies/p1"
    assert body.startswith("科技创新部发布通知「关于开展2026年度高企认定的通知」")
    assert "…" in body and "2026年03月01日至2026年06月30日" in body and "附件 2 个" in body
    _, body, _ = templates.policy_published("p1", "policy", "标题", "短正文", "财政金融部",
                                            None, date(2026, 6, 30))
    assert "有效期至2026年06月30日" in body and "…" not in body
    title, body, _ = templates.policy_withdrawn("p1", "policy", "标题", "财政金融部", "口径调整")
    assert title.startswith("【政策撤回】") and "口径调整" in body
    assert policies.audience_summary([
        {"id": "a", "grid_id": "INC01", "industry_code": "C3911"},
        {"id": "b", "grid_id": "INC01", "industry_code": "C38"},
        {"id": "c", "grid_id": None, "industry_code": "C3912"}]) == {
        "count": 3,
        "by_grid": [{"key": "INC01", "count": 2}, {"key": None, "count": 1}],
        "by_industry": [{"key": "C39", "count": 2}, {"key": "C38", "count": 1}]}


# --------------------------------------------------------------------------- through the gateway


def staff(token, role: Role, department: str | None = None, **claims) -> dict[str, str]:
    if department:
        claims["department_id"] = department
    return bearer(token(role, **claims))


def body(**overrides) -> dict:
    data = {"kind": "policy", "title": "集成电路企业研发补贴政策",
            "body": "对本网格集成电路企业的研发投入给予补贴，具体办法见附件。",
            "attachments": [{"name": "实施细则.pdf", "url": "https://example.org/rules.pdf",
                             "size": 2048, "media_type": "application/pdf"}],
            "valid_from": date.today().isoformat(),
            "valid_until": (date.today() + timedelta(days=90)).isoformat(),
            "audience": {"grid_ids": ["INC07"], "industry_codes": ["c39"]}}
    data.update(overrides)
    return data


def in_scope_ids(client: httpx.Client, token, **filters) -> set[str]:
    admin = staff(token, Role.ADMIN)
    found: set[str] = set()
    page = 1
    while True:
        answer = client.get("/api/v1/enterprises", headers=admin, params={
            "in_scope": "true", "per_page": 200, "page": page, **filters})
        assert answer.status_code == 200, answer.text
        items = answer.json()["items"]
        found |= {e["id"] for e in items}
        if len(items) < 200:
            return found
        page += 1


def policy_messages(client: httpx.Client, tok: dict[str, str], policy_id: str) -> list[dict]:
    items = client.get("/api/v1/inbox", params={"per_page": 200}, headers=tok).json()["items"]
    return [m for m in items if m["link"] == f"/policies/{policy_id}"
            and m["kind"] == "policy_published"]


@pytest.fixture(scope="module")
def grid_world(platform) -> dict[str, str]:
    """Enterprises registered for the acceptance test: C39 in INC07 (two in scope, one out),
    C38 in INC07, C39 in INC08."""
    return {
        "c39_a": new_enterprise_id(incubator_id="INC07", industry_code="C3911"),
        "c39_b": new_enterprise_id(incubator_id="INC07", industry_code="C39", scale="medium"),
        "c39_out": new_enterprise_id(incubator_id="INC07", industry_code="C3911",
                                     operating=False),
        "c38": new_enterprise_id(incubator_id="INC07", industry_code="C3821"),
        "other_grid": new_enterprise_id(incubator_id="INC08", industry_code="C3911"),
    }


def test_a_c39_policy_for_one_grid_reaches_exactly_its_in_scope_c39_enterprises(
        client, token, grid_world):
    expected = in_scope_ids(client, token, grid_id="INC07", industry="C39")
    assert {grid_world["c39_a"], grid_world["c39_b"]} <= expected
    assert not expected & {grid_world[k] for k in ("c39_out", "c38", "other_grid")}
    head = staff(token, Role.DEPARTMENT_HEAD, "science_innovation")

    preview = client.post("/api/v1/policies/audience/preview", headers=head,
                          json={"grid_ids": ["INC07"], "industry_codes": ["C39"]})
    assert preview.status_code == 200, preview.text
    assert preview.json()["count"] == len(expected)
    assert preview.json()["by_grid"] == [{"key": "INC07", "count": len(expected)}]

    created = client.post("/api/v1/policies", headers=head, json=body())
    assert created.status_code == 201, created.text
    policy = created.json()
    assert created.headers["location"] == f"/api/v1/policies/{policy['id']}"
    assert policy["status"] == "draft" and policy["department_id"] == "science_innovation"
    assert policy["department_name"] == "科技创新部"
    assert policy["audience"] == {"grid_ids": ["INC07"], "industry_codes": ["C39"]}

    published = client.post(f"/api/v1/policies/{policy['id']}/publish", headers=head)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    assert published.json()["recipient_count"] == len(expected)
    assert published.headers["etag"] == f'"{published.json()["version"]}"'

    reach = client.get(f"/api/v1/policies/{policy['id']}/reach", headers=head).json()
    assert (reach["targeted"], reach["delivered"], reach["read"]) == (
        len(expected), len(expected), 0)
    assert reach["by_grid"] == [{"key": "INC07", "targeted": len(expected), "read": 0}]
    assert reach["by_industry"] == [{"key": "C39", "targeted": len(expected), "read": 0}]
    receipts = client.get(f"/api/v1/policies/{policy['id']}/receipts", headers=head,
                          params={"per_page": 200}).json()
    assert {r["enterprise_id"] for r in receipts["items"]} == expected

    # each enterprise of the audience has it in its inbox; the others neither there nor by id
    reader = bearer(token(Role.ENTERPRISE, enterprise_id=grid_world["c39_a"]))
    (message,) = policy_messages(client, reader, policy["id"])
    assert "集成电路企业研发补贴政策" in message["title"] and "科技创新部" in message["body"]
    for key in ("c39_out", "c38", "other_grid"):
        outsider = bearer(token(Role.ENTERPRISE, enterprise_id=grid_world[key]))
        assert policy_messages(client, outsider, policy["id"]) == []
        assert client.get(f"/api/v1/policies/{policy['id']}",
                          headers=outsider).status_code == 404
        listed = client.get("/api/v1/policies", headers=outsider).json()["items"]
        assert policy["id"] not in {p["id"] for p in listed}

    # reading it leaves the enterprise's receipt, and the statistics count it once
    opened = client.get(f"/api/v1/policies/{policy['id']}", headers=reader)
    assert opened.status_code == 200 and opened.json()["read_at"] is not None
    assert client.get(f"/api/v1/policies/{policy['id']}", headers=reader).status_code == 200
    reach = client.get(f"/api/v1/policies/{policy['id']}/reach", headers=head).json()
    assert reach["read"] == 1 and reach["read_rate"] == round(1 / len(expected), 4)
    assert reach["by_grid"] == [{"key": "INC07", "targeted": len(expected), "read": 1}]
    read = client.get(f"/api/v1/policies/{policy['id']}/receipts", headers=head,
                      params={"read": "true"}).json()
    assert [r["enterprise_id"] for r in read["items"]] == [grid_world["c39_a"]]

    # the grid's workers and leader follow up who has not read it; another grid sees nobody
    for role in (Role.GRID_WORKER, Role.GRID_LEADER):
        grid_staff = staff(token, role, grid_ids=["INC07"])
        unread = client.get(f"/api/v1/policies/{policy['id']}/receipts", headers=grid_staff,
                            params={"read": "false", "per_page": 200})
        assert unread.status_code == 200, unread.text
        assert {r["enterprise_id"] for r in unread.json()["items"]} == (
            expected - {grid_world["c39_a"]})
        assert client.post(f"/api/v1/policies/{policy['id']}/withdraw", headers=grid_staff,
                           json={"reason": "网格员不能撤回"}).status_code == 403
    elsewhere = client.get(f"/api/v1/policies/{policy['id']}/receipts",
                           headers=staff(token, Role.GRID_WORKER, grid_ids=["INC08"]))
    assert elsewhere.status_code == 200 and elsewhere.json()["total"] == 0
    assert client.get(f"/api/v1/policies/{policy['id']}/receipts",
                      headers=reader).status_code == 403

    # the other enterprise marks its message read: that is a receipt too
    other = bearer(token(Role.ENTERPRISE, enterprise_id=grid_world["c39_b"]))
    (message,) = policy_messages(client, other, policy["id"])
    assert client.post(f"/api/v1/inbox/{message['id']}/read",
                       headers=other).status_code == 200
    reach = client.get(f"/api/v1/policies/{policy['id']}/reach", headers=head).json()
    assert reach["read"] == 2


def test_roles_and_departments_are_enforced(client, token, grid_world):
    liaison = staff(token, Role.LIAISON, "finance")
    created = client.post("/api/v1/policies", headers=liaison,
                          json=body(audience={"enterprise_ids": [grid_world["c39_a"]]}))
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    assert created.json()["department_id"] == "finance"

    for role in (Role.GRID_WORKER, Role.GRID_LEADER, Role.LEADER):
        tok = staff(token, role, grid_ids=["INC07"]) if role != Role.LEADER else \
            staff(token, role)
        assert client.post("/api/v1/policies", headers=tok, json=body()).status_code == 403
        assert client.post(f"/api/v1/policies/{pid}/publish", headers=tok).status_code == 403
        assert client.post("/api/v1/policies/audience/preview", headers=tok,
                           json={}).status_code == 403
    ent = bearer(token(Role.ENTERPRISE, enterprise_id=grid_world["c39_a"]))
    assert client.post("/api/v1/policies", headers=ent, json=body()).status_code == 403
    assert client.get(f"/api/v1/policies/{pid}/reach", headers=ent).status_code == 403
    assert client.get(f"/api/v1/policies/{pid}", headers=ent).status_code == 404  # a draft

    # another department: not its draft to see, write or publish
    tax = staff(token, Role.LIAISON, "taxation")
    assert client.get(f"/api/v1/policies/{pid}", headers=tax).status_code == 404
    assert client.patch(f"/api/v1/policies/{pid}", headers=tax,
                        json={"title": "改"}).status_code == 404
    assert client.post(f"/api/v1/policies/{pid}/publish", headers=tax).status_code == 404
    wrong = client.post("/api/v1/policies", headers=tax, json=body(department_id="finance"))
    assert wrong.status_code == 403, wrong.text
    admin = staff(token, Role.ADMIN)
    nameless = client.post("/api/v1/policies", headers=admin, json=body())
    assert nameless.status_code == 422 and "department_id" in nameless.json()["errors"]
    unknown = client.post("/api/v1/policies", headers=admin,
                          json=body(department_id="no_such_dept"))
    assert unknown.status_code == 422 and "department_id" in unknown.json()["errors"]

    # bad input is named
    bad = client.post("/api/v1/policies", headers=liaison, json=body(
        kind="memo", title="", audience={"industry_codes": ["Z99"]},
        attachments=[{"name": "a", "url": "ftp://x", "size": -1, "media_type": "pdf"}]))
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    errors = bad.json()["errors"]
    assert {"kind", "title", "audience", "attachments"} <= named_fields(bad.json()), errors
    backwards = client.post("/api/v1/policies", headers=liaison,
                            json=body(valid_until="2020-01-01"))
    assert backwards.status_code == 422 and "valid_until" in backwards.json()["errors"]
    assert client.get(f"/api/v1/policies/{uuid.uuid4()}", headers=liaison).status_code == 404
    assert client.get("/api/v1/policies/nope", headers=liaison).status_code == 404

    # optimistic concurrency: If-Match on PATCH and publish
    stale = client.patch(f"/api/v1/policies/{pid}", headers={**liaison, "If-Match": '"9"'},
                         json={"title": "迟到的修改"})
    assert stale.status_code == 412, stale.text
    changed = client.patch(f"/api/v1/policies/{pid}", headers={**liaison, "If-Match": '"1"'},
                           json={"title": "财政金融部专项通知"})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    assert changed.headers["etag"] == '"2"'
    assert client.post(f"/api/v1/policies/{pid}/publish",
                       headers={**liaison, "If-Match": '"1"'}).status_code == 412
    published = client.post(f"/api/v1/policies/{pid}/publish",
                            headers={**liaison, "If-Match": '"2"'})
    assert published.status_code == 200 and published.json()["recipient_count"] == 1
    assert client.patch(f"/api/v1/policies/{pid}", headers=liaison,
                        json={"title": "发布后"}).status_code == 409
    # published: every staff member reads it; only the department (and leaders) its reach
    assert client.get(f"/api/v1/policies/{pid}", headers=tax).status_code == 200
    assert client.get(f"/api/v1/policies/{pid}/reach", headers=tax).status_code == 403
    assert client.post(f"/api/v1/policies/{pid}/withdraw", headers=tax,
                       json={"reason": "不是我的"}).status_code == 403
    assert client.get(f"/api/v1/policies/{pid}/reach",
                      headers=staff(token, Role.LEADER)).status_code == 200
    gw = staff(token, Role.GRID_WORKER, grid_ids=["INC07"])
    assert client.get(f"/api/v1/policies/{pid}", headers=gw).status_code == 200
    assert client.get(f"/api/v1/policies/{pid}/reach", headers=gw).status_code == 403
    # grid staff read the receipts of their grids' enterprises only
    theirs = client.get(f"/api/v1/policies/{pid}/receipts", headers=gw)
    assert theirs.status_code == 200
    assert all(r["grid_id"] == "INC07" for r in theirs.json()["items"])

    # withdrawal: the enterprise is told, and no longer lists it
    withdrawn = client.post(f"/api/v1/policies/{pid}/withdraw", headers=liaison,
                            json={"reason": "口径调整，另行发布"})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    notices = client.get("/api/v1/inbox", headers=ent, params={"per_page": 200}).json()
    assert any(m["kind"] == "policy_withdrawn" and "口径调整" in m["body"]
               for m in notices["items"])
    listed = client.get("/api/v1/policies", headers=ent).json()["items"]
    assert pid not in {p["id"] for p in listed}
    assert client.post(f"/api/v1/policies/{pid}/publish", headers=liaison).status_code == 409


def test_concurrent_publishes_deliver_once(client, token, grid_world):
    coordinator = staff(token, Role.COORDINATOR, "economic_development")
    targets = [grid_world["c39_a"], grid_world["c38"], grid_world["other_grid"]]
    created = client.post("/api/v1/policies", headers=coordinator, json=body(
        kind="notice", title="企业座谈会报名通知", audience={"enterprise_ids": targets}))
    assert created.status_code == 201, created.text
    pid = created.json()["id"]

    def publish(_: int) -> httpx.Response:
        return client.post(f"/api/v1/policies/{pid}/publish", headers=coordinator)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(publish, range(4)))
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    assert {a.json()["version"] for a in answers} == {2}
    for eid in targets:
        tok = bearer(token(Role.ENTERPRISE, enterprise_id=eid))
        assert len(policy_messages(client, tok, pid)) == 1
    reach = client.get(f"/api/v1/policies/{pid}/reach", headers=coordinator).json()
    assert (reach["targeted"], reach["delivered"]) == (3, 3)


def test_enterprises_search_their_policies(client, token, grid_world):
    coordinator = staff(token, Role.COORDINATOR, "economic_development")
    eid = grid_world["other_grid"]
    today = date.today()
    made = {}
    for key, extra in {
        "fund": {"title": "科技型企业融资贴息政策", "body": "对贷款利息给予贴息支持。"},
        "notice": {"kind": "notice", "title": "关于开展安全生产检查的通知",
                   "body": "请各企业做好自查，配合贴息审核以外的检查。"},
        "future": {"title": "明年起施行的贴息办法", "body": "尚未生效。",
                   "valid_from": (today + timedelta(days=30)).isoformat(),
                   "valid_until": None},
    }.items():
        answer = client.post("/api/v1/policies", headers=coordinator, json=body(
            audience={"enterprise_ids": [eid]}, **extra))
        assert answer.status_code == 201, answer.text
        made[key] = answer.json()["id"]
        assert client.post(f"/api/v1/policies/{made[key]}/publish",
                           headers=coordinator).status_code == 200
    ent = bearer(token(Role.ENTERPRISE, enterprise_id=eid))

    def ids(**params) -> set[str]:
        answer = client.get("/api/v1/policies", headers=ent, params={"per_page": 200, **params})
        assert answer.status_code == 200, answer.text
        return {p["id"] for p in answer.json()["items"]} & set(made.values())

    assert ids() == set(made.values())
    assert ids(q="贴息") == set(made.values())
    assert ids(q="贴息", valid_now="true") == {made["fund"], made["notice"]}
    assert ids(q="贴息 贷款") == {made["fund"]}
    assert ids(kind="notice") == {made["notice"]}
    assert ids(unread="true") == set(made.values())
    (item,) = [p for p in client.get("/api/v1/policies", headers=ent, params={
        "q": "融资贴息"}).json()["items"] if p["id"] == made["fund"]]
    assert item["attachment_count"] == 1 and item["read_at"] is None and "body" not in item
    bad = client.get("/api/v1/policies", headers=ent, params={"kind": "memo", "per_page": 0})
    assert bad.status_code == 422 and {"kind", "per_page"} <= set(bad.json()["errors"])


class Webhook:
    """A WeCom group-robot stand-in that keeps the JSON it receives."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("content-length", 0))
                hook.received.append(json.loads(self.rfile.read(length)))
                answer = b'{"errcode": 0, "errmsg": "ok"}'
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/cgi-bin/webhook/send?key=k"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def local_webhooks(healthy_platform):
    """Notification restarted to deliver to the local robot stand-in (http on 127.0.0.1), a
    development-only setting; the original process is back afterwards."""
    healthy_platform.stop("notification")
    healthy_platform.start_service("notification", extra_env={
        "WEBHOOK_HOSTS": "qyapi.weixin.qq.com,127.0.0.1", "WEBHOOK_ALLOW_INTERNAL": "1"})
    healthy_platform.wait_ready(timeout=60)
    yield
    healthy_platform.stop("notification")
    healthy_platform.start_service("notification")
    healthy_platform.wait_ready(timeout=60)


def test_the_enterprises_channels_apply_and_the_whole_zone_is_reached(client, token,
                                                                      grid_world,
                                                                      local_webhooks):
    hook = Webhook()
    ent = bearer(token(Role.ENTERPRISE, enterprise_id=grid_world["c39_b"]))
    try:
        prefs = client.put("/api/v1/inbox/preferences", headers=ent, json={
            "channels": [{"channel": "wecom", "address": hook.url}]})
        assert prefs.status_code == 200, prefs.text
        coordinator = staff(token, Role.COORDINATOR, "economic_development")
        created = client.post("/api/v1/policies", headers=coordinator, json=body(
            kind="notice", title="全区企业统计报表填报通知", audience={}))
        assert created.status_code == 201, created.text
        pid = created.json()["id"]
        everyone = in_scope_ids(client, token)
        published = client.post(f"/api/v1/policies/{pid}/publish", headers=coordinator)
        assert published.status_code == 200, published.text
        assert published.json()["recipient_count"] == len(everyone)
        assert eventually(lambda: any("全区企业统计报表填报通知" in m["markdown"]["content"]
                                      for m in hook.received), timeout=10)
        reach = eventually(lambda: (lambda r: r if {"channel": "wecom", "state": "sent",
                                                    "count": 1} in r["channels"] else None)(
            client.get(f"/api/v1/policies/{pid}/reach", headers=coordinator).json()), timeout=5)
        assert reach, "the WeCom delivery is not recorded as sent"
        assert reach["targeted"] == reach["delivered"] == len(everyone)
        assert sum(g["targeted"] for g in reach["by_grid"]) == len(everyone)
        metrics = httpx.get(f"http://127.0.0.1:{METRICS_PORTS['notification']}/metrics").text
        assert 'gridsvc_policies_published_total{kind="notice"}' in metrics
        assert 'gridsvc_policy_messages_total{kind="notice"}' in metrics
    finally:
        client.put("/api/v1/inbox/preferences", headers=ent, json={"channels": []})
        hook.server.shutdown()
        hook.server.server_close()
