"""Answers kept as computed: the leaders' overview (领导总览) and the appraisal (考评) at
province scale read a snapshot, never the million demands.

The overview (:func:`services.ticketing.overview.overview`) takes seconds at province scale
(6 s at 1,000,000 demands, 8-14 s under load; docs/performance.md), and so does a year's
appraisal of every subject of a kind (0.8 s a kind; the console's tab asks for it twice, the
period's figures and the yearly score). Each answer is kept in ``ticketing.overview_snapshots``
(the table is named for its first use) by **key** and **period**, with ``computed_at`` (the
answer's ``as_of``):

- the overview's key is the caller's **scope** (what :func:`services.ticketing.overview.scope`
  gives: everything, a department, a set of grids, see :func:`scope_key`), its answer exactly
  as the API returns it; no caller can name another's key;
- the appraisal's is ``appraisal:<kind>:<settings version>``, its answer every subject's
  row, unscoped (each read narrows it to the caller with
  :func:`~services.ticketing.appraisal.visible`). It is kept only once computing it took
  :data:`KEEP_APPRAISAL_FROM` or longer: a zone of 1,200 enterprises computes it in tens of
  milliseconds and reads it live. A change of the appraisal's settings forgets these
  answers (:func:`forget_appraisals`).

For both:

- a read younger than :data:`FRESH_SECONDS` answers from the snapshot; an older one (or none)
  computes, stores and answers, under an advisory lock of its key so that concurrent reads of
  a stale key compute it once (the others wait and read what it stored);
- ``refresh`` (the console's 刷新) recomputes when the snapshot is older than
  :data:`FORCE_SECONDS`;
- every ticketing replica's timer (:func:`refresh_due`, every :data:`REFRESH_SECONDS`)
  recomputes the snapshots read in the last :data:`RECENT_READS` and older than
  :data:`REFRESH_AGE_SECONDS`, so a leader's read finds a fresh one. A key another replica is
  refreshing is skipped (``pg_try_advisory_xact_lock``); a refresh that fails rolls back,
  keeps the previous snapshot, is logged and tried again on the next tick. The same timer
  deletes the snapshots nobody read for :data:`KEPT_FOR`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from common.config import seconds_from_env
from services.ticketing import appraisal, overview
from services.ticketing.appraisal import READ_ALL, Period
from services.ticketing.models import OverviewSnapshot
from services.ticketing.schemas import OverviewSchema

log = logging.getLogger(__name__)

#: a snapshot younger than this answers a read
FRESH_SECONDS = 300
#: 刷新 recomputes a snapshot older than this (a younger one is answered as it is)
FORCE_SECONDS = 30
#: the age from which the refresh timer recomputes a snapshot, and the timer's interval
#: (``OVERVIEW_REFRESH_SECONDS``, at most 60; the tests run it every second): a snapshot read
#: recently is never older than REFRESH_AGE + the interval + its compute time (< FRESH)
REFRESH_AGE_SECONDS = FRESH_SECONDS - 2 * 60
REFRESH_SECONDS = min(60.0, seconds_from_env("OVERVIEW_REFRESH_SECONDS", 60))
#: the snapshots the timer keeps fresh: read in this last while
RECENT_READS = timedelta(days=1)
#: at most this many snapshots a tick and replica, everything's (the leaders') first, then the
#: most recently read: one takes 6-24 s at province scale, and the scopes of 3,000 grid leaders
#: would keep a worker busy for hours a round; the rest wait for the next tick, or a read
#: computes its own
REFRESH_PER_TICK = 3
#: a snapshot nobody read for this long is deleted by the timer (a grid leader's "this year to
#: date" is a new period every day: kept for ever, 3,000 scopes would add a million answers a
#: year), at most :data:`DELETE_PER_TICK` a tick and replica
KEPT_FOR = timedelta(days=7)
DELETE_PER_TICK = 500
#: a read records itself (read_at) at most this often per snapshot
READ_MARK = timedelta(minutes=1)
#: first key of the advisory locks of the snapshots (the second: hashtext of the key)
LOCK_CLASS = 20_015
#: an appraisal is kept once computing it took this long (``APPRAISAL_KEEP_FROM_SECONDS``):
#: below it, a read computes it (a zone of 1,200 enterprises: tens of milliseconds, always
#: current); at province scale a year of a kind takes 0.8 s or more, read twice a tab
KEEP_APPRAISAL_FROM = seconds_from_env("APPRAISAL_KEEP_FROM_SECONDS", 0.5)

#: the overview's computation for a principal (replaced in tests)
Compute = Callable[[Session, Principal, Period, datetime], dict[str, Any]]
#: a kept answer's computation for its key
KeyCompute = Callable[[Session, Period, datetime], dict[str, Any]]
#: the key of everything's overview (the leaders', coordinators', admins')
ALL_KEY = "all"
#: the keys of the appraisal's answers: this and the kind of subject
APPRAISAL_PREFIX = "appraisal:"


def scope_key(principal: Principal) -> str:
    """The caller's scope as a snapshot key (Forbidden for the roles without an overview)."""
    overview.scope(principal)
    if principal.role in READ_ALL:
        return ALL_KEY
    if principal.role == Role.DEPARTMENT_HEAD:
        return f"department:{principal.department_id}"
    return "grids:" + ",".join(sorted(set(principal.grid_ids)))


def principal_of(key: str) -> Principal:
    """A principal whose scope is ``key`` (for the timer's recompute)."""
    kind, _, rest = key.partition(":")
    if kind == "department":
        return Principal(user_id="overview-refresh", role=Role.DEPARTMENT_HEAD,
                         department_id=rest)
    if kind == "grids":
        return Principal(user_id="overview-refresh", role=Role.GRID_LEADER,
                         grid_ids=tuple(g for g in rest.split(",") if g))
    return Principal(user_id="overview-refresh", role=Role.LEADER)


def compute(session: Session, principal: Principal, period: Period,
            as_of: datetime) -> dict[str, Any]:
    """The answer of the API (``OverviewSchema``), computed now."""
    return OverviewSchema().dump(overview.overview(session, principal, period, as_of))


def appraisal_key(kind: str, settings_version: int) -> str:
    """``appraisal:<kind>:<version of the settings>``: an answer computed under settings
    since changed is never read (a read racing the change could store one after
    :func:`forget_appraisals`)."""
    return f"{APPRAISAL_PREFIX}{kind}:{settings_version}"


def compute_appraisal(session: Session, kind: str, period: Period,
                      as_of: datetime) -> dict[str, Any]:
    """Every subject's row of ``kind`` (:func:`~services.ticketing.appraisal.appraise`,
    unscoped, with the yearly score's working fields) and ``as_of``, as kept."""
    return {"as_of": as_of.isoformat(), "items": appraisal.appraise(session, kind, period, as_of)}


def _computes(key: str, compute_with: Compute) -> KeyCompute:
    """The computation of a kept answer by its key (the overview's through ``compute_with``)."""
    if key.startswith(APPRAISAL_PREFIX):
        kind = key.removeprefix(APPRAISAL_PREFIX).partition(":")[0]
        return lambda session, period, at: compute_appraisal(session, kind, period, at)
    return lambda session, period, at: compute_with(session, principal_of(key), period, at)


def _lock(key: str, period: Period) -> Any:
    return func.hashtext(f"{key}|{period.start}|{period.end}")


def _row(session: Session, key: str, period: Period) -> OverviewSnapshot | None:
    return session.execute(
        select(OverviewSnapshot).where(OverviewSnapshot.scope_key == key,
                                       OverviewSnapshot.from_ == period.start,
                                       OverviewSnapshot.to == period.end)
        .execution_options(populate_existing=True)).scalar_one_or_none()


def _young(row: OverviewSnapshot | None, now: datetime, seconds: float) -> bool:
    return row is not None and now - row.computed_at < timedelta(seconds=seconds)


def _store(session: Session, key: str, period: Period, answer: dict[str, Any],
           now: datetime, read_at: datetime) -> None:
    values = {"answer": answer, "computed_at": now}
    session.execute(
        insert(OverviewSnapshot)
        .values(scope_key=key, from_=period.start, to=period.end, read_at=read_at, **values)
        .on_conflict_do_update(index_elements=["scope_key", "from", "to"], set_=values))


def _read(session: Session, key: str, period: Period, computes: KeyCompute, *,
          now: datetime | None, force: bool, keep_from: float = 0.0) -> dict[str, Any]:
    """The answer of ``key`` for ``period``: its snapshot while fresh, else computed, stored
    (when there is one already, or computing it took ``keep_from`` seconds or more) and
    answered. ``force`` (刷新): fresh means younger than :data:`FORCE_SECONDS`."""
    now = now or datetime.now(UTC)
    bound = FORCE_SECONDS if force else FRESH_SECONDS
    row = _row(session, key, period)
    if not _young(row, now, bound):
        # one computes, the others of the same key wait here and read what it stored
        session.execute(select(func.pg_advisory_xact_lock(LOCK_CLASS, _lock(key, period))))
        row = _row(session, key, period)
        if not _young(row, now, bound):
            started = time.monotonic()
            answer = computes(session, period, now)
            if row is not None or time.monotonic() - started >= keep_from:
                _store(session, key, period, answer, now, now)
            return answer
    assert row is not None
    if now - row.read_at >= READ_MARK:
        row.read_at = now
    return row.answer


def read(session: Session, principal: Principal, period: Period, *,
         now: datetime | None = None, force: bool = False,
         compute_with: Compute = compute) -> dict[str, Any]:
    """The caller's overview of ``period``: from its snapshot while fresh, else computed,
    stored and answered. ``force`` (刷新): fresh means younger than :data:`FORCE_SECONDS`."""
    key = scope_key(principal)
    return _read(session, key, period, _computes(key, compute_with), now=now, force=force)


def read_appraisal(session: Session, kind: str, period: Period, *,
                   now: datetime | None = None, force: bool = False,
                   keep_from: float | None = None) -> tuple[datetime, list[dict[str, Any]]]:
    """(as_of, every subject's row) of the appraisal of ``kind`` for ``period``, unscoped:
    from its snapshot while fresh, else computed (and kept once computing it took
    ``keep_from``, by default :data:`KEEP_APPRAISAL_FROM`, or longer)."""
    key = appraisal_key(kind, appraisal.settings_version(session))
    answer = _read(session, key, period, _computes(key, compute), now=now, force=force,
                   keep_from=KEEP_APPRAISAL_FROM if keep_from is None else keep_from)
    return datetime.fromisoformat(answer["as_of"]), answer["items"]


def forget_appraisals(session: Session) -> int:
    """Delete the kept appraisals (their figures follow the settings, which changed)."""
    return session.execute(delete(OverviewSnapshot).where(
        OverviewSnapshot.scope_key.startswith(APPRAISAL_PREFIX, autoescape=True))).rowcount


def refresh_due(transaction: Callable[[], AbstractContextManager[Session]], *,
                now: datetime | None = None, compute_with: Compute = compute,
                limit: int = REFRESH_PER_TICK) -> dict[str, int]:
    """Recompute the snapshots read recently that are getting old, at most ``limit`` of them
    (everything's first, then the most recently read; the others are ``deferred``), each in
    a transaction of its own; never raises (a failed one keeps its previous snapshot and is
    logged). First delete those nobody read for :data:`KEPT_FOR` (``deleted``)."""
    listed_at = now or datetime.now(UTC)
    done = {"refreshed": 0, "skipped": 0, "failed": 0, "deferred": 0, "deleted": 0}
    try:
        with transaction() as session:
            unread = select(OverviewSnapshot.scope_key, OverviewSnapshot.from_,
                            OverviewSnapshot.to).where(
                OverviewSnapshot.read_at < listed_at - KEPT_FOR).limit(DELETE_PER_TICK)
            done["deleted"] = session.execute(delete(OverviewSnapshot).where(
                tuple_(OverviewSnapshot.scope_key, OverviewSnapshot.from_,
                       OverviewSnapshot.to).in_(unread))).rowcount
            due = session.execute(
                select(OverviewSnapshot.scope_key, OverviewSnapshot.from_, OverviewSnapshot.to)
                .where(OverviewSnapshot.read_at >= listed_at - RECENT_READS,
                       OverviewSnapshot.computed_at
                       <= listed_at - timedelta(seconds=REFRESH_AGE_SECONDS))
                .order_by((OverviewSnapshot.scope_key == ALL_KEY).desc(),
                          OverviewSnapshot.read_at.desc(), OverviewSnapshot.computed_at)
            ).all()
    except Exception:
        log.exception("snapshots: could not list the due ones; next tick")
        done["failed"] += 1
        return done
    done["deferred"] = max(len(due) - limit, 0)
    for key, start, end in due[:limit]:
        period, at = Period(start, end), now or datetime.now(UTC)
        try:
            with transaction() as session:
                if not session.execute(select(func.pg_try_advisory_xact_lock(
                        LOCK_CLASS, _lock(key, period)))).scalar_one():
                    done["skipped"] += 1  # another replica (or a read) computes it now
                    continue
                row = _row(session, key, period)
                if row is None or _young(row, at, REFRESH_AGE_SECONDS):
                    done["skipped"] += 1
                    continue
                started = datetime.now(UTC)
                answer = _computes(key, compute_with)(session, period, at)
                _store(session, key, period, answer, at, row.read_at)
            done["refreshed"] += 1
            log.info("snapshot %s %s..%s refreshed in %.1f s", key, start, end,
                     (datetime.now(UTC) - started).total_seconds())
        except Exception:
            done["failed"] += 1
            log.exception("snapshot %s %s..%s not refreshed; the previous one stays "
                          "until the next tick", key, start, end)
    return done

