"""The ledger's XLSX (台账导出): the list a reader filtered, and every step of its demands.

Two sheets. The list (问题清单, 任务清单 or 落实清单) shows people, departments, grids,
enterprises and categories by name, codes by their Chinese labels, times in Asia/Shanghai.
办理过程 holds every step of every demand of the list, oldest first: intake (who, channel),
triage (proposed opinion, category, difficulty), each task's department, opinion and
deadlines, acceptance or return with its reason, reassignments, notes (public ones; internal
ones only for a reader who may read them), extensions asked and decided, escalations,
results, ratings, the written report (书面汇报材料) and the closure, each with who and when.

A plain module over a SQLAlchemy session: :func:`steps` reads the steps with ids, the caller
asks the registry for the names (:func:`services.ticketing.naming.wanted`), and
:func:`workbook` writes the rows as the caller's pages give them (:func:`common.xlsx.workbook`:
a list of 10,000 rows is never held as cells in memory), so an export can report its progress
page by page.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, Uuid, cast, select
from sqlalchemy.orm import Session

from common import xlsx
from common.auth import Principal, Role
from common.calendar import SHANGHAI
from common.db import among
from common.dictionaries import label_of
from services.ticketing.models import (
    Demand,
    Escalation,
    Extension,
    LedgerEntry,
    Note,
    Rating,
    Task,
)

ZH = "zh-CN"
YES_NO = {True: "是", False: "否", None: ""}
#: (field, header) of each list's sheet; ``*_name`` fields hold names, the others labels
LIST_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "problems": (
        ("number", "诉求编号"), ("enterprise", "企业"), ("title", "标题"),
        ("category", "类别"), ("channel", "渠道"), ("urgency", "紧急程度"), ("status", "状态"),
        ("grid", "网格"), ("received_at", "收到时间"), ("triage_due_at", "分理时限"),
        ("triaged_at", "分理时间"), ("departments", "责任部门"),
        ("awaiting_resolution", "不满意待处理"), ("closure", "销号方式"),
        ("closed_at", "销号时间"),
    ),
    "tasks": (
        ("number", "诉求编号"), ("enterprise", "企业"), ("title", "标题"),
        ("category", "类别"), ("department", "责任部门"), ("status", "状态"),
        ("received_at", "收到时间"), ("accept_due_at", "受理时限"), ("accepted_at", "受理时间"),
        ("accepted_by", "受理人"), ("due_at", "办理时限"), ("completed_at", "办结时间"),
        ("overdue", "超时"), ("reopen_count", "重新办理次数"), ("escalation_level", "督办级别"),
    ),
    "done": (
        ("number", "诉求编号"), ("enterprise", "企业"), ("title", "标题"),
        ("category", "类别"), ("departments", "责任部门"), ("received_at", "收到时间"),
        ("completed_at", "办结时间"), ("closed_at", "销号时间"), ("closure", "销号方式"),
        ("satisfied", "满意"), ("efficiency", "办理效率"), ("attitude", "服务态度"),
        ("quality", "办理结果"), ("comment", "评价意见"),
    ),
}
LIST_TITLES = {"problems": "问题清单", "tasks": "任务清单", "done": "落实清单"}
STEP_HEADER = ("诉求编号", "标题", "时间", "环节", "办理人", "角色", "部门", "原状态", "新状态",
               "内容")
STEPS_TITLE = "办理过程"
#: columns in characters: numbers, times and names read whole, a title or a step's text wide
LIST_WIDTHS = {"number": 16, "enterprise": 28, "title": 36, "grid": 16, "departments": 24,
               "department": 18, "comment": 30, "received_at": 17, "triage_due_at": 17,
               "triaged_at": 17, "closed_at": 17, "accept_due_at": 17, "accepted_at": 17,
               "due_at": 17, "completed_at": 17}
STEP_WIDTHS = (16, 30, 17, 12, 12, 10, 18, 12, 12, 60)
#: labels of the codes a list shows, by field
LIST_LABELS = {"channel": "channel", "urgency": "urgency", "closure": "closure",
               "escalation_level": "escalation_level"}
READ_INTERNAL = frozenset({Role.COORDINATOR, Role.LEADER, Role.ADMIN})
#: what the steps read of a demand (not its description, attachments or words)
STEP_COLUMNS = (Demand.number, Demand.title, Demand.received_at, Demand.recorded_by,
                Demand.recorded_role, Demand.channel, Demand.urgency, Demand.category,
                Demand.difficulty, Demand.closure)
#: a reassignment's reason as handling writes it: "<from> → <to>: <reason>"
REASSIGNED = re.compile(r"^(?P<before>\S+) → (?P<after>\S+): (?P<reason>.*)$", re.S)


def local(value: Any) -> Any:
    """A time as a spreadsheet shows it: Asia/Shanghai, without the offset."""
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and value[10:11] == "T":
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
        return aware.astimezone(SHANGHAI).replace(tzinfo=None)
    return value


def cell_value(value: Any) -> Any:
    if type(value) is str and value[10:11] != "T":  # most cells: text that is no ISO time
        return value
    if isinstance(value, bool) or value is None:
        return YES_NO[value]
    if isinstance(value, list):
        return "、".join(str(item) for item in value if item is not None)
    if isinstance(value, (int, float)):
        return value
    return local(value)


def _label(dictionary: str, code: Any) -> str:
    return "" if code is None else label_of(dictionary, code, ZH)


def _state(code: str | None) -> str:
    if not code:
        return ""
    demand = label_of("demand_status", code, ZH)
    return demand if demand != code else label_of("task_status", code, ZH)


# --------------------------------------------------------------------------- the list


def list_row(view: str, item: Mapping[str, Any], categories: Mapping[str, str]) -> list[Any]:
    """One row of the list sheet from an item of the view (named: ``*_name`` fields)."""
    status_kind = "task_status" if view == "tasks" else "demand_status"
    last = (item.get("ratings") or [{}])[-1] if view == "done" else {}
    values: dict[str, Any] = {
        "enterprise": item.get("enterprise_name") or item.get("enterprise_id"),
        "category": categories.get(item.get("category") or "", item.get("category")),
        "grid": item.get("grid_name") or item.get("grid_id"),
        "department": item.get("department_name") or item.get("department_id"),
        "departments": item.get("department_names") or item.get("departments"),
        "accepted_by": item.get("accepted_by_name"),
        "status": _label(status_kind, item.get("status")),
        **{key: last.get(key) for key in ("efficiency", "attitude", "quality", "comment")},
    }
    for field, dictionary in LIST_LABELS.items():
        if field in item:
            values[field] = _label(dictionary, item[field])
    return [values[field] if field in values else item.get(field)
            for field, _ in LIST_COLUMNS[view]]


# --------------------------------------------------------------------------- the steps


def may_read_internal(principal: Principal, department_id: str | None) -> bool:
    """Internal notes (内部备注): coordinators, leaders, admins, and the note's department."""
    if principal.role in READ_INTERNAL:
        return True
    return (principal.role in (Role.LIAISON, Role.DEPARTMENT_HEAD)
            and principal.department_id is not None
            and principal.department_id == department_id)


def _step(demand: Demand, at: datetime | None, kind: str, *, actor: str | None = None,
          role: str | None = None, department_id: str | None = None,
          before: str | None = None, after: str | None = None, text: str = "") -> dict:
    return {"demand_id": demand.id, "number": demand.number, "title": demand.title, "at": at,
            "kind": kind, "actor": actor, "role": role, "department_id": department_id,
            "before": before, "after": after, "text": text}


def _join(*parts: str | None) -> str:
    return "；".join(p for p in parts if p)


def _time(value: datetime | None) -> str:
    return local(value).strftime("%Y-%m-%d %H:%M") if value else ""


def steps(session: Session, principal: Principal, demand_ids: Sequence[str]
          ) -> list[dict[str, Any]]:
    """Every step of these demands, demand by demand (in the given order), oldest first,
    with ids (``actor``, ``department_id``) for :mod:`services.ticketing.naming`.
    ``text`` already holds what the step says; its codes are labels."""
    ids = list(dict.fromkeys(demand_ids))
    if not ids:
        return []
    demands = {d.id: d for d in session.execute(
        select(Demand.id, *STEP_COLUMNS).where(among(Demand.id, ids)))}
    tasks: dict[str, list[Any]] = defaultdict(list)
    task_of: dict[str, Any] = {}
    for task in _rows(session, Task, among(Task.demand_id, ids), Task.created_at, Task.id):
        tasks[task.demand_id].append(task)
        task_of[task.id] = task
    entries: dict[str, list[Any]] = defaultdict(list)
    for entry in _rows(session, LedgerEntry, among(LedgerEntry.demand_id, ids), LedgerEntry.id):
        entries[entry.demand_id].append(entry)
    notes: dict[str, list[Any]] = defaultdict(list)
    for note in _rows(session, Note, among(Note.demand_id, ids), Note.created_at, Note.id):
        notes[note.demand_id].append(note)
    ratings: dict[str, list[Any]] = defaultdict(list)
    for rating in _rows(session, Rating, among(Rating.demand_id, ids), Rating.round):
        ratings[rating.demand_id].append(rating)
    extensions: dict[str, list[Any]] = defaultdict(list)
    escalations: dict[str, list[Any]] = defaultdict(list)
    if task_of:
        for ext in _rows(session, Extension, among(Extension.task_id, list(task_of)),
                         Extension.requested_at, Extension.id):
            extensions[ext.task_id].append(ext)
        for esc in _rows(session, Escalation, among(Escalation.task_id, list(task_of)),
                         Escalation.id):
            escalations[esc.task_id].append(esc)
    out: list[dict[str, Any]] = []
    for demand_id in ids:
        demand = demands.get(demand_id)
        if demand is None:
            continue
        out.extend(_demand_steps(principal, demand, tasks[demand_id], task_of,
                                 entries[demand_id], notes[demand_id], ratings[demand_id],
                                 extensions, escalations))
    return out


def _rows(session: Session, model: Any, where: Any, *order: Any) -> list[Any]:
    """Rows of ``model``'s columns (named as its attributes), not ORM objects: the steps of
    1,000 demands are about 4,000 rows a page, and building entities for them was most of
    the steps' time."""
    columns = [_as_text(getattr(model, column.key)) for column in model.__mapper__.column_attrs]
    return list(session.execute(select(*columns).where(where).order_by(*order)))


def _as_text(column: Any) -> Any:
    """A uuid column as its text, as the model gives it (``as_uuid=False``), read as text:
    the driver would build a ``uuid.UUID`` of each for the dialect to turn back into text
    (80,000 ledger lines with their tasks' ids: about 0.5 s of an export)."""
    if isinstance(column.type, Uuid):
        return cast(column, Text).label(column.key)
    return column


def _demand_steps(principal: Principal, demand: Any, tasks: list[Any],
                  task_of: Mapping[str, Any], entries: list[Any], notes: list[Any],
                  ratings: list[Any], extensions: Mapping[str, list[Any]],
                  escalations: Mapping[str, list[Any]]) -> list[dict[str, Any]]:
    """The steps of one demand from its rows (:func:`_rows`: columns named as the models'
    attributes)."""
    found: list[tuple[datetime, int, dict[str, Any]]] = []
    order = 0

    def add(at: datetime | None, step: dict[str, Any]) -> None:
        nonlocal order
        order += 1
        found.append((at or demand.received_at, order, step))

    if not any(e.action == "received" for e in entries):  # demands from before the intake line
        add(demand.received_at, _step(
            demand, demand.received_at, _label("ledger_action", "received"),
            actor=demand.recorded_by, role=demand.recorded_role, after="received",
            text=_join(f"渠道：{_label('channel', demand.channel)}")))
    ratings_left = list(ratings)
    # the decided extensions of this demand's tasks, in the order they were decided (the
    # page's other tasks are not looked at: that made a page's steps quadratic)
    decided: dict[str, list[Extension]] = {
        task.id: sorted((x for x in extensions[task.id] if x.decided_at is not None),
                        key=lambda x: (x.decided_at, x.id))
        for task in tasks if task.id in extensions}
    for entry in entries:
        # each field read once: a row's attribute is a lookup by name
        action, reason, task_id = entry.action, entry.reason, entry.task_id
        task = task_of.get(task_id or "")
        kind = _label("ledger_action", action)
        text = reason or ""
        if action == "received":
            text = _join(f"渠道：{_label('channel', entry.channel or demand.channel)}",
                         f"紧急程度：{_label('urgency', demand.urgency)}")
        elif action == "triage":
            text = _join(f"类别：{{category:{demand.category}}}" if demand.category else None,
                         f"难度：{_label('difficulty', demand.difficulty)}"
                         if demand.difficulty else None,
                         f"拟办意见：{reason}" if reason else None)
        elif action == "assign" and task is not None:
            text = _join(f"拟办意见：{reason}" if reason else None,
                         f"受理时限：{_time(task.accept_due_at)}" if task.accept_due_at else None,
                         f"办理时限：{_time(task.due_at)}" if task.due_at else None,
                         f"难度：{_label('difficulty', task.difficulty)}")
        elif action in ("return", "time_out"):
            text = f"退回原因：{reason}" if reason else ""
        elif action == "reassign" and reason:
            moved = REASSIGNED.match(reason)
            text = (f"由{{department:{moved['before']}}}改派{{department:{moved['after']}}}；"
                    f"理由：{moved['reason']}") if moved else reason
        elif action == "complete" and task_id:
            text = f"办理结果：{reason}" if reason else ""
        elif action in ("extension_approved", "extension_rejected") and task is not None:
            # the n-th decision of a task is its n-th decided extension
            queue = decided.get(task.id) or []
            last = queue.pop(0) if queue else None
            text = _join(f"延期 {last.workdays} 个工作日" if last else None,
                         f"新办理时限：{_time(last.new_due_at)}"
                         if last is not None and last.new_due_at else None,
                         f"意见：{reason}" if reason else None)
        elif action == "extension_requested":
            text = f"申请延期：{reason}" if reason else ""
        elif action == "rate":
            rating = ratings_left.pop(0) if ratings_left else None
            if rating is not None:
                text = _join("满意" if rating.satisfied else "不满意",
                             f"办理效率 {rating.efficiency}，服务态度 {rating.attitude}，"
                             f"办理结果 {rating.quality}",
                             f"评价意见：{rating.comment}" if rating.comment else None)
        elif action == "reopen":
            text = "评价不满意，重新办理"
        elif action == "close":
            closure = demand.closure or ""
            report = reason if closure == "internal" else None
            text = _join(f"销号方式：{_label('closure', closure)}" if closure else None,
                         f"书面汇报材料：{report}" if report else None)
        elif action == "demand_state":
            text = ""
        at = entry.at
        add(at, _step(demand, at, kind, actor=entry.actor, role=entry.actor_role,
                      department_id=entry.department_id, before=entry.from_state,
                      after=entry.to_state, text=text))
    for task in tasks:
        for esc in escalations.get(task.id, []):
            if esc.cause == "reopened":
                continue  # the ledger has it already (with its reason)
            add(esc.recorded_at, _step(
                demand, esc.recorded_at, _label("ledger_action", "escalate"),
                role=str(Role.SERVICE), department_id=esc.department_id,
                text=_join(f"督办级别：{_label('escalation_level', esc.level)}",
                           f"原因：{_label('escalation_cause', esc.cause)}")))
    for note in notes:
        if note.visibility == "internal" and not may_read_internal(principal,
                                                                   note.department_id):
            continue
        kind = "公开进展" if note.visibility == "public" else "内部备注"
        add(note.created_at, _step(demand, note.created_at, kind, actor=note.author,
                                   role=note.author_role, department_id=note.department_id,
                                   text=note.body))
    found.sort(key=lambda item: (item[0], item[1]))
    own = _own_department(principal)
    return [step for _, _, step in found
            if own is None or step["department_id"] in (None, own)]


def _own_department(principal: Principal) -> str | None:
    """Department staff read their department's part of the ledger (and the demand's own
    steps); the readers of the whole ledger everything."""
    if principal.role in (Role.LIAISON, Role.DEPARTMENT_HEAD):
        return principal.department_id
    return None


_PLACEHOLDER = re.compile(r"\{(category|department):([^{}]*)\}")


def step_row(step: Mapping[str, Any], names: Mapping[str, Mapping[str, str]],
             categories: Mapping[str, str]) -> list[Any]:
    """One row of 办理过程 as its cells: names instead of ids, labels instead of codes, the
    time in Asia/Shanghai (each cell final: the rows skip :func:`cell_value`, 800,000 calls
    in an export with a whole lifecycle's ledger)."""
    departments = names.get("departments") or {}

    def named(match: re.Match[str]) -> str:
        kind, code = match.group(1), match.group(2)
        return (categories if kind == "category" else departments).get(code, code)

    role = step.get("role")
    actor = step.get("actor")
    who = (names.get("accounts") or {}).get(actor or "")
    if who is None:
        who = "平台" if role == Role.SERVICE else (_label("actor_role", role) if role else "")
    return [step["number"], step["title"], local(step["at"]), step["kind"], who,
            _label("actor_role", role) if role else "",
            departments.get(step.get("department_id") or "", step.get("department_id")),
            _state(step.get("before")), _state(step.get("after")),
            _PLACEHOLDER.sub(named, step.get("text") or "")]


# --------------------------------------------------------------------------- the workbook


def workbook(view: str, list_pages: Iterable[Sequence[Mapping[str, Any]]],
             step_pages: Iterable[tuple[Sequence[Mapping[str, Any]],
                                        Mapping[str, Mapping[str, str]]]],
             categories: Mapping[str, str]) -> bytes:
    """The export's two sheets (:func:`common.xlsx.workbook`): the list from its pages of
    named items, then 办理过程 from its pages of steps with their names; each page is read
    when the sheet needs it, so the caller reports progress page by page. Text neutralised,
    times in Asia/Shanghai."""

    def list_rows() -> Iterator[list[Any]]:
        for items in list_pages:
            for item in items:
                yield [cell_value(v) for v in list_row(view, item, categories)]

    def step_rows() -> Iterator[list[Any]]:
        for steps_of_page, names in step_pages:
            for step in steps_of_page:
                yield step_row(step, names, categories)

    list_header = [header for _, header in LIST_COLUMNS[view]]
    return xlsx.workbook([
        xlsx.Sheet(LIST_TITLES[view], list_header, list_rows(),
                   [LIST_WIDTHS.get(field, xlsx.header_width(header))
                    for field, header in LIST_COLUMNS[view]]),
        xlsx.Sheet(STEPS_TITLE, STEP_HEADER, step_rows(), STEP_WIDTHS)])


def demand_ids_of(view: str, items: Iterable[Mapping[str, Any]]) -> list[str]:
    key = "demand_id" if view == "tasks" else "id"
    return list(dict.fromkeys(item[key] for item in items))
