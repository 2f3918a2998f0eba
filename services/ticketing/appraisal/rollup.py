"""考评 rollup: the figures of the closed demands, added once each, when they close.

A closed demand never changes again: ``closed`` is terminal (:func:`services.ticketing.closure.
_close` is the one place a demand closes), its live tasks are all completed (a completed task
moves only when a coordinator reopens it, before 销号), its ratings and ledger lines are
written. So every figure :func:`~.figures.appraise` counts of it is fixed at closure, the ones
judged against ``as_of`` too: a triaged demand is 分理-due whatever the moment; a completed
task is handling-due, and late or not by its completion and its breaches (the sweep records a
handling breach only of a task still ``accepted``); none waits for acceptance.

:func:`record` adds the figures of closed demands to :class:`~services.ticketing.models.
AppraisalRollup` (by local month of receipt, kind of subject, subject and, for grid workers,
grid) and their 难度分 items by category to ``AppraisalRollupCategory``, with the very
statements that count a period directly (:mod:`.figures`), grouped by month: the figures are
defined once. Each demand is added once, whatever calls :func:`record` again (its id goes to
``AppraisalRollupDemand`` in the same statement). :func:`_close` records in the transaction
that closes; :func:`backfill` records every closed demand not yet added, in batches by
month of receipt (the migration that created the tables). Demands that replicas of the former
version close during an upgrade are recorded by :func:`catch_up`, which every replica runs on
a timer (``python -m services.ticketing.appraisal.rollup DATABASE_URL`` records every one
missing, whenever they closed).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    create_engine,
    func,
    literal,
    literal_column,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from common.calendar import SHANGHAI
from services.ticketing.appraisal.base import CLOSED, DEMAND_SUBJECTS, GRID_WORKERS, SUBJECTS
from services.ticketing.appraisal.figures import (
    demand_select,
    ledger_select,
    month_of_receipt,
    pointed,
    task_select,
)
from services.ticketing.models import (
    ROLLUP_FIGURES,
    AppraisalRollup,
    AppraisalRollupCategory,
    AppraisalRollupDemand,
    Demand,
    Task,
)
from services.ticketing.schemas.base import DIFFICULTIES

log = logging.getLogger(__name__)

def _pointed(kind: str) -> dict[str, Any]:
    """The 难度分 items of ``kind`` (:func:`~.figures.pointed`) counted, in all and by
    difficulty."""
    condition, difficulty = pointed(kind)
    return {"pointed": func.count().filter(condition), **{
        f"pointed_{level}": func.count().filter(condition, difficulty == level)
        for level in DIFFICULTIES}}


def _rows(kind: str, scope: list[Any], among: tuple[Any, ...], now: datetime) -> Any:
    """SELECT the rollup's rows of ``kind`` for the demands in ``scope``: their demand, task
    and ledger figures, summed by month, subject (and grid)."""
    keys: dict[str, Any] = {"month": month_of_receipt()}
    if kind == GRID_WORKERS:
        keys["grid_id"] = func.coalesce(Demand.grid_id, "")
    per_demand = kind in DEMAND_SUBJECTS
    parts = [demand_select(kind, scope, now, keys, _pointed(kind) if per_demand else {},
                           among),
             task_select(kind, scope, now, keys, {} if per_demand else _pointed(kind)),
             ledger_select(kind, scope, keys)]
    names = (*keys, *ROLLUP_FIGURES, "department_id")
    aligned = []
    for part in parts:
        have = {column.name: column for column in part.selected_columns}
        aligned.append(part.with_only_columns(have["subject_id"], *(
            have[name] if name in have else literal(None if name == "department_id" else 0)
            .label(name) for name in names)))
    union = union_all(*aligned).subquery(f"rows_{kind}")
    grid = union.c.grid_id if kind == GRID_WORKERS else literal("")
    return select(literal(kind).label("subject"), union.c.month, union.c.subject_id,
                  grid.label("grid_id"),
                  *(func.sum(union.c[name]).label(name) for name in ROLLUP_FIGURES),
                  func.max(union.c.department_id).label("department_id"),
                  ).group_by(union.c.month, union.c.subject_id,
                             *([union.c.grid_id] if kind == GRID_WORKERS else []))


def _category_rows(kind: str, scope: list[Any], now: datetime) -> Any:
    """SELECT the 难度分 items of ``kind`` for the demands in ``scope`` by month, subject and
    category."""
    keys = {"month": month_of_receipt(), "category": Demand.category}
    condition, _ = pointed(kind)
    count = {"pointed": func.count().filter(condition)}
    part = (demand_select(kind, [*scope, Demand.category.is_not(None)], now, keys, count)
            if kind in DEMAND_SUBJECTS else
            task_select(kind, [*scope, Demand.category.is_not(None)], now, keys, count))
    have = {column.name: column for column in part.selected_columns}
    return part.with_only_columns(literal(kind).label("subject"), have["month"],
                                  have["subject_id"], have["category"], have["pointed"])


def _added(table: Any, rows: Any, keys: tuple[str, ...], sums: tuple[str, ...],
           greatest: Mapping[str, Any] | None = None) -> Any:
    """INSERT ``rows`` into ``table``, adding ``sums`` to a row already there, in the order
    of the key: concurrent closures (the sweep closes many in one transaction) lock the rows
    they share (a month's zone row is every closure's) in one order, so they queue behind
    each other rather than deadlock."""
    rows = rows.order_by(*(literal_column(key) for key in keys))
    statement = insert(table).from_select([c.name for c in rows.selected_columns], rows)
    return statement.on_conflict_do_update(index_elements=list(keys), set_={
        **{name: table.c[name] + statement.excluded[name] for name in sums},
        **{name: func.greatest(table.c[name], statement.excluded[name])
           for name in greatest or {}}})


def record(bind: Session | Connection, demands: Any) -> None:
    """Add the figures of the closed demands matching ``demands`` (a WHERE clause over
    Demand) that are not in the rollup yet: one statement, so either all or none."""
    if isinstance(bind, Session):
        bind.flush()
    ids = AppraisalRollupDemand.__table__
    added = (insert(ids).from_select(["demand_id"], select(Demand.id).where(
        demands, Demand.status == CLOSED)).on_conflict_do_nothing()
        .returning(ids.c.demand_id).cte("added"))
    scope = [Demand.id.in_(select(added.c.demand_id))]
    among = (Task.demand_id.in_(select(added.c.demand_id)),)
    now = datetime.now(UTC)
    rollup = AppraisalRollup.__table__
    figures = _added(rollup, union_all(*(_rows(kind, scope, among, now) for kind in SUBJECTS)),
                     ("subject", "month", "subject_id", "grid_id"), ROLLUP_FIGURES,
                     {"department_id": None})
    categories = AppraisalRollupCategory.__table__
    statement = _added(categories, union_all(*(_category_rows(kind, scope, now)
                                               for kind in SUBJECTS)),
                       ("subject", "month", "subject_id", "category"), ("pointed",))
    bind.execute(statement.add_cte(figures.cte("figures")))


def backfill(bind: Session | Connection) -> int:
    """Record every closed demand not in the rollup yet, a month of receipt at a time (each
    month one :func:`record`, which skips the demands already added). By month, not by
    primary key: a month's demands make exactly that month's rows, each written once, where
    batches of ids spread over the year rewrote most rows of the rollup in every batch (at
    1,000,000 demands each batch was slower than the one before: 29 s, 37 s, ... 77 s).
    Returns how many months were recorded."""
    first, last = bind.execute(select(func.min(Demand.received_at), func.max(
        Demand.received_at)).where(Demand.status == CLOSED)).one()
    if first is None:
        return 0
    month = first.astimezone(SHANGHAI).date().replace(day=1)
    end = last.astimezone(SHANGHAI).date()
    months = 0
    while month <= end:
        following = (month + timedelta(days=32)).replace(day=1)
        started = time.perf_counter()
        record(bind, and_(Demand.received_at >= datetime.combine(month, dtime(0), SHANGHAI),
                          Demand.received_at < datetime.combine(following, dtime(0),
                                                                SHANGHAI)))
        months += 1
        log.info("appraisal rollup: %s recorded in %.1f s", month.isoformat()[:7],
                 time.perf_counter() - started)
        month = following
    for table in (AppraisalRollup, AppraisalRollupCategory, AppraisalRollupDemand):
        bind.execute(text(f"ANALYZE {table.__table__.fullname}"))  # its planner statistics
    return months


#: how far back :func:`catch_up` looks for closures the rollup lacks: longer than an upgrade's
#: rollout, during which replicas of the former version close demands without recording them
CATCH_UP_DAYS = 7


def catch_up(bind: Session | Connection, now: datetime | None = None) -> int:
    """Record the demands closed in the last :data:`CATCH_UP_DAYS` days that the rollup lacks
    (closed by a replica of the version before the rollup, or while its migration ran): every
    ticketing replica runs it on a timer, so an upgrade heals by itself. Cheap when nothing is
    missing: the last days' closures by their index, their ids already there. Returns how
    many it added."""
    since = (now or datetime.now(UTC)) - timedelta(days=CATCH_UP_DAYS)
    before = _recorded(bind, since)
    record(bind, Demand.closed_at >= since)
    return _recorded(bind, since) - before


def _recorded(bind: Session | Connection, since: datetime) -> int:
    ids = AppraisalRollupDemand.__table__
    return int(bind.execute(select(func.count()).select_from(ids).join(
        Demand, Demand.id == ids.c.demand_id).where(Demand.closed_at >= since)).scalar_one())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Add every closed demand not yet in the "
                                     "appraisal rollup (idempotent).")
    parser.add_argument("database_url")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    engine = create_engine(args.database_url)
    try:
        with engine.begin() as conn:
            backfill(conn)
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
