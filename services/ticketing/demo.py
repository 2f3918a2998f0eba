"""The demo zone's demands (``make run``): about 300 demands over the last six months in every
state, so that the console, the ledger, the supervision list, the appraisal and the overview
have real-looking content.

Deterministic: ``(enterprises, categories, seed, anchor)`` always gives the same rows, with
ids stable across machines (uuid5). Idempotent: a database that has the first demo demand
already is left alone. Written straight into ticketing's tables (demands, tasks, the ledger,
ratings, notes, extensions) as the lifecycle would have left them, with the SLA deadline rows
the lifecycle schedules (:mod:`services.ticketing.sla`: triage, acceptance, handling,
reminders, escalation rungs, rating reminder, unrated closure), each cancelled when its step
came first (met), fired when it came due before the anchor (what it did then is
:func:`services.ticketing.ladder.due_now`'s: breaches, 督办 escalations and their ledger lines
from :mod:`services.ticketing.ledger`), or still pending. The triage deadlines of demands
still waiting for triage are left pending even when 10:00 has passed: the running sweep
(:mod:`services.ticketing.sweep`) notices those misses itself, writes their breaches and
ledger lines, tells the coordinators and counts them in ``gridsvc_sla_*``. Some triages
and completions come late, so the appraisal's rates and the SLA figures are not all 100 %.
The load itself publishes no events (nobody is told of history).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from common.calendar import SHANGHAI, WorkCalendar
from common.calendar import Deadline as Due
from services.ticketing import ladder, ledger, search, sla
from services.ticketing.appraisal import rollup
from services.ticketing.handling import END_OF_DAY_HOUR
from services.ticketing.models import (
    Breach,
    Deadline,
    Demand,
    Escalation,
    Extension,
    LedgerEntry,
    Note,
    Rating,
    Task,
)

NAMESPACE = uuid.UUID("0b6f3c1e-7a55-4d53-9f0e-5d1c2a9e4b21")
SEED = 2026
COUNT = 300
#: the states and how many of the demands end in each (the rest: closed by rating)
PLAN = (("received", 12), ("assigned", 10), ("accepted", 48), ("overdue", 18),
        ("awaiting_rating", 24), ("dissatisfied", 8), ("internal", 14), ("unrated", 26))
TOPICS = {
    "talent": ("人才公寓申请", "新引进博士三名，申请园区人才公寓。"),
    "funding": ("研发补贴申报咨询", "咨询今年研发费用补贴的申报条件和材料。"),
    "finance": ("流动资金贷款贴息", "希望了解贷款贴息政策和办理流程。"),
    "fire": ("厂房消防验收", "新厂房装修完成，申请消防验收指导。"),
    "tax": ("出口退税进度", "出口退税申请已提交一个月，询问办理进度。"),
    "approval": ("环评手续办理", "扩产项目需要办理环评，希望提前辅导。"),
    "construction": ("厂区道路破损", "厂区门前道路破损影响货车通行。"),
    "traffic": ("上下班交通拥堵", "园区门口早晚高峰拥堵，建议增设信号灯。"),
}
NOTES = ("已与企业电话沟通，明确所需材料。", "已组织现场踏勘。", "已协调相关科室会商。")
COMMENTS = ("办理很及时，感谢！", "态度很好，问题解决了。", "结果一般，希望加快进度。")
STAFF = "demo"
#: how long after its due time the sweep fired a deadline (its tick)
FIRE_DELAY = timedelta(seconds=20)
#: shares of the triages and completions that came after their deadline
LATE_TRIAGE, LATE_COMPLETION = 0.1, 0.15
#: every this many demands belongs to one of the featured enterprises (the demo logins')
FEATURED_EVERY = 10


def stable(kind: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


@dataclass(frozen=True)
class DemoEnterprise:
    id: str
    grid_id: str | None


def _at(day: datetime, hour: int, minute: int = 0) -> datetime:
    local = day.astimezone(SHANGHAI)
    return datetime.combine(local.date(), time(hour, minute), SHANGHAI)


class _Deadlines:
    """The SLA deadline rows of the demo, as the lifecycle scheduled them and the sweep fired
    them: a row is cancelled when its step was done first (``done`` before ``due``), fired
    ``FIRE_DELAY`` after its due time when that is before the anchor, else pending. A fired
    ladder deadline does what :func:`services.ticketing.ladder.due_now` says (breach,
    escalation, next rung), with the ledger's own lines."""

    def __init__(self, rows: dict[str, list[dict]], anchor: datetime, calendar: WorkCalendar,
                 settings: Mapping[str, Any]) -> None:
        self.rows, self.anchor, self.calendar = rows, anchor, calendar
        self.settings = dict(settings)

    def put(self, kind: str, subject: str, due: datetime, done: datetime | None, *,
            department: str | None = None, level: int = 0, provisional: bool = False,
            swept_live: bool = False) -> datetime | None:
        """One deadline row; the moment it fired (None: met or pending). ``swept_live``: a
        deadline that came due before the anchor is left pending for the running sweep."""
        row: dict[str, Any] = {"kind": kind, "subject_id": subject, "department_id": department,
                               "level": level, "due_at": due, "provisional": provisional,
                               "fired_at": None, "cancelled_at": None,
                               "created_at": min(due, self.anchor)}
        self.rows["deadlines"].append(row)
        if done is not None and done < due:
            row["cancelled_at"] = done
            return None
        if due > self.anchor or swept_live:
            return None
        row["fired_at"] = fired = due + FIRE_DELAY
        return fired

    def climb(self, kind: str, demand_id: str, task_id: str | None, due: datetime,
              done: datetime | None, waiting: str, department: str | None = None,
              level: int = 0, provisional: bool = False) -> int:
        """A ladder deadline (triage, acceptance, handling, escalation) of a subject that
        waited in state ``waiting`` until ``done`` (None: still waits); the highest 督办 level
        it reached."""
        fired = self.put(kind, task_id or demand_id, due, done, department=department,
                         level=level, provisional=provisional)
        if fired is None:
            return 0
        action = ladder.due_now(kind, level, waiting)
        top = 0
        if action.breach:
            self.rows["breaches"].append({
                "deadline": len(self.rows["deadlines"]) - 1, "kind": kind,
                "subject_id": task_id or demand_id, "department_id": department,
                "due_at": due, "recorded_at": fired})
            line = ledger.breach_line(kind, demand_id, task_id, department, waiting)
            if line is not None:
                self.rows["ledger"].append({**line, "at": fired})
        if action.escalate and task_id is not None and department is not None:
            top = action.escalate
            self.rows["escalations"].append({
                "task_id": task_id, "level": top, "cause": ladder.OVERDUE,
                "department_id": department, "recorded_at": fired})
            self.rows["ledger"].append({
                **ledger.escalation_line(top, demand_id, task_id, department, waiting),
                "at": fired})
        if action.next_rung:
            rung = ladder.rung_due(
                self.calendar, due, ladder.rung_workdays(self.settings, action.next_rung),
                provisional)
            top = max(top, self.climb("escalation", demand_id, task_id, rung.at, done,
                                      waiting, department, action.next_rung, rung.provisional))
        return top

    def reminders(self, task_id: str, department: str, due: datetime, since: datetime,
                  done: datetime | None, provisional: bool = False) -> None:
        """The reminders before a handling deadline, scheduled at ``since``."""
        for moment in sla.reminder_deadlines(self.calendar, due,
                                             self.settings["reminder_workdays_before"], since,
                                             provisional):
            self.put("reminder", task_id, moment.at, done, department=department,
                     provisional=moment.provisional)


def _states(rng: random.Random) -> list[str]:
    states = [s for s, n in PLAN for _ in range(n)]
    states += ["rated"] * (COUNT - len(states))
    rng.shuffle(states)
    return states


def build(enterprises: list[DemoEnterprise], categories: dict[str, str],
          calendar: WorkCalendar, anchor: datetime, seed: int = SEED,
          settings: Mapping[str, Any] | None = None,
          featured: Sequence[DemoEnterprise] = ()) -> dict[str, list[dict]]:
    """The rows of every table, by table name. ``categories``: category → department;
    ``settings``: the SLA settings in force (default :data:`services.ticketing.sla.
    DEFAULT_SETTINGS`); ``featured``: enterprises given every :data:`FEATURED_EVERY`-th
    demand (those the console's demo logins act for). A breach names its deadline by index
    (``deadline``)."""
    rng = random.Random(seed)
    config = dict(sla.DEFAULT_SETTINGS | dict(settings or {}))
    topics = [c for c in TOPICS if c in categories] or list(categories)[:1]
    rows: dict[str, list[dict]] = {k: [] for k in (
        "demands", "tasks", "ledger", "ratings", "notes", "extensions", "deadlines",
        "breaches", "escalations")}
    clock = _Deadlines(rows, anchor, calendar, config)

    def acceptance_due(start: datetime) -> Due:  # as handling's _acceptance_due
        return calendar.deadline_after_workdays(
            start, int(config["acceptance_workdays"]), hour=END_OF_DAY_HOUR)

    for i, planned in enumerate(_states(rng)):
        state = planned
        enterprise = enterprises[rng.randrange(len(enterprises))]
        if featured and i % FEATURED_EVERY == 0:
            enterprise = featured[(i // FEATURED_EVERY) % len(featured)]
        category = topics[rng.randrange(len(topics))]
        department = categories[category]
        title, description = TOPICS.get(category, ("企业诉求", "企业反映的问题。"))
        workdays = 5 + rng.randrange(10)
        # open work is recent; overdue work was accepted long enough ago; closed work spreads
        # over six months
        back = {"received": rng.randrange(0, 3), "assigned": rng.randrange(0, 3),
                "accepted": rng.randrange(3, 30),
                "overdue": workdays * 3 // 2 + 4 + rng.randrange(12),
                "awaiting_rating": rng.randrange(3, 12)}.get(state, rng.randrange(10, 180))
        received = _at(anchor - timedelta(days=back), 8 + rng.randrange(10), rng.randrange(60))
        received = min(received, anchor - timedelta(minutes=30))
        demand_id = stable("demand", str(i))
        triage = sla.triage_deadline(calendar, received)
        triage_due = triage.at
        demand: dict[str, Any] = {
            "id": demand_id, "number": f"SQ{received:%Y%m%d}-D{i:04d}",
            "enterprise_id": enterprise.id, "grid_id": enterprise.grid_id,
            "channel": ("app", "website", "wechat", "enterprise", "grid_worker",
                        "service_window")[rng.randrange(6)],
            "category": None, "title": f"{title}（{i + 1}）", "description": description,
            "urgency": "urgent" if rng.random() < 0.1 else "normal", "attachments": [],
            "status": "received", "received_at": received, "triage_due_at": triage_due,
            "triage_due_provisional": triage.provisional, "recorded_by": STAFF,
            "recorded_role": "enterprise",
            "idempotency_key": None, "request_hash": None, "version": 1,
            "created_at": received, "difficulty": None, "proposed_opinion": None,
            "triaged_at": None, "triaged_by": None, "closure": None, "completed_at": None,
            "closed_at": None, "search": search.document(title, description),
        }
        rows["demands"].append(demand)
        lines: list[dict] = rows["ledger"]

        def line(action: str, before: str | None, after: str | None, at: datetime,
                 role: str, task: str | None = None, reason: str | None = None,
                 demand_id: str = demand_id, department: str | None = None,
                 lines: list[dict] = lines) -> None:
            lines.append({"demand_id": demand_id, "task_id": task,
                          "department_id": department, "action": action,
                          "from_state": before, "to_state": after, "actor": STAFF,
                          "actor_role": role, "reason": reason, "channel": None, "at": at})

        line("received", None, "received", received, "enterprise")
        lines[-1]["channel"] = demand["channel"]
        if state == "received":
            # still waiting for triage: the running sweep notices a missed 10:00 itself
            clock.put("triage", demand_id, triage_due, None, provisional=triage.provisional,
                      swept_live=True)
            continue
        triaged = min(triage_due - timedelta(hours=rng.randrange(1, 12)), anchor)
        if rng.random() < LATE_TRIAGE:  # 分理超时: triaged after 10:00
            triaged = min(triage_due + timedelta(hours=1 + rng.randrange(6)),
                          anchor - timedelta(minutes=10))
        triaged = max(triaged, received + timedelta(minutes=20))
        if state == "assigned" and acceptance_due(triaged).at <= anchor:
            triaged = max(anchor - timedelta(hours=2), received + timedelta(minutes=20))
        clock.climb("triage", demand_id, None, triage_due, triaged, "received",
                    provisional=triage.provisional)
        demand.update(status="triaged", category=category, difficulty="normal",
                      proposed_opinion="请按职责办理并及时反馈企业。", triaged_at=triaged,
                      triaged_by=STAFF)
        task_id = stable("task", str(i))
        acceptance = acceptance_due(triaged)
        task: dict[str, Any] = {
            "id": task_id, "demand_id": demand_id, "department_id": department,
            "status": "assigned", "opinion": None, "difficulty": "normal",
            "handling_workdays": workdays, "accept_due_at": acceptance.at,
            "accept_due_provisional": acceptance.provisional, "due_at": None,
            "due_provisional": False, "accepted_at": None, "accepted_by": None,
            "returned_reason": None, "result": None, "completed_at": None,
            "reopen_count": 0, "escalation_level": 0, "internal_report": None,
            "report_attachments": [], "report_status": None, "report_filed_at": None,
            "report_filed_by": None, "report_return_reason": None, "version": 1,
            "created_at": triaged,
        }
        rows["tasks"].append(task)
        line("triage", "received", "triaged", triaged, "coordinator")
        line("assign", None, "assigned", triaged, "coordinator", task_id, department=department)
        if state == "assigned":
            clock.climb("acceptance", demand_id, task_id, acceptance.at, None, "assigned",
                        department, provisional=acceptance.provisional)
            continue
        accepted = triaged + timedelta(hours=3 + rng.randrange(20))
        if rng.random() < 0.08:  # returned once, then named again
            returned, named = triaged + timedelta(hours=2), triaged + timedelta(hours=4)
            clock.climb("acceptance", demand_id, task_id, acceptance.at, returned,
                        "assigned", department, provisional=acceptance.provisional)
            line("return", "assigned", "coordination", returned, "liaison",
                 task_id, "不属于本部门职责", department=department)
            line("reassign", "coordination", "assigned", named, "coordinator", task_id,
                 department=department)
            acceptance = acceptance_due(named)
            task.update(accept_due_at=acceptance.at,
                        accept_due_provisional=acceptance.provisional)
        accepted = min(accepted, acceptance.at - timedelta(minutes=30))  # never timed out
        clock.climb("acceptance", demand_id, task_id, acceptance.at, accepted, "assigned",
                    department, provisional=acceptance.provisional)
        due = calendar.deadline_after_workdays(accepted, workdays, hour=END_OF_DAY_HOUR)
        task.update(status="accepted", accepted_at=accepted, accepted_by=STAFF,
                    due_at=due.at, due_provisional=due.provisional, version=2)
        demand["status"] = "in_progress"
        line("accept", "assigned", "accepted", accepted, "liaison", task_id,
             department=department)
        line("demand_state", "triaged", "in_progress", accepted, "liaison")
        if rng.random() < 0.5:
            rows["notes"].append({
                "id": stable("note", str(i)), "demand_id": demand_id, "task_id": task_id,
                "department_id": department, "visibility": "public",
                "body": NOTES[rng.randrange(len(NOTES))], "author": STAFF,
                "author_role": "liaison", "created_at": accepted + timedelta(hours=5)})
            line("note", "accepted", "accepted", accepted + timedelta(hours=5), "liaison",
                 task_id, department=department)
        reminded_from = accepted  # when the reminders in force were scheduled
        if rng.random() < 0.1:
            extra = 3
            decided = accepted + timedelta(days=1, hours=2)
            hour = due.at.astimezone(SHANGHAI).hour  # as decide_extension keeps it
            new_due = calendar.deadline_after_workdays(due.at, extra, hour=hour)
            rows["extensions"].append({
                "id": stable("extension", str(i)), "task_id": task_id, "workdays": extra,
                "reason": "需要等待第三方检测报告", "status": "approved",
                "requested_by": STAFF, "requested_at": accepted + timedelta(days=1),
                "decided_by": STAFF, "decided_at": decided, "new_due_at": new_due.at})
            # the reminders of the first deadline, cancelled by the decision
            clock.reminders(task_id, department, due.at, accepted, decided, due.provisional)
            task.update(due_at=new_due.at, due_provisional=new_due.provisional)
            reminded_from = decided
            line("extension_approved", "accepted", "accepted", decided, "coordinator",
                 task_id, department=department)
        if state == "accepted" and task["due_at"] <= anchor:
            # not meant overdue: give it the time it needs
            later = calendar.deadline_after_workdays(anchor, 3)
            task.update(due_at=later.at, due_provisional=later.provisional)
        if state in ("accepted", "overdue"):
            clock.reminders(task_id, department, task["due_at"], reminded_from, None,
                            task["due_provisional"])
            task["escalation_level"] = clock.climb(
                "handling", demand_id, task_id, task["due_at"], None, "accepted", department,
                level=1, provisional=task["due_provisional"])
            continue
        completed = min(task["due_at"] - timedelta(hours=rng.randrange(1, 48)),
                        anchor - timedelta(hours=1))
        if rng.random() < LATE_COMPLETION:  # 办理超时, then done
            completed = min(task["due_at"] + timedelta(hours=2 + rng.randrange(70)),
                            anchor - timedelta(hours=1))
        completed = max(completed, accepted + timedelta(hours=1))
        clock.reminders(task_id, department, task["due_at"], reminded_from, completed,
                        task["due_provisional"])
        task["escalation_level"] = clock.climb(
            "handling", demand_id, task_id, task["due_at"], completed, "accepted", department,
            level=1, provisional=task["due_provisional"])
        task.update(status="completed", completed_at=completed, result="已按政策办理完毕，"
                    "并向企业反馈了办理结果。", version=3)
        demand.update(status="awaiting_rating", completed_at=completed)
        line("complete", "accepted", "completed", completed, "liaison", task_id,
             department=department)
        line("demand_state", "in_progress", "awaiting_rating", completed, "liaison")
        # as closure.on_awaiting_rating schedules them
        reminding = calendar.deadline_after_workdays(
            completed, int(config["rating_reminder_workdays"]))
        unrating = calendar.deadline_after_workdays(
            completed, int(config["close_unrated_workdays"]))
        remind_due, unrated_due = reminding.at, unrating.at
        rated_at = completed + timedelta(hours=6 + rng.randrange(48))
        if state == "awaiting_rating" and unrated_due <= anchor:
            state = "unrated"  # the sweep would have closed it
        if state == "unrated" and unrated_due > anchor:
            state = "awaiting_rating"  # not yet
        rated = None if state in ("awaiting_rating", "unrated") else rated_at
        if clock.put("rating_reminder", demand_id, remind_due, rated,
                     provisional=reminding.provisional) is not None:
            line("remind_rating", "awaiting_rating", "awaiting_rating", remind_due + FIRE_DELAY,
                 "service")
            lines[-1]["actor"] = ledger.PLATFORM_ACTOR
        closed = clock.put("close_unrated", demand_id, unrated_due, rated,
                           provisional=unrating.provisional)
        if state == "awaiting_rating":
            continue
        if state == "unrated":
            assert closed is not None
            demand.update(status="closed", closure="unrated", closed_at=closed)
            line("close", "awaiting_rating", "closed", closed, "service", reason="unrated")
            lines[-1]["actor"] = ledger.PLATFORM_ACTOR
            continue
        satisfied = state == "rated"
        score = (4 + rng.randrange(2)) if satisfied else 2
        rows["ratings"].append({
            "id": stable("rating", str(i)), "demand_id": demand_id, "round": 1,
            "efficiency": score, "attitude": max(score, 3), "quality": score,
            "comment": COMMENTS[rng.randrange(2)] if satisfied else COMMENTS[2],
            "satisfied": satisfied, "rated_by": STAFF, "created_at": rated_at})
        line("rate", "awaiting_rating", "awaiting_rating", rated_at, "enterprise")
        if state == "dissatisfied":
            continue
        if state == "internal":
            report = "企业诉求超出政策范围，已书面说明并经经济发展部、科技创新部同意。"
            task.update(internal_report=report, report_status="agreed",
                        report_filed_at=rated_at + timedelta(days=1), report_filed_by=STAFF)
            line("report_filed", "completed", "completed", rated_at + timedelta(days=1),
                 "liaison", task_id, report, department=department)
            line("report_agreed", "completed", "completed", rated_at + timedelta(days=2),
                 "coordinator", task_id, department=department)
            demand.update(status="closed", closure="internal",
                          closed_at=rated_at + timedelta(days=2))
            line("close", "awaiting_rating", "closed", rated_at + timedelta(days=2),
                 "coordinator", reason=report)
            continue
        demand.update(status="closed", closure="rated", closed_at=rated_at)
        line("close", "awaiting_rating", "closed", rated_at, "enterprise", reason="rated")
    return rows


def load(session: Session, enterprises: list[DemoEnterprise], categories: dict[str, str],
         calendar: WorkCalendar, anchor: datetime | None = None,
         seed: int = SEED, featured: Sequence[DemoEnterprise] = ()) -> dict[str, int]:
    """Insert the demo demands unless the first one is there already; counts by table."""
    if session.execute(select(Demand.id).where(Demand.id == stable("demand", "0"))).first():
        return {}
    moment = anchor or datetime.now(UTC)
    rows = build(enterprises, categories, calendar, moment, seed, sla.settings(session),
                 featured)
    for model, key in ((Demand, "demands"), (Task, "tasks"), (Extension, "extensions"),
                       (Note, "notes"), (Rating, "ratings"), (LedgerEntry, "ledger"),
                       (Escalation, "escalations")):
        if rows[key]:
            session.execute(insert(model.__table__), rows[key])
    if rows["deadlines"]:
        table = Deadline.__table__
        ids = session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True),
            rows["deadlines"]).scalars().all()
        breaches = [{**{k: v for k, v in b.items() if k != "deadline"},
                     "deadline_id": ids[b["deadline"]]} for b in rows["breaches"]]
        if breaches:
            session.execute(insert(Breach.__table__), breaches)
    # closed outside closure._close: their appraisal figures go to the rollup here
    rollup.record(session, Demand.id.in_([row["id"] for row in rows["demands"]]))
    return {f"demo {k}": len(v) for k, v in rows.items() if v}
