"""协议合同 between the committee and an enterprise, and their obligations (履约事项).

The committee must never miss one of its own commitments (预先消除违约事项): every committee
obligation gets a reminder (``obligation_due``) a configurable number of working days before
it is due, and ``obligation_overdue`` on the first working day after its due date passes
unfulfilled. Both are raised by :func:`run_sweep`, which every replica runs from a nameko
``@timer``: rows are claimed with ``FOR UPDATE SKIP LOCKED`` and marked in the same
transaction that writes the event into the outbox, so each event is recorded exactly once.

Who may do what:

- record a contract: coordinators and admins for any department; a department head or liaison
  only for their own department;
- read contracts: coordinators, leaders and admins all; department staff the contracts of
  their department or with an obligation owned by it; grid workers and leaders those of the
  enterprises of their grids; an enterprise its own. Anything else is "not found";
- fulfil (履约) an obligation: the owning department's head or liaison, coordinators, admins.

Plain functions over a SQLAlchemy session; no broker in here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, aliased

from common import settings_row
from common.auth import Principal, Role
from common.calendar import SHANGHAI, WorkCalendar
from common.concurrency import stale
from common.errors import (
    Forbidden,
    NotFound,
    field_error,
    invalid_fields,
)
from common.pagination import paginate
from common.validation import is_uuid as common_is_uuid
from services.enterprise import events
from services.enterprise.access import GRID_ROLES
from services.enterprise.models import (
    AuditEntry,
    Contract,
    Department,
    Enterprise,
    Obligation,
    Setting,
)

#: key of the obligation settings in the ``settings`` table
SETTINGS_KEY = "obligations"
#: default lead time of the reminder, in working days before due
DEFAULT_REMINDER_WORKDAYS = 5
#: most rows one sweep transaction claims per event type
SWEEP_BATCH = 500
#: most batches one sweep runs; the rest waits for the next tick
SWEEP_MAX_BATCHES = 20

COMMITTEE = "committee"
#: who acts when the platform itself changes something (the audit log's actor)
PLATFORM_ACTOR = "platform"
STATES = ("open", "due_soon", "overdue", "fulfilled")

#: roles that read every contract
READ_ALL = frozenset({Role.COORDINATOR, Role.LEADER, Role.ADMIN, Role.SERVICE})
#: roles that record contracts and fulfil obligations of any department
MANAGE_ALL = frozenset({Role.COORDINATOR, Role.ADMIN})
#: department staff: their own department's contracts and obligations only
DEPARTMENT_ROLES = frozenset({Role.DEPARTMENT_HEAD, Role.LIAISON})

Transaction = Callable[[], AbstractContextManager[Session]]


# --------------------------------------------------------------------------- dates


def today_in_shanghai(now: datetime | None = None) -> date:
    """Today's date in Asia/Shanghai (the zone's calendar day)."""
    return (now or datetime.now(UTC)).astimezone(SHANGHAI).date()


def subtract_workdays(calendar: WorkCalendar, day: date, n: int) -> tuple[date, bool]:
    """``n`` working days before ``day`` (see :meth:`WorkCalendar.subtract_workdays`)."""
    return calendar.subtract_workdays(day, n)


def remind_on_for(calendar: WorkCalendar, due_on: date, workdays: int) -> date:
    """提醒日: ``workdays`` working days before ``due_on``."""
    return subtract_workdays(calendar, due_on, workdays)[0]


def reminder_for(calendar: WorkCalendar, due_on: date, workdays: int) -> tuple[date, bool]:
    """提醒日 and whether it is provisional (暂定): counted back across a year without a loaded
    working-day table, where Monday to Friday stands in."""
    return subtract_workdays(calendar, due_on, workdays)


def overdue_before(calendar: WorkCalendar, today: date) -> date:
    """Obligations due *before* this date are overdue as of ``today``.

    ``obligation_overdue`` fires on the first working day after the due date, i.e. once a
    working day ``w`` with ``due_on < w <= today`` exists: ``w`` is the last working day on or
    before ``today``. A Friday obligation is overdue on Monday, not on Saturday.
    """
    return subtract_workdays(calendar, today, 0)[0]


# --------------------------------------------------------------------------- settings


def reminder_workdays(session: Session) -> int:
    """The reminder lead time in working days (setting ``obligations.reminder_workdays``)."""
    value = settings_row.stored(session, Setting, SETTINGS_KEY).get("reminder_workdays")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return DEFAULT_REMINDER_WORKDAYS


def obligation_settings(session: Session) -> dict[str, Any]:
    return {"reminder_workdays": reminder_workdays(session)}


def setting_version(session: Session, key: str) -> int:
    """The version of the settings document ``key`` (one row of ``settings``): 1 while only
    the defaults apply (no row yet), +1 with every change."""
    return settings_row.version(session, Setting, key)


def locked_setting(session: Session, key: str, expected: int | None, what: str) -> Setting:
    """The settings row ``key`` for a write (:func:`common.settings_row.locked`; 412 if stale);
    ``what``: a code of the ``record`` dictionary (``meeting_settings``)."""
    return settings_row.locked(session, Setting, key, expected, what)


def update_settings(
    session: Session, principal: Principal, data: dict[str, Any], calendar: WorkCalendar,
    expected: int | None = None,
) -> dict[str, Any]:
    """Admins change the lead time; ``remind_on`` of every unfulfilled obligation whose reminder
    has not gone out yet is recomputed (a reminder already sent is never sent again). Refused
    (412) unless the settings are still at version ``expected`` (when given); a change bumps
    their version."""
    principal.require(Role.ADMIN)
    row = locked_setting(session, SETTINGS_KEY, expected, "obligation_settings")
    workdays = data["reminder_workdays"]
    if reminder_workdays(session) != workdays:
        row.value = {"reminder_workdays": workdays}
        row.version += 1
        session.flush()
    recompute_remind_on(session, calendar, workdays)
    return {"reminder_workdays": workdays}


def recompute_remind_on(session: Session, calendar: WorkCalendar, workdays: int) -> int:
    """Set ``remind_on`` (and its provisional flag) again for unfulfilled, not yet reminded
    obligations; returns how many changed."""
    return len(_recompute(session, calendar, workdays))


def _recompute(session: Session, calendar: WorkCalendar, workdays: int
               ) -> list[tuple[Obligation, date | None, bool]]:
    """The obligations whose reminder day or flag changed, each with its former day and flag."""
    rows = session.execute(
        select(Obligation)
        .where(Obligation.fulfilled_at.is_(None), Obligation.reminded_at.is_(None))
        .order_by(Obligation.id)
        .with_for_update(of=Obligation)
    ).scalars().all()
    cache: dict[date, tuple[date, bool]] = {}
    changed = []
    for ob in rows:
        if ob.due_on not in cache:
            cache[ob.due_on] = reminder_for(calendar, ob.due_on, workdays)
        day, provisional = cache[ob.due_on]
        if (ob.remind_on, bool(ob.remind_on_provisional)) != (day, provisional):
            changed.append((ob, ob.remind_on, bool(ob.remind_on_provisional)))
            ob.remind_on, ob.remind_on_provisional = day, provisional
    session.flush()
    return changed


#: the audit log's line of an obligation whose reminder a loaded year re-planned
REPLANNED = "obligation_deadline_replanned"


def replan_after_load(session: Session, calendar: WorkCalendar, year: int, event_id: str
                      ) -> int:
    """A calendar year was loaded (``calendar_year_loaded``): re-plan the reminder day of every
    unfulfilled committee or enterprise obligation whose reminder has not gone out, with one
    ``obligation_deadline_changed`` event and one line in the audit log (操作日志, by the
    platform) per obligation that moved or lost its provisional flag. Returns how many."""
    changed = _recompute(session, calendar, reminder_workdays(session))
    if not changed:
        return 0
    contracts = {c.id: c for c in session.execute(select(Contract).where(
        Contract.id.in_(sorted({ob.contract_id for ob, _, _ in changed})))).scalars()}
    for ob, before, was_provisional in changed:
        contract = contracts[ob.contract_id]
        events.publish(session, "obligation_deadline_changed", {
            "obligation_id": ob.id, "contract_id": ob.contract_id,
            "enterprise_id": contract.enterprise_id, "department_id": ob.department_id,
            "due_on": ob.due_on.isoformat(),
            "remind_on": ob.remind_on.isoformat() if ob.remind_on else None,
            "remind_on_provisional": bool(ob.remind_on_provisional),
            "previous_remind_on": before.isoformat() if before else None,
            "previous_remind_on_provisional": was_provisional,
            "calendar_year": year,
        })
        session.execute(insert(AuditEntry).values(
            actor_id=PLATFORM_ACTOR, actor_role=str(Role.SERVICE),
            call_id=f"{event_id}:{ob.id}", method="EVENT", route="calendar_year_loaded",
            path=f"/api/v1/calendar/years/{year}", action=REPLANNED, status=200,
            subject_ids={"obligation_id": ob.id, "contract_id": ob.contract_id,
                         "enterprise_id": contract.enterprise_id},
            fields_changed=["remind_on", "remind_on_provisional"],
        ).on_conflict_do_nothing(index_elements=["call_id"]))
    return len(changed)


# --------------------------------------------------------------------------- views


def obligation_state(ob: Obligation, today: date) -> str:
    """fulfilled; overdue (past due); due_soon (reminder day reached); else open."""
    if ob.fulfilled_at is not None:
        return "fulfilled"
    if ob.due_on < today:
        return "overdue"
    if ob.remind_on is not None and ob.remind_on <= today:
        return "due_soon"
    return "open"


def state_condition(state: str, today: date) -> ColumnElement[bool]:
    """SQL for :func:`obligation_state` ``== state``."""
    unfulfilled = Obligation.fulfilled_at.is_(None)
    reminder_reached = and_(Obligation.remind_on.is_not(None), Obligation.remind_on <= today)
    if state == "fulfilled":
        return Obligation.fulfilled_at.is_not(None)
    if state == "overdue":
        return and_(unfulfilled, Obligation.due_on < today)
    if state == "due_soon":
        return and_(unfulfilled, Obligation.due_on >= today, reminder_reached)
    if state == "open":
        return and_(unfulfilled, Obligation.due_on >= today, ~reminder_reached)
    raise ValueError(f"unknown obligation state {state!r}")


def obligation_view(ob: Obligation, today: date) -> dict[str, Any]:
    """What ObligationSchema dumps."""
    return {
        "id": ob.id,
        "contract_id": ob.contract_id,
        "party": ob.party,
        "description": ob.description,
        "due_on": ob.due_on,
        "department_id": ob.department_id,
        "fulfilled_at": ob.fulfilled_at,
        "remind_on": ob.remind_on,
        "remind_on_provisional": bool(ob.remind_on_provisional),
        "reminded_at": ob.reminded_at,
        "overdue_at": ob.overdue_at,
        "state": obligation_state(ob, today),
    }


def contract_view(contract: Contract, obligations: Iterable[Obligation], today: date
                  ) -> dict[str, Any]:
    """What ContractSchema dumps."""
    return {
        "id": contract.id,
        "enterprise_id": contract.enterprise_id,
        "title": contract.title,
        "signed_on": contract.signed_on,
        "department_id": contract.department_id,
        "note": contract.note,
        "obligations": [obligation_view(ob, today) for ob in obligations],
        "created_by": contract.created_by,
        "created_at": contract.created_at,
        "version": contract.version,
    }


def obligations_of(session: Session, contract_ids: list[str]) -> dict[str, list[Obligation]]:
    """Each contract's obligations, by due date."""
    found: dict[str, list[Obligation]] = {cid: [] for cid in contract_ids}
    if contract_ids:
        rows = session.execute(
            select(Obligation)
            .where(Obligation.contract_id.in_(contract_ids))
            .order_by(Obligation.due_on, Obligation.id)
        ).scalars()
        for ob in rows:
            found[ob.contract_id].append(ob)
    return found


# --------------------------------------------------------------------------- access


def is_uuid(value: object) -> bool:
    return common_is_uuid(value)


def visible(query: Select, principal: Principal) -> Select:
    """Restrict a query involving Contract to the contracts the caller may read."""
    if principal.role in READ_ALL:
        return query
    if principal.role in DEPARTMENT_ROLES:
        dept = principal.department_id
        if not dept:
            return query.where(false())
        owned = aliased(Obligation)  # the outer query may select Obligation itself
        owns_obligation = exists().where(owned.contract_id == Contract.id,
                                         owned.department_id == dept)
        return query.where(or_(Contract.department_id == dept, owns_obligation))
    if principal.role in GRID_ROLES:
        of_my_grids = select(Enterprise.id).where(
            Enterprise.grid_id.in_(principal.grid_ids or ("",))
        )
        return query.where(Contract.enterprise_id.in_(of_my_grids))
    if principal.role == Role.ENTERPRISE and is_uuid(principal.enterprise_id):
        return query.where(Contract.enterprise_id == principal.enterprise_id)
    return query.where(false())


def get_visible(session: Session, principal: Principal, contract_id: str) -> Contract:
    """The contract if the caller may read it; NotFound otherwise, so existence does not leak."""
    if not is_uuid(contract_id):
        raise NotFound("no such contract", code="contract.not_found")
    contract = session.execute(
        visible(select(Contract).where(Contract.id == contract_id), principal)
    ).scalar_one_or_none()
    if contract is None:
        raise NotFound("no such contract", code="contract.not_found")
    return contract


def check_create(principal: Principal, department_id: str) -> None:
    if principal.role in MANAGE_ALL:
        return
    if principal.role in DEPARTMENT_ROLES:
        if principal.department_id and principal.department_id == department_id:
            return
        raise Forbidden("department staff may only record contracts of their own department",
                        code="contract.other_department")
    raise Forbidden("{role} may not record contracts", code="contract.create_forbidden",
                    params={"role": principal.role_label})


def can_fulfil(principal: Principal, ob: Obligation) -> bool:
    if principal.role in MANAGE_ALL:
        return True
    return (principal.role in DEPARTMENT_ROLES and bool(principal.department_id)
            and principal.department_id == ob.department_id)


# --------------------------------------------------------------------------- contracts


def create(
    session: Session,
    principal: Principal,
    data: dict[str, Any],
    calendar: WorkCalendar,
    now: datetime | None = None,
) -> tuple[Contract, list[Obligation]]:
    """Record a contract with its obligations; ``remind_on`` of each is computed now."""
    check_create(principal, data["department_id"])
    enterprise_id = data["enterprise_id"]
    errors: dict[str, Any] = {}
    if not is_uuid(enterprise_id) or session.get(Enterprise, enterprise_id) is None:
        errors["enterprise_id"] = [field_error("enterprise.not_found", "no such enterprise")]
    departments = {data["department_id"]} | {
        o["department_id"] for o in data["obligations"] if o.get("department_id")
    }
    known = set(session.execute(
        select(Department.id).where(Department.id.in_(departments))
    ).scalars())
    if data["department_id"] not in known:
        errors["department_id"] = [field_error("department.not_found", "no such department")]
    for i, o in enumerate(data["obligations"]):
        problems: dict[str, list[Any]] = {}
        if o.get("department_id") and o["department_id"] not in known:
            problems["department_id"] = [field_error("department.not_found",
                                                     "no such department")]
        if o["due_on"] < data["signed_on"]:
            problems["due_on"] = [field_error("contract.due_before_signed",
                                              "before the contract was signed (signed_on)")]
        if problems:
            errors.setdefault("obligations", {})[str(i)] = problems
    if errors:
        raise invalid_fields(errors)

    now = now or datetime.now(UTC)
    workdays = reminder_workdays(session)
    contract = Contract(
        id=str(uuid.uuid4()),
        enterprise_id=enterprise_id,
        title=data["title"],
        signed_on=data["signed_on"],
        department_id=data["department_id"],
        note=data.get("note"),
        created_by=principal.user_id,
        created_at=now,
        version=1,
    )
    session.add(contract)
    session.flush()  # the contract row first: obligations reference it
    obligations = []
    for o in data["obligations"]:
        remind_on, provisional = reminder_for(calendar, o["due_on"], workdays)
        obligations.append(Obligation(
            id=str(uuid.uuid4()),
            contract_id=contract.id,
            party=o["party"],
            description=o["description"],
            due_on=o["due_on"],
            department_id=o.get("department_id") or data["department_id"],
            remind_on=remind_on,
            remind_on_provisional=provisional,
        ))
    session.add_all(obligations)
    session.flush()
    return contract, sorted(obligations, key=lambda ob: (ob.due_on, ob.id))


def _page(session: Session, query: Select, filters: dict[str, Any]) -> tuple[list[Any], int]:
    found = paginate(session, query, filters, scalars=True)
    return found.items, found.total


def list_visible(
    session: Session, principal: Principal, filters: dict[str, Any]
) -> tuple[list[Contract], int]:
    """Contracts the caller may read, newest signature first; filters enterprise, department."""
    query = visible(select(Contract), principal)
    if filters.get("enterprise_id"):
        if not is_uuid(filters["enterprise_id"]):
            raise invalid_fields({"enterprise_id": [field_error("field.not_id",
                                                                "not a valid id")]})
        query = query.where(Contract.enterprise_id == filters["enterprise_id"])
    if filters.get("department_id"):
        query = query.where(Contract.department_id == filters["department_id"])
    query = query.order_by(Contract.signed_on.desc(), Contract.created_at.desc(), Contract.id)
    return _page(session, query, filters)


def fulfil(
    session: Session,
    principal: Principal,
    contract_id: str,
    obligation_id: str,
    now: datetime | None = None,
    expected: int | None = None,
) -> Obligation:
    """履约: mark an obligation fulfilled. Repeating it changes nothing (the first time stays);
    a fulfilled obligation never raises ``obligation_due`` or ``obligation_overdue``. A write
    on the contract: refused (412) unless it is still at version ``expected`` (when given);
    the fulfilment bumps its version."""
    contract = get_visible(session, principal, contract_id)
    if not is_uuid(obligation_id):
        raise NotFound("no such obligation", code="obligation.not_found")
    ob = session.execute(
        select(Obligation)
        .where(Obligation.id == obligation_id, Obligation.contract_id == contract.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if ob is None:
        raise NotFound("no such obligation", code="obligation.not_found")
    if not can_fulfil(principal, ob):
        raise Forbidden("only the owning department, coordinators and admins may fulfil this",
                        code="obligation.fulfil_forbidden")
    session.refresh(contract, with_for_update=True)  # as committed; after the obligation
    if expected is not None and contract.version != expected:
        raise stale("contract", expected, contract.version)
    if ob.fulfilled_at is None:
        ob.fulfilled_at = now or datetime.now(UTC)
        contract.version += 1
        session.flush()
    return ob


def list_obligations(
    session: Session, principal: Principal, filters: dict[str, Any], today: date
) -> tuple[list[Obligation], int]:
    """Obligations of the contracts the caller may read, soonest due first.

    Filters: party, department_id (the owning department), state (as of ``today``) and
    due_before (due on or before that date).
    """
    query = visible(
        select(Obligation).join(Contract, Contract.id == Obligation.contract_id), principal
    )
    if filters.get("party"):
        query = query.where(Obligation.party == filters["party"])
    if filters.get("department_id"):
        query = query.where(Obligation.department_id == filters["department_id"])
    if filters.get("state"):
        query = query.where(state_condition(filters["state"], today))
    if filters.get("due_before"):
        query = query.where(Obligation.due_on <= filters["due_before"])
    query = query.order_by(Obligation.due_on, Obligation.id)
    return _page(session, query, filters)


# --------------------------------------------------------------------------- the sweep


def _event_data(ob: Obligation, enterprise_id: str, title: str) -> dict[str, Any]:
    return {
        "obligation_id": ob.id,
        "contract_id": ob.contract_id,
        "enterprise_id": enterprise_id,
        "department_id": ob.department_id,
        "due_on": ob.due_on.isoformat(),
        "description": ob.description,
        "contract_title": title,
    }


def _claim(session: Session, condition: ColumnElement[bool], limit: int
           ) -> list[tuple[Obligation, str, str]]:
    """Lock up to ``limit`` unfulfilled committee obligations matching ``condition``, skipping
    rows another transaction (another replica's sweep) holds."""
    rows = session.execute(
        select(Obligation, Contract.enterprise_id, Contract.title)
        .join(Contract, Contract.id == Obligation.contract_id)
        .where(Obligation.party == COMMITTEE, Obligation.fulfilled_at.is_(None), condition)
        .order_by(Obligation.due_on, Obligation.id)
        .limit(limit)
        .with_for_update(of=Obligation, skip_locked=True)
        .execution_options(populate_existing=True)
    ).all()
    return [(ob, enterprise_id, title) for ob, enterprise_id, title in rows]


def remind_due(session: Session, today: date, limit: int = SWEEP_BATCH,
               now: datetime | None = None) -> int:
    """Raise ``obligation_due`` for committee obligations whose reminder day has come (and that
    are not yet past due: those get ``obligation_overdue`` instead). Commit to make it stick."""
    now = now or datetime.now(UTC)
    claimed = _claim(session, and_(
        Obligation.reminded_at.is_(None),
        Obligation.remind_on.is_not(None),
        Obligation.remind_on <= today,
        Obligation.due_on >= today,
    ), limit)
    for ob, enterprise_id, title in claimed:
        ob.reminded_at = now
        events.publish(session, "obligation_due", _event_data(ob, enterprise_id, title))
    session.flush()
    return len(claimed)


def mark_overdue(session: Session, calendar: WorkCalendar, today: date,
                 limit: int = SWEEP_BATCH, now: datetime | None = None) -> int:
    """Raise ``obligation_overdue`` for committee obligations a working day past their due
    date. Commit to make it stick."""
    now = now or datetime.now(UTC)
    claimed = _claim(session, and_(
        Obligation.overdue_at.is_(None),
        Obligation.due_on < overdue_before(calendar, today),
    ), limit)
    for ob, enterprise_id, title in claimed:
        ob.overdue_at = now
        events.publish(session, "obligation_overdue", _event_data(ob, enterprise_id, title))
    session.flush()
    return len(claimed)


def run_sweep(
    transaction: Transaction,
    calendar: WorkCalendar,
    today: date,
    limit: int = SWEEP_BATCH,
    max_batches: int = SWEEP_MAX_BATCHES,
) -> dict[str, Any]:
    """One sweep as of ``today``: batches of reminders and overdue marks, each batch in its own
    transaction from ``transaction()`` (which must commit on success), until nothing is left or
    ``max_batches`` ran. Returns the counts committed."""
    reminded = overdue = 0
    for _ in range(max_batches):
        with transaction() as session:
            r = remind_due(session, today, limit)
            o = mark_overdue(session, calendar, today, limit)
        reminded, overdue = reminded + r, overdue + o
        if r < limit and o < limit:
            break
    return {"today": today, "reminded": reminded, "overdue": overdue}

