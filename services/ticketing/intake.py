"""Intake (信息收集): who may record a demand for which enterprise, and idempotent submission.

Plain functions over a SQLAlchemy session; no broker in here.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, exists, or_, select, text, true, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from common.calendar import SHANGHAI, WorkCalendar
from common.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed, field_error
from common.outbox import record_events
from common.pagination import paginate
from services.ticketing import search, sla
from services.ticketing.models import Demand, LedgerEntry, Task, outbox

#: roles that record demands on an enterprise's behalf (grid workers, the service window...)
RECORDING_STAFF = {Role.GRID_WORKER, Role.GRID_LEADER, Role.COORDINATOR, Role.ADMIN}
#: roles that read every demand
READ_ALL = {Role.COORDINATOR, Role.LEADER, Role.ADMIN}


#: the intake channels (信息收集渠道) each role may record: an enterprise its own (the app, the
#: website, WeChat, self-service), grid staff the grid worker's visit, the committee's staff
#: the service window and the hotline; nobody may claim another's channel
CHANNELS_OF_ROLE: dict[Role, frozenset[str]] = {
    Role.ENTERPRISE: frozenset({"app", "website", "wechat", "enterprise"}),
    Role.GRID_WORKER: frozenset({"grid_worker"}),
    Role.GRID_LEADER: frozenset({"grid_worker"}),
    Role.COORDINATOR: frozenset({"service_window", "hotline"}),
    Role.ADMIN: frozenset({"service_window", "hotline"}),
}


def check_channel(principal: Principal, channel: str | None) -> None:
    """422 naming ``channel`` when the caller's role may not record a demand in it."""
    allowed = CHANNELS_OF_ROLE.get(principal.role, frozenset())
    if channel is not None and channel not in allowed:
        raise ValidationFailed(
            "{role} may not record a demand in this channel",
            {"channel": [field_error("demand.channel_not_yours",
                                     "not a channel your role may record")]},
            code="demand.channel_not_yours", params={"role": principal.role_label})


def resolve_enterprise(principal: Principal, requested: str | None,
                       channel: str | None = None) -> str:
    """The enterprise a new demand belongs to; enterprises may only file their own, and each
    role records only its own channels (:func:`check_channel`)."""
    if principal.role == Role.ENTERPRISE:
        if not principal.enterprise_id:
            raise Forbidden("this account is not linked to an enterprise",
                            code="account.no_enterprise")
        if requested and requested != principal.enterprise_id:
            raise Forbidden("an enterprise may only file its own demands",
                            code="demand.other_enterprise")
        check_channel(principal, channel)
        return principal.enterprise_id
    if principal.role not in RECORDING_STAFF:
        raise Forbidden("{role} may not record demands", code="demand.record_forbidden",
                        params={"role": principal.role_label})
    check_channel(principal, channel)
    if not requested:
        raise ValidationFailed("enterprise_id is required", {"enterprise_id": [field_error(
            "field.required", "required")]}, code="demand.enterprise_required")
    return requested


def request_hash(data: dict[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def next_number(session: Session, received_local: datetime) -> str:
    seq = session.execute(text("SELECT nextval('ticketing.demand_number_seq')")).scalar_one()
    return f"SQ{received_local:%Y%m%d}-{seq:05d}"


def next_numbers(session: Session, received_local: datetime, count: int) -> list[str]:
    """``count`` numbers in one round trip (a batch of submissions)."""
    seqs = session.execute(
        text("SELECT nextval('ticketing.demand_number_seq') FROM generate_series(1, :n)"),
        {"n": count},
    ).scalars()
    return [f"SQ{received_local:%Y%m%d}-{seq:05d}" for seq in seqs]


def find_by_keys(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Demand]:
    """The demands recorded under these (recorder, Idempotency-Key) pairs, in one query."""
    if not keys:
        return {}
    rows = session.execute(
        select(Demand).where(tuple_(Demand.recorded_by, Demand.idempotency_key).in_(keys))
    ).scalars()
    return {(d.recorded_by, d.idempotency_key or ""): d for d in rows}


def find_by_key(session: Session, principal: Principal, key: str) -> Demand | None:
    return session.execute(
        select(Demand).where(Demand.recorded_by == principal.user_id, Demand.idempotency_key == key)
    ).scalar_one_or_none()


def check_enterprise(enterprise: dict[str, Any] | None) -> dict[str, Any]:
    """The enterprise as the registry showed it to the caller; demands are taken only for
    enterprises in the service scope (服务范围)."""
    if enterprise is None:
        raise ValidationFailed("no such enterprise, or not one you may record for",
                               {"enterprise_id": [field_error("enterprise.not_found",
                                                              "unknown or not yours")]},
                               code="enterprise.not_found")
    if not enterprise.get("in_scope"):
        raise ValidationFailed("the enterprise is not in the service scope",
                               {"enterprise_id": [field_error("enterprise.out_of_scope",
                                                              "out of the service scope")]},
                               code="enterprise.out_of_scope")
    return enterprise


def submit(
    session: Session,
    principal: Principal,
    data: dict[str, Any],
    idempotency_key: str | None,
    calendar: WorkCalendar,
    call_id: str | None = None,
    now: datetime | None = None,
    enterprise: dict[str, Any] | None = None,
    number: str | None = None,
    key_checked: bool = False,
) -> tuple[Demand, bool]:
    """Record a demand and its ``demand_received`` event; returns (demand, created).

    The same Idempotency-Key from the same caller returns the first demand; reused with a
    different body it is a conflict. ``enterprise`` is the registry's record (for its grid);
    ``calendar`` comes from ``CalendarCache.get(session,
    lock=True)``, so that a concurrent calendar load (调休) either sees this demand and
    re-plans its provisional deadline, or is seen by it. A batch passes the ``number`` it
    drew and ``key_checked`` when it looked the key up already.
    """
    enterprise_id = resolve_enterprise(principal, data.get("enterprise_id"), data.get("channel"))
    digest = request_hash(data)
    if idempotency_key and not key_checked:
        existing = find_by_key(session, principal, idempotency_key)
        if existing is not None:
            return same_request(existing, digest), False
    received_at = now or datetime.now(UTC)
    demand = new_demand(
        NewDemand(principal, data, idempotency_key, enterprise,
                  number or next_number(session, received_at.astimezone(SHANGHAI))),
        enterprise_id, digest, calendar, received_at)
    if not idempotency_key:  # nothing unique to race for: no savepoint needed
        session.add(demand)
        session.flush()
    else:
        try:
            with session.begin_nested():
                session.add(demand)
                session.flush()
        except IntegrityError:
            # a concurrent request with the same key won the race: answer with its demand
            existing = find_by_key(session, principal, idempotency_key)
            if existing is None:
                raise
            return same_request(existing, digest), False
    announce(session, [demand], call_id)
    return demand, True


@dataclass(frozen=True)
class NewDemand:
    """One demand of a batch, checked already: its caller may record it for its enterprise
    (the registry's record), its key was not used before, and its number is drawn."""

    principal: Principal
    data: dict[str, Any]
    idempotency_key: str | None
    enterprise: dict[str, Any] | None
    number: str


def submit_batch(session: Session, batch: list[NewDemand], calendar: WorkCalendar,
                 call_id: str | None, now: datetime
                 ) -> list[tuple[Demand, bool] | DomainError]:
    """:func:`submit` for several demands received at one moment, written together: one
    INSERT each for the demands, their triage deadlines and their events, whatever the count.
    Each item's answer in order: (demand, created), or the error refusing that item.

    A key raced by a concurrent request makes the whole batch's insert fail; it is then
    retried one by one, each :func:`submit` answering its own (a replay or a conflict)."""
    demands = [new_demand(item, resolve_enterprise(item.principal,
                                                   item.data.get("enterprise_id"),
                                                   item.data.get("channel")),
                          request_hash(item.data), calendar, now) for item in batch]
    try:
        with session.begin_nested():
            session.add_all(demands)
            session.flush()
    except IntegrityError:
        answers: list[tuple[Demand, bool] | DomainError] = []
        for item in batch:
            try:
                answers.append(submit(session, item.principal, item.data, item.idempotency_key,
                                      calendar, call_id, now=now, enterprise=item.enterprise,
                                      number=item.number))
            except DomainError as exc:
                answers.append(exc)
        return answers
    announce(session, demands, call_id)
    return [(demand, True) for demand in demands]


def new_demand(item: NewDemand, enterprise_id: str, digest: str, calendar: WorkCalendar,
               received_at: datetime) -> Demand:
    """The demand as received (待分理), its triage due by the next working day's 10:00."""
    deadline = sla.triage_deadline(calendar, received_at)
    data = item.data
    return Demand(
        id=str(uuid.uuid4()),
        number=item.number,
        enterprise_id=enterprise_id,
        channel=data["channel"],
        category=data.get("category"),
        title=data["title"],
        description=data["description"],
        urgency=data["urgency"],
        attachments=data["attachments"],
        status="received",
        received_at=received_at,
        triage_due_at=deadline.at,
        triage_due_provisional=deadline.provisional,
        recorded_by=item.principal.user_id,
        recorded_role=str(item.principal.role),
        idempotency_key=item.idempotency_key,
        request_hash=digest,
        version=1,
        grid_id=(item.enterprise or {}).get("grid_id"),
        search=search.document(data["title"], data["description"]),
    )


def announce(session: Session, demands: list[Demand], call_id: str | None) -> None:
    """Schedule each new demand's triage deadline, write intake as the first step of its
    ledger (who recorded it, in which role and channel) and record its ``demand_received``."""
    for demand in demands:
        sla.schedule(session, "triage", demand.id, demand.triage_due_at,
                     provisional=bool(demand.triage_due_provisional))
        session.add(LedgerEntry(demand_id=demand.id, action="received", from_state=None,
                                to_state="received", actor=demand.recorded_by,
                                actor_role=demand.recorded_role, channel=demand.channel,
                                at=demand.received_at))
    record_events(session, outbox, "ticketing", [("demand_received", {
        "demand_id": demand.id,
        "number": demand.number,
        "enterprise_id": demand.enterprise_id,
        "grid_id": demand.grid_id,
        "title": demand.title,
        "channel": demand.channel,
        "received_at": demand.received_at.isoformat(),
        "triage_due_at": demand.triage_due_at.isoformat(),
        "triage_due_provisional": demand.triage_due_provisional,
    }) for demand in demands], call_id=call_id)


def same_request(existing: Demand, digest: str) -> Demand:
    if existing.request_hash != digest:
        raise Conflict("Idempotency-Key was already used for a different request",
                       code="request.idempotency_key_reused")
    return existing


GRID_ROLES = {Role.GRID_WORKER, Role.GRID_LEADER}
DEPARTMENT_ROLES = {Role.LIAISON, Role.DEPARTMENT_HEAD}


def visibility_kind(principal: Principal) -> str:
    """Which rule of :func:`visibility` applies to this caller."""
    if principal.role in READ_ALL:
        return "all"
    if principal.role == Role.ENTERPRISE:
        return "enterprise"
    if principal.role in GRID_ROLES:
        return "grid"
    if principal.role in DEPARTMENT_ROLES and principal.department_id:
        return "department"
    return "own"


def visibility_clause(kind: str, values: dict[str, Any] | None = None) -> Any:
    """The WHERE clause of a :func:`visibility_kind` over Demand, with bound parameters:
    their ``values`` (:func:`visibility_params`), or, without them, given at execution, so that
    a statement built with it can be reused by any caller of that kind."""
    values = values or {}

    def bound(key: str, expanding: bool = False) -> Any:
        if key in values:
            return bindparam(key, value=values[key], expanding=expanding)
        return bindparam(key, expanding=expanding)

    mine = Demand.recorded_by == bound("vis_user")
    if kind == "all":
        return true()
    if kind == "enterprise":
        return Demand.enterprise_id == bound("vis_enterprise")
    if kind == "grid":
        return or_(Demand.grid_id.in_(bound("vis_grids", expanding=True)), mine)
    if kind == "department":
        has_task = exists().where(Task.demand_id == Demand.id,
                                  Task.department_id == bound("vis_department"))
        return or_(has_task, mine)
    return mine


def visibility_params(principal: Principal) -> dict[str, Any]:
    return {"vis_user": principal.user_id, "vis_enterprise": principal.enterprise_id or "",
            "vis_grids": list(principal.grid_ids or ("",)),
            "vis_department": principal.department_id or ""}


def visibility(principal: Principal) -> Any:
    """A WHERE clause over Demand: what this caller may see.

    Enterprises their own; grid staff their grids' (and what they recorded); department staff
    the demands with a task of their department; coordinators, leaders, admins all.
    """
    return visibility_clause(visibility_kind(principal), visibility_params(principal))


def get_visible(session: Session, principal: Principal, demand_id: str) -> Demand:
    """The demand if the caller may see it; otherwise NotFound, so existence does not leak."""
    try:
        uuid.UUID(demand_id)
    except ValueError as exc:
        raise NotFound("no such demand", code="demand.not_found") from exc
    if principal.role in READ_ALL:
        demand = session.get(Demand, demand_id)
    else:  # one query: the demand and the caller's right to it
        demand = session.execute(
            select(Demand).where(Demand.id == demand_id, visibility(principal))
        ).scalar_one_or_none()
    if demand is None:
        raise NotFound("no such demand", code="demand.not_found")
    return demand


def list_visible(
    session: Session, principal: Principal, filters: dict[str, Any],
    enterprise_ids: list[str] | None = None, now: datetime | None = None,
) -> tuple[list[Demand], int, bool]:
    """A page of the demands the caller may see (:func:`visibility`), narrowed by the search
    box and the filters (:func:`services.ticketing.search.apply`); newest first, by triage
    deadline, or the best match of ``q`` first (the default with ``q``, unless more than
    :data:`~services.ticketing.search.COUNT_CAP` match). With the total and whether it is
    capped (:func:`services.ticketing.search.counted`)."""
    query = select(Demand).where(visibility(principal))
    for field in ("enterprise_id", "status"):
        if filters.get(field):
            query = query.where(getattr(Demand, field) == filters[field])
    try:
        query = search.apply(query, filters, now or datetime.now(UTC),
                             enterprise_ids=enterprise_ids)
    except search.Unmatched:
        return [], 0, False
    total, capped = search.counted(session, query, filters)
    relevance = search.by_relevance(filters, capped)
    if filters.get("sort") == "triage_due_at":
        order: tuple[Any, ...] = (Demand.triage_due_at, Demand.received_at, Demand.id)
    elif relevance is not None:
        order = (relevance, Demand.received_at.desc(), Demand.id)
    else:
        order = (Demand.received_at.desc(), Demand.id)
    found = paginate(session, query, filters, order_by=order, scalars=True, total=total)
    return found.items, found.total, capped
