"""In-app notifications (站内消息) from ticketing and registry events: the templates, the
recipients the registry names, and the messages that reach staff inboxes once."""

from __future__ import annotations

import time
import uuid
from types import SimpleNamespace

import httpx
import jwt
import kombu
import pytest
from conftest import AMQP_URI, METRICS_PORTS
from helpers import bearer, demand_body, eventually, new_enterprise_id
from sqlalchemy import text
from sqlalchemy.orm import Session

from common.auth import Role, verify_token
from common.config import DEV_KEY_RING
from common.service_identity import ServiceIdentity
from services.enterprise import recipients
from services.enterprise.demo_load import stable_id
from services.notification import templates

pytestmark = pytest.mark.timeout(120)

TASK = {"demand_id": "d1", "number": "SQ20250926-0001", "enterprise_id": "e1",
        "task_id": "t1", "department_id": "fire_rescue"}


# --------------------------------------------------------------------------- templates


def test_local_time_and_date_are_written_in_shanghai_time():
    assert templates.local_time("2025-09-28T02:00:00+00:00") == "2025年09月28日 10:00"
    assert templates.local_date("2025-10-09") == "2025年10月09日"


def test_task_assigned_names_the_enterprise_number_deadline_and_link():
    title, body, link = templates.task_assigned(
        {**TASK, "accept_due_at": "2025-09-29T18:00:00+08:00", "handling_workdays": 5},
        "青岛测试科技有限公司")
    assert TASK["number"] in title
    assert "青岛测试科技有限公司" in body and TASK["number"] in body
    assert "2025年09月29日 18:00前完成受理确认" in body and "5 个工作日" in body
    assert link == "/tasks/t1"
    _, unnamed, _ = templates.task_assigned(TASK)
    assert unnamed.startswith("企业诉求")


def test_reassignment_and_reminder_texts():
    _, body, link = templates.task_reassigned(
        {**TASK, "reason": "建设部牵头", "accept_due_at": "2025-09-29T18:00:00+08:00"})
    assert "建设部牵头" in body and "2025年09月29日 18:00" in body and link == "/tasks/t1"
    _, body, _ = templates.deadline_reminder({**TASK, "due_at": "2025-10-09T10:00:00+08:00"})
    assert "办理时限为2025年10月09日 10:00" in body


def test_escalation_text_by_level_and_cause():
    title, body, _ = templates.task_escalated(
        {**TASK, "level": 2, "cause": "overdue", "due_at": "2025-10-09T18:00:00+08:00"},
        "甲公司", "消防救援大队")
    assert "分管领导" in title and TASK["number"] in title
    assert "消防救援大队" in body and "2025年10月09日 18:00" in body and "甲公司" in body
    title, body, _ = templates.task_escalated({**TASK, "level": 3, "cause": "overdue"})
    assert "领导小组办公室" in title and "fire_rescue" in body
    _, body, _ = templates.task_escalated(
        {**TASK, "level": 1, "cause": "reopened", "reopen_count": 2})
    assert "第 2 次重办" in body


def test_enterprise_texts_for_rating_and_closure():
    title, body, link = templates.rating_requested(
        {**TASK, "round": 1, "reminder": False,
         "close_unrated_at": "2025-10-16T18:00:00+08:00"})
    assert not title.startswith("提醒") and "2025年10月16日 18:00" in body
    assert link == "/demands/d1"
    title, _, _ = templates.rating_requested({**TASK, "round": 1, "reminder": True})
    assert title.startswith("提醒")
    for closure, phrase in (("rated", "自动销号"), ("internal", "内部销号"),
                            ("unrated", "未评价销号")):
        _, body, _ = templates.demand_closed(
            {**TASK, "closure": closure, "closed_at": "2025-10-10T09:30:00+08:00"})
        assert phrase in body and "2025年10月10日 09:30" in body


def test_obligation_texts():
    data = {"obligation_id": "o1", "contract_id": "c1", "enterprise_id": "e1",
            "department_id": "economic_development", "due_on": "2025-12-31"}
    title, body, link = templates.obligation(data, False, "甲公司")
    assert "即将到期" in title and "2025年12月31日" in body and "「甲公司」" in body
    assert link == "/contracts/c1"
    title, _, _ = templates.obligation(data, True)
    assert "逾期" in title


# --------------------------------------------------------------------------- service identity


def test_service_identity_mints_once_renews_before_expiry_and_never_raises(infrastructure):
    identity = ServiceIdentity(ttl_seconds=300, renew_margin_seconds=60)
    identity.container = SimpleNamespace(service_name="notification")
    identity.setup()
    now = time.time()
    first = identity.token(now)
    assert identity.token(now + 100) == first
    renewed = identity.token(now + 250)
    assert renewed != first
    claims = jwt.decode(renewed, options={"verify_signature": False})
    assert claims["exp"] == int(now + 250) + 300
    principal = verify_token(first, DEV_KEY_RING)
    assert (principal.role, principal.user_id) == (Role.SERVICE, "service:notification")

    identity = ServiceIdentity()
    identity.container = SimpleNamespace(service_name="notification")
    identity.setup()
    worker = SimpleNamespace(entrypoint=object(), data={})
    identity.worker_setup(worker)
    assert verify_token(worker.data["auth_token"], DEV_KEY_RING).role == Role.SERVICE
    worker = SimpleNamespace(entrypoint=object(), data={"auth_token": "caller's"})
    identity.worker_setup(worker)
    assert worker.data["auth_token"] == "caller's"
    identity.worker_setup(SimpleNamespace())  # no context at all: logged, not raised


# --------------------------------------------------------------------------- recipients


def test_registry_names_the_department_and_office_recipients(db):
    with Session(db) as session:
        fire = recipients.department_recipients(session, "fire_rescue")
        assert fire["liaison"] == [stable_id("account", "liaison.fire_rescue")]
        assert fire["head"] == [stable_id("account", "head.fire_rescue")]
        assert len(fire["leader_in_charge"]) == 1 and fire["name"]
        office = recipients.leading_group_office(session)
        assert stable_id("account", "head.economic_development") in office


# --------------------------------------------------------------------------- through the platform


def handled_count(handler: str, outcome: str = "ok") -> float:
    metrics = httpx.get(f"http://127.0.0.1:{METRICS_PORTS['notification']}/metrics").text
    for line in metrics.splitlines():
        if line.startswith("gridsvc_worker_calls_total{") and f'method="{handler}"' in line \
                and f'outcome="{outcome}"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def messages(client: httpx.Client, tok: str, kind: str, link: str) -> list[dict]:
    items = client.get("/api/v1/inbox", params={"per_page": 200},
                       headers=bearer(tok)).json()["items"]
    return [m for m in items if m["kind"] == kind and m["link"] == link]


def overdue_now(db, task_id: str, kind: str) -> None:
    with db.begin() as conn:
        moved = conn.execute(text(
            "UPDATE ticketing.deadlines SET due_at = now() - interval '1 second' "
            "WHERE subject_id = :t AND kind = :k AND fired_at IS NULL "
            "AND cancelled_at IS NULL"), {"t": task_id, "k": kind}).rowcount
    assert moved >= 1, f"no pending {kind} deadline for {task_id}"


def test_triage_reaches_the_liaison_once_and_escalation_the_leader(client, token, db):
    ent = new_enterprise_id(incubator_id="INC01")
    enterprise = token(Role.ENTERPRISE, enterprise_id=ent)
    demand = client.post("/api/v1/demands", json=demand_body(), headers=bearer(enterprise))
    assert demand.status_code == 201, demand.text
    demand = demand.json()
    coordinator = token(Role.COORDINATOR, department_id="economic_development")
    triaged = client.post(f"/api/v1/demands/{demand['id']}/triage", headers=bearer(coordinator),
                          json={"category": "fire", "proposed_opinion": "请指导消防验收",
                                "departments": [{"department_id": "fire_rescue"}]})
    assert triaged.status_code == 200, triaged.text
    task_id = triaged.json()["tasks"][0]["id"]
    link = f"/tasks/{task_id}"
    liaison_id = stable_id("account", "liaison.fire_rescue")
    liaison = token(Role.LIAISON, user_id=liaison_id, department_id="fire_rescue")

    found = eventually(lambda: messages(client, liaison, "task_assigned", link), timeout=2.0)
    assert len(found) == 1, found
    assert demand["number"] in found[0]["title"] and demand["number"] in found[0]["body"]
    assert "青岛测试科技有限公司" in found[0]["body"]

    # the same event delivered twice more: handled (as duplicates), no second message
    with db.connect() as conn:
        payload = conn.execute(text(
            "SELECT payload FROM ticketing.outbox WHERE event_type = 'task_assigned' "
            "AND payload->'data'->>'task_id' = :t"), {"t": task_id}).scalar_one()
    before = handled_count("on_task_assigned")
    with kombu.Connection(AMQP_URI) as conn:
        producer = conn.Producer(serializer="json")
        exchange = kombu.Exchange("ticketing.events", type="topic", durable=True)
        for _ in range(2):
            producer.publish(payload, exchange=exchange, routing_key="task_assigned")
    assert eventually(lambda: handled_count("on_task_assigned") >= before + 2, timeout=5.0)
    assert len(messages(client, liaison, "task_assigned", link)) == 1

    # overdue: level 1 to the department head, level 2 to the leader in charge (分管领导)
    assert client.post(f"/api/v1/tasks/{task_id}/accept",
                       headers=bearer(liaison)).status_code == 200
    with db.connect() as conn:
        head_id, leader_id = conn.execute(text(
            "SELECT head_account_id, leader_account_id FROM enterprise.departments "
            "WHERE id = 'fire_rescue'")).one()
    head = token(Role.DEPARTMENT_HEAD, user_id=str(head_id), department_id="fire_rescue")
    leader = token(Role.LEADER, user_id=str(leader_id))
    overdue_now(db, task_id, "handling")
    level1 = eventually(lambda: messages(client, head, "task_escalated", link), timeout=10)
    assert len(level1) == 1 and "部门负责人" in level1[0]["title"], level1
    overdue_now(db, task_id, "escalation")
    level2 = eventually(lambda: messages(client, leader, "task_escalated", link), timeout=10)
    assert len(level2) == 1, level2
    assert "分管领导" in level2[0]["title"] and demand["number"] in level2[0]["body"]
    # the head heard of level 1 only
    assert len(messages(client, head, "task_escalated", link)) == 1


def test_an_event_waits_while_the_registry_is_down(client, token, db, healthy_platform):
    """No registry, no recipients: the event goes back to its queue (not lost, not doubled)
    and is delivered once the registry is back."""
    with db.connect() as conn:
        payload = conn.execute(text(
            "SELECT payload FROM ticketing.outbox WHERE event_type = 'task_assigned' "
            "ORDER BY created_at DESC LIMIT 1")).scalar_one()
    payload = {**payload, "event_id": str(uuid.uuid4())}
    link = f"/tasks/{payload['data']['task_id']}"
    liaison_id = stable_id("account", f"liaison.{payload['data']['department_id']}")
    liaison = token(Role.LIAISON, user_id=liaison_id,
                    department_id=payload["data"]["department_id"])
    before = len(messages(client, liaison, "task_assigned", link))
    retries = handled_count("on_task_assigned", "error")
    healthy_platform.stop("enterprise")
    try:
        with kombu.Connection(AMQP_URI) as conn:
            conn.Producer(serializer="json").publish(
                payload, exchange=kombu.Exchange("ticketing.events", type="topic",
                                                 durable=True),
                routing_key="task_assigned")
        # the call times out (5 s), the handler waits 1 s and hands the event back
        assert eventually(lambda: handled_count("on_task_assigned", "error") > retries,
                          timeout=10)
        assert len(messages(client, liaison, "task_assigned", link)) == before
    finally:
        healthy_platform.procs.pop("enterprise", None)
        healthy_platform.start_service("enterprise")
        healthy_platform.wait_ready(timeout=60)
    assert eventually(
        lambda: len(messages(client, liaison, "task_assigned", link)) == before + 1, timeout=10)
    time.sleep(1)
    assert len(messages(client, liaison, "task_assigned", link)) == before + 1


# ---------------------------------------------------------------- supply/demand and meetings


def test_board_and_meeting_texts():
    data = {"listing_id": "l1", "listing_title": "求购精密轴承", "matched_listing_id": "l2",
            "matched_listing_title": "供应高精度轴承", "enterprise_ids": ["a", "b"],
            "score": 0.87}
    title, body, link = templates.listing_matched(data, "求购精密轴承", "供应高精度轴承", "l1")
    assert title == "供需匹配：求购精密轴承" and link == "/listings/l1"
    assert "「供应高精度轴承」" in body and "87%" in body
    _, body, _ = templates.listing_matched({**data, "score": 92}, "甲", "乙", "l2")
    assert "92%" in body
    _, body, _ = templates.listing_matched({**data, "score": None}, "甲", "乙", "l2")
    assert "匹配度" not in body
    docking = {"docking_id": "d1", "listing_id": "l1", "listing_title": "求购精密轴承",
               "requester_enterprise_id": "a", "owner_enterprise_id": "b",
               "message": "可否提供样品？"}
    title, body, link = templates.docking_requested(docking, "甲公司")
    assert "求购精密轴承" in title and "「甲公司」" in body and "可否提供样品？" in body
    assert link == "/dockings/d1"
    title, body, _ = templates.docking_answered(docking, True, "乙公司")
    assert "已接受" in title and "「乙公司」" in body
    title, _, _ = templates.docking_answered(docking, False)
    assert "未被接受" in title
    title, body, link = templates.meeting_invited({
        "meeting_id": "m1", "theme": "集成电路产业链座谈", "place": "创新大厦301会议室",
        "starts_at": "2026-12-03T06:30:00+00:00", "enterprise_ids": ["a"]})
    assert title == "政企座谈会邀请：集成电路产业链座谈" and link == "/meetings/m1"
    assert "2026年12月03日 14:30" in body and "创新大厦301会议室" in body
    title, body, link = templates.meeting_cancelled({
        "meeting_id": "m1", "theme": "集成电路产业链座谈", "place": "创新大厦301会议室",
        "starts_at": "2026-12-03T06:30:00+00:00", "reason": "主讲嘉宾行程冲突",
        "enterprise_ids": ["a"]})
    assert title == "政企座谈会取消：集成电路产业链座谈" and link == "/meetings/m1"
    assert "2026年12月03日 14:30" in body and "已取消" in body and "主讲嘉宾行程冲突" in body


def publish_event(source: str, event_type: str, data: dict, event_id: str | None = None
                  ) -> dict:
    from common.outbox import envelope

    payload = envelope(source, event_type, data)
    if event_id:
        payload["event_id"] = event_id
    with kombu.Connection(AMQP_URI) as conn:
        exchange = kombu.Exchange(f"{source}.events", type="topic", durable=True)
        conn.Producer(serializer="json").publish(payload, exchange=exchange,
                                                 routing_key=event_type, declare=[exchange])
    return payload


def inbox_items(client: httpx.Client, tok: str, kind: str) -> list[dict]:
    items = client.get("/api/v1/inbox", params={"per_page": 200},
                       headers=bearer(tok)).json()["items"]
    return [m for m in items if m["kind"] == kind]


def test_board_and_meeting_events_reach_the_enterprises_once(client, token):
    buyer = new_enterprise_id(name="青岛求购机械有限公司", incubator_id="INC02")
    seller = new_enterprise_id(name="青岛供应轴承有限公司", incubator_id="INC03")
    buyer_tok = token(Role.ENTERPRISE, enterprise_id=buyer)
    seller_tok = token(Role.ENTERPRISE, enterprise_id=seller)
    listing, offer = str(uuid.uuid4()), str(uuid.uuid4())

    matched = {"listing_id": listing, "listing_title": "求购精密轴承",
               "matched_listing_id": offer, "matched_listing_title": "供应高精度轴承",
               "enterprise_ids": [buyer, seller], "score": 0.9}
    event = publish_event("supplydemand", "listing_matched", matched)
    publish_event("supplydemand", "listing_matched", matched, event["event_id"])  # again
    mine = eventually(lambda: inbox_items(client, buyer_tok, "listing_matched"), timeout=5)
    theirs = eventually(lambda: inbox_items(client, seller_tok, "listing_matched"), timeout=5)
    assert [m["link"] for m in mine] == [f"/listings/{listing}"]
    assert [m["link"] for m in theirs] == [f"/listings/{offer}"]
    assert "「供应高精度轴承」" in mine[0]["body"] and "「求购精密轴承」" in theirs[0]["body"]

    docking = {"docking_id": str(uuid.uuid4()), "listing_id": offer,
               "listing_title": "供应高精度轴承", "requester_enterprise_id": buyer,
               "owner_enterprise_id": seller, "message": "请报价"}
    publish_event("supplydemand", "docking_requested", docking)
    (asked,) = eventually(lambda: inbox_items(client, seller_tok, "docking_requested"),
                          timeout=5)
    assert "青岛求购机械有限公司" in asked["body"] and "请报价" in asked["body"]
    assert asked["link"] == f"/dockings/{docking['docking_id']}"
    assert inbox_items(client, buyer_tok, "docking_requested") == []
    publish_event("supplydemand", "docking_accepted", docking)
    publish_event("supplydemand", "docking_declined", {**docking,
                                                       "docking_id": str(uuid.uuid4())})
    (accepted,) = eventually(lambda: inbox_items(client, buyer_tok, "docking_accepted"),
                             timeout=5)
    assert "青岛供应轴承有限公司" in accepted["body"] and "已接受" in accepted["title"]
    (declined,) = eventually(lambda: inbox_items(client, buyer_tok, "docking_declined"),
                             timeout=5)
    assert "未被接受" in declined["title"]
    assert inbox_items(client, seller_tok, "docking_accepted") == []

    meeting = {"meeting_id": str(uuid.uuid4()), "theme": "高端装备产业座谈",
               "starts_at": "2026-12-10T14:30:00+08:00", "place": "管委会三楼会议室",
               "enterprise_ids": [buyer, seller, buyer]}
    publish_event("enterprise", "meeting_invited", meeting)
    for tok in (buyer_tok, seller_tok):
        (invited,) = eventually(lambda t=tok: inbox_items(client, t, "meeting_invited"),
                                timeout=5)
        assert "2026年12月10日 14:30" in invited["body"] and "管委会三楼会议室" in invited["body"]
        assert invited["link"] == f"/meetings/{meeting['meeting_id']}"
    publish_event("enterprise", "meeting_cancelled", {**meeting, "reason": "会议室检修"})
    for tok in (buyer_tok, seller_tok):
        (cancelled,) = eventually(lambda t=tok: inbox_items(client, t, "meeting_cancelled"),
                                  timeout=5)
        assert "已取消" in cancelled["body"] and "会议室检修" in cancelled["body"]
        assert cancelled["link"] == f"/meetings/{meeting['meeting_id']}"

    # malformed data is dropped (logged), not retried for ever and not half-delivered
    before = handled_count("on_listing_matched")
    publish_event("supplydemand", "listing_matched", {**matched, "enterprise_ids": [buyer]})
    assert eventually(lambda: handled_count("on_listing_matched") > before, timeout=5)
    assert len(inbox_items(client, buyer_tok, "listing_matched")) == 1
