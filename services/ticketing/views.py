"""What people read of the lifecycle: the enterprise's timeline (办理进度) and the ledger
(台账) with its three lists (问题清单, 任务清单, 落实清单) and their XLSX export.

Plain functions over a SQLAlchemy session; no broker in here. The marshmallow schemas at the
top are contract schemas that belong in :mod:`services.ticketing.schemas` (they live here
until they are moved).

The timeline shows states, dates, departments and public notes (公开进展) only: never an
internal note (内部备注), never a ledger reason (it may hold a written report), never the id
of a staff member (the role or the department is shown instead).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from functools import cache
from types import SimpleNamespace
from typing import Any

from marshmallow import Schema
from sqlalchemy import (
    Date,
    DateTime,
    and_,
    bindparam,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session, load_only

from common.auth import Principal, Role
from common.db import among
from common.errors import Forbidden, NotFound
from common.pagination import paginate
from common.validation import is_uuid
from services.ticketing import intake, search
from services.ticketing.closure import awaiting_resolution_clause
from services.ticketing.models import Deadline, Demand, LedgerEntry, Note, Rating, Task
from services.ticketing.schemas import (
    DemandTimelineSchema,
    DoneItemSchema,
    DonePageSchema,
    LedgerEntrySchema,
    PendingDeadlineSchema,
    ProblemItemSchema,
    ProblemPageSchema,
    RatingSchema,
    TaskItemPageSchema,
    TaskItemSchema,
)

# =========================================================================== contract schemas
# (to be moved into services/ticketing/schemas.py)




# =========================================================================== access

LEDGER_READ_ALL = frozenset({Role.COORDINATOR, Role.LEADER, Role.ADMIN})
LEDGER_DEPARTMENT = frozenset({Role.LIAISON, Role.DEPARTMENT_HEAD})
OPEN_TASK_STATES = ("assigned", "coordination", "accepted")
#: the largest export (about the zone's demands of several years)
MAX_EXPORT_ROWS = 50_000


def ledger_reader(principal: Principal) -> str | None:
    """None for readers of the whole ledger; the department of department staff; else 403."""
    return _ledger_department(principal)


def _ledger_department(principal: Principal) -> str | None:
    """None for readers of the whole ledger; the department of department staff; else 403."""
    if principal.role in LEDGER_READ_ALL:
        return None
    if principal.role in LEDGER_DEPARTMENT and principal.department_id:
        return principal.department_id
    raise Forbidden("{role} may not read the ledger", code="ledger.read_forbidden",
                    params={"role": principal.role_label})


# =========================================================================== timeline

#: built once: a nested schema deep-copies its fields when it is constructed
TIMELINE_SCHEMA = DemandTimelineSchema()
PENDING_SCHEMA = PendingDeadlineSchema(many=True)


def _rows_json(model: Any, where: Any, *order: Any) -> Any:
    """The rows of ``model`` matching ``where``, in ``order``, as one JSON array."""
    pairs = [part for column in model.__table__.c for part in (literal(column.name), column)]
    rows = func.json_agg(aggregate_order_by(func.json_build_object(*pairs), *order))
    return select(func.coalesce(rows, literal_column("'[]'::json"))).where(where) \
        .scalar_subquery()


def _parsers(model: Any) -> list[tuple[str, Callable[[str], Any]]]:
    parsers: list[tuple[str, Callable[[str], Any]]] = []
    for column in model.__table__.c:
        if isinstance(column.type, DateTime):
            parsers.append((column.name, datetime.fromisoformat))
        elif isinstance(column.type, Date):
            parsers.append((column.name, date.fromisoformat))
    return parsers


_PARSERS: dict[Any, list[tuple[str, Callable[[str], Any]]]] = {}
_TIMELINE_STATEMENTS: dict[str, Any] = {}


def _timeline_statement(kind: str) -> Any:
    """One statement per kind of reader, built once: building it and its cache key cost
    more than running it."""
    statement = _TIMELINE_STATEMENTS.get(kind)
    if statement is None:
        statement = _TIMELINE_STATEMENTS[kind] = select(
            Demand,
            _rows_json(Task, Task.demand_id == Demand.id, Task.created_at, Task.id),
            _rows_json(LedgerEntry, LedgerEntry.demand_id == Demand.id, LedgerEntry.id),
            _rows_json(Note, and_(Note.demand_id == Demand.id, Note.visibility == "public"),
                       Note.created_at, Note.id),
            _rows_json(Rating, Rating.demand_id == Demand.id, Rating.round),
            # the demand's pending deadlines (分理, rating reminder, unrated closure)
            _rows_json(Deadline, and_(Deadline.subject_id == Demand.id,
                                      Deadline.fired_at.is_(None),
                                      Deadline.cancelled_at.is_(None)),
                       Deadline.due_at, Deadline.id),
        ).where(Demand.id == bindparam("demand_id"), intake.visibility_clause(kind))
    return statement


def _revive(model: Any, items: list[dict[str, Any]]) -> list[SimpleNamespace]:
    """JSON rows back into objects with the columns' Python types (dates, datetimes)."""
    parsers = _PARSERS.get(model)
    if parsers is None:
        parsers = _PARSERS[model] = _parsers(model)
    for item in items:
        for name, parse in parsers:
            if item[name] is not None:
                item[name] = parse(item[name])
    return [SimpleNamespace(**item) for item in items]


def timeline(session: Session, principal: Principal, demand_id: str) -> dict[str, Any]:
    """办理进度 of a demand (``DemandTimelineSchema``), for whoever may read the demand:
    the owning enterprise, its grid staff, the departments with a task on it, coordinators,
    leaders and admins (NotFound for anyone else)."""
    if not is_uuid(demand_id):
        raise NotFound("no such demand", code="demand.not_found")
    # one statement, one round trip: the demand (if the caller may read it) with its tasks,
    # ledger, public notes and ratings as JSON arrays (six queries took 11 ms of CPU a read)
    kind = intake.visibility_kind(principal)
    found = session.execute(_timeline_statement(kind),
                            {"demand_id": demand_id, **intake.visibility_params(principal)}).first()
    if found is None:
        raise NotFound("no such demand", code="demand.not_found")
    demand = found[0]
    tasks, rows, notes, ratings, pending = (
        _revive(model, found[i])
        for i, model in enumerate((Task, LedgerEntry, Note, Rating, Deadline), 1))
    entries: list[tuple[datetime, int, dict[str, Any]]] = []
    if not any(row.to_state == "received" for row in rows):
        entries.append((demand.received_at, 0, {
            "at": demand.received_at, "kind": "received", "state": "received",
            "department_id": None, "text": None, "deadline": demand.triage_due_at,
            "deadline_provisional": bool(demand.triage_due_provisional),
            "actor_role": demand.recorded_role,
        }))
    by_task = {task.id: task for task in tasks}
    last_of_task = {row.task_id: index for index, row in enumerate(rows) if row.task_id}
    for index, row in enumerate(rows):
        if row.from_state == row.to_state and row.action != "rate":
            continue  # reminders, escalations, notes: not a step the enterprise follows
        deadline, provisional = None, False
        task = by_task.get(row.task_id) if row.task_id else None
        if task is not None and last_of_task.get(row.task_id) == index:
            deadline, provisional = {
                "assigned": (task.accept_due_at, bool(task.accept_due_provisional)),
                "accepted": (task.due_at, bool(task.due_provisional)),
            }.get(row.to_state or "", (None, False))
        elif row.task_id is None and row.to_state == "received":
            deadline = demand.triage_due_at
            provisional = bool(demand.triage_due_provisional)
        entries.append((row.at, 1 + index, {
            "at": row.at, "kind": row.action, "state": row.to_state,
            "department_id": row.department_id,
            "text": row.reason if row.action == "rate" else None,
            "deadline": deadline, "deadline_provisional": provisional,
            "actor_role": row.actor_role,
        }))
    for note in notes:
        entries.append((note.created_at, 1 + len(rows), {
            "at": note.created_at, "kind": "note", "state": None,
            "department_id": note.department_id, "text": note.body, "deadline": None,
            "deadline_provisional": False,
            "actor_role": note.author_role,
        }))
    entries.sort(key=lambda item: (item[0], item[1]))
    result = TIMELINE_SCHEMA.dump({
        "demand": demand, "tasks": tasks, "ratings": ratings,
        "entries": [item for _, _, item in entries],
    })
    result["demand"]["deadlines"] = PENDING_SCHEMA.dump(
        [{"kind": d.kind, "level": d.level, "due_at": d.due_at, "provisional": d.provisional}
         for d in pending])
    if demand.recorded_role != Role.ENTERPRISE:
        result["demand"]["recorded_by"] = demand.recorded_role  # a role, not a staff id
    if principal.role == Role.ENTERPRISE:
        for item in result["tasks"]:
            item["returned_reason"] = None  # between the department and the coordinators
            item["internal_report"] = item["report_return_reason"] = None
            item["report_attachments"] = []
    return result


# =========================================================================== ledger


def list_ledger(session: Session, principal: Principal,
                filters: dict[str, Any]) -> dict[str, Any]:
    """台账 entries (``LedgerPageSchema``), newest first; department staff see only the
    entries of their department."""
    own = _ledger_department(principal)
    query = select(LedgerEntry)
    if own is not None:
        query = query.where(LedgerEntry.department_id == own)
    for field in ("demand_id", "department_id", "action"):
        if filters.get(field):
            query = query.where(getattr(LedgerEntry, field) == filters[field])
    if filters.get("since"):
        query = query.where(LedgerEntry.at >= filters["since"])
    if filters.get("until"):
        query = query.where(LedgerEntry.at < filters["until"])
    found = paginate(session, query, filters,
                     order_by=[LedgerEntry.at.desc(), LedgerEntry.id.desc()], scalars=True)
    return found.map(LedgerEntrySchema().dump).as_dict()


def _demand_query(principal: Principal, filters: dict[str, Any], columns: Sequence[Any],
                  now: datetime, enterprise_ids: Sequence[str] | None) -> Any:
    """The demands of ``principal``'s part of the ledger, narrowed by the search box and the
    filters (:func:`services.ticketing.search.apply`)."""
    own = _ledger_department(principal)
    query = select(*columns)
    if own is not None:
        query = query.where(search.has_task_of(own))
    return search.apply(query, filters, now, enterprise_ids=enterprise_ids)


def _page(session: Session, query: Any, filters: dict[str, Any],
          *order: Any) -> tuple[list[Any], int, bool]:
    """A page of ``query`` (or up to :data:`MAX_EXPORT_ROWS` rows without ``page``), the
    count of all (-1 with ``count=False``: an export reading page after page; ``count_cap``:
    the search's cap instead of :data:`~services.ticketing.search.COUNT_CAP`) and whether
    the count is capped (:func:`services.ticketing.search.counted`). In the best match of
    ``q`` first, unless capped, then in ``order``."""
    page = filters if "page" in filters else {"page": 1, "per_page": MAX_EXPORT_ROWS}
    total, capped = (-1, False) if filters.get("count") is False else search.counted(
        session, query, filters, filters.get("count_cap"))
    relevance = search.by_relevance(filters, capped)
    found = paginate(session, query, page, total=total,
                     order_by=(*(() if relevance is None else (relevance,)), *order))
    return found.items, found.total, capped


def _departments(session: Session, demand_ids: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {demand_id: [] for demand_id in demand_ids}
    if not demand_ids:
        return found
    for demand_id, department_id in session.execute(
        select(Task.demand_id, Task.department_id)
        .where(among(Task.demand_id, demand_ids), Task.status != "cancelled")
        .order_by(Task.created_at, Task.id)
    ):
        if department_id not in found[demand_id]:
            found[demand_id].append(department_id)
    return found


def _paged(items: list[dict[str, Any]], total: int, filters: dict[str, Any],
           capped: bool = False) -> dict[str, Any]:
    return {"items": items, "total": total, "total_capped": capped,
            "page": filters.get("page", 1),
            "per_page": filters.get("per_page", len(items))}


def _dumped(schema: type[Schema], page: dict[str, Any], dump: bool) -> dict[str, Any]:
    """The page as its schema dumps it; with ``dump`` False its items as read (times stay
    datetimes): the export writes cells from them, and dumping 10,000 rows only for the
    workbook to parse their times back took 0.9 s of its 5.3 s."""
    return schema().dump(page) if dump else page


def _empty(filters: dict[str, Any], schema: type[Schema]) -> dict[str, Any]:
    return schema().dump(_paged([], 0, filters))


def problems(session: Session, principal: Principal, filters: dict[str, Any],
             now: datetime | None = None,
             enterprise_ids: Sequence[str] | None = None, dump: bool = True
             ) -> dict[str, Any]:
    """问题清单 (``ProblemPageSchema``): demands with their state, category, departments;
    newest first, or the best match of ``q`` first."""
    waiting = awaiting_resolution_clause().label("awaiting_resolution")
    try:
        query = _demand_query(principal, filters, (Demand, waiting), now or datetime.now(UTC),
                              enterprise_ids)
    except search.Unmatched:
        return _empty(filters, ProblemPageSchema)
    if filters.get("state"):
        query = query.where(Demand.status == filters["state"])
    if filters.get("awaiting_resolution") is not None:
        clause = awaiting_resolution_clause()
        query = query.where(clause if filters["awaiting_resolution"] else ~clause)
    rows, total, capped = _page(session, query.options(_demand_columns(ProblemItemSchema)),
                                filters, Demand.received_at.desc(), Demand.id)
    departments = _departments(session, [demand.id for demand, _ in rows])
    items = [{**_columns(demand, ProblemItemSchema), "departments": departments[demand.id],
              "awaiting_resolution": bool(flag)} for demand, flag in rows]
    return _dumped(ProblemPageSchema, _paged(items, total, filters, capped), dump)


def _columns(row: Any, schema: type[Schema]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _field_names(schema) if hasattr(row, name)}


@cache
def _field_names(schema: type[Schema]) -> tuple[str, ...]:
    """The schema's field names, read once: a marshmallow Schema built for every row took
    2.25 s of the 3.5 s that two pages of 1,000 rows took for the ledger's workbook."""
    return tuple(schema().fields)


@cache
def _demand_columns(schema: type[Schema]) -> Any:
    """The load option of a list's demands: the columns its ``schema`` shows (not the
    description, the attachments or the words: a list of 1,000 rows decoded 1,000
    attachments it never showed); reading another column is an error, not a query a row."""
    columns = Demand.__mapper__.columns
    return load_only(*(getattr(Demand, name) for name in _field_names(schema)
                       if name in columns), raiseload=True)


def _is_overdue(task: Task, now: datetime) -> bool:
    if task.due_at is None:
        return False
    if task.status in OPEN_TASK_STATES:
        return task.due_at < now
    return task.status == "completed" and task.completed_at is not None \
        and task.completed_at > task.due_at


def tasks(session: Session, principal: Principal, filters: dict[str, Any],
          now: datetime | None = None,
          enterprise_ids: Sequence[str] | None = None, dump: bool = True
          ) -> dict[str, Any]:
    """任务清单 (``TaskItemPageSchema``): tasks with department, deadlines, state, overdue;
    by handling deadline, or the best match of ``q`` first."""
    moment = now or datetime.now(UTC)
    own = _ledger_department(principal)
    query = select(Task, Demand).join(Demand, Demand.id == Task.demand_id)
    if own is not None:
        query = query.where(Task.department_id == own)
    try:
        query = search.apply(query, filters, moment, per_task=True,
                             enterprise_ids=enterprise_ids)
    except search.Unmatched:
        return _empty(filters, TaskItemPageSchema)
    if filters.get("state"):
        query = query.where(Task.status == filters["state"])
    rows, total, capped = _page(session, query, filters, Task.due_at.asc().nulls_last(),
                                Demand.received_at.desc(), Task.id)
    # the demand's enterprise id too: naming.decorate names it (enterprise_name)
    items = [{**_columns(task, TaskItemSchema), "number": demand.number, "title": demand.title,
              "enterprise_id": demand.enterprise_id,
              "category": demand.category, "received_at": demand.received_at,
              "overdue": _is_overdue(task, moment)} for task, demand in rows]
    return _dumped(TaskItemPageSchema, _paged(items, total, filters, capped), dump)


def done(session: Session, principal: Principal, filters: dict[str, Any],
         now: datetime | None = None,
         enterprise_ids: Sequence[str] | None = None, dump: bool = True
         ) -> dict[str, Any]:
    """落实清单 (``DonePageSchema``): closed demands with the closure kind and ratings; the
    latest closed first, or the best match of ``q`` first."""
    try:
        query = _demand_query(principal, filters, (Demand,), now or datetime.now(UTC),
                              enterprise_ids).where(Demand.status == "closed")
    except search.Unmatched:
        return _empty(filters, DonePageSchema)
    if filters.get("state"):
        query = query.where(Demand.status == filters["state"])
    if filters.get("closure"):
        query = query.where(Demand.closure == filters["closure"])
    rows, total, capped = _page(session, query.options(_demand_columns(DoneItemSchema)),
                                filters, Demand.closed_at.desc().nulls_last(), Demand.id)
    ids = [demand.id for demand, in rows]
    departments = _departments(session, ids)
    ratings: dict[str, list[dict[str, Any]]] = {demand_id: [] for demand_id in ids}
    if ids:
        for rating in session.execute(
            select(Rating).where(Rating.demand_id.in_(ids)).order_by(Rating.round)
        ).scalars():
            ratings[rating.demand_id].append(_columns(rating, RatingSchema))
    items = [{**_columns(demand, DoneItemSchema), "departments": departments[demand.id],
              "ratings": ratings[demand.id],
              "satisfied": ratings[demand.id][-1]["satisfied"] if ratings[demand.id] else None}
             for demand, in rows]
    return _dumped(DonePageSchema, _paged(items, total, filters, capped), dump)


# =========================================================================== the lists

VIEWS = {"problems": problems, "tasks": tasks, "done": done}
