"""Finding demands (诉求检索): the keyword box and the filters shared by the demand list and the
three ledger lists, and the stored words they search.

Words come from :mod:`common.search` (jieba, the one home of full-text search). Every demand
keeps a ``search`` tsvector (GIN index ``ix_demands_search``): the words of its title (weight
A), its description (B), its tasks' results and its public notes (C). :func:`document` builds
it; intake writes it with the demand, and :func:`refresh` writes it again whenever a result or
a public note is added (handling). Internal notes (内部备注) are never in it, so a keyword
cannot reveal one.

A plain module over SQLAlchemy; scoping (who may see which demand) stays with the callers'
own clauses: these filters only narrow what the caller may see already.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, exists, false, func, or_, select, update
from sqlalchemy.orm import Session

from common import search as fulltext
from common.calendar import SHANGHAI
from common.pagination import count_of
from services.ticketing.models import Demand, Note, Task

OPEN_TASK_STATES = ("assigned", "coordination", "accepted")
#: a demand number as people type it: SQ + date + sequence, whole or its start
NUMBER_PREFIX = "SQ"
WHOLE_NUMBER = re.compile(r"^SQ\d{8}-\d{5,}$")
#: a search box's matches are counted up to this many: more is answered as this total with
#: ``total_capped`` (the console: "10,000+"), and newest first instead of the best match first.
#: Counting and ranking every match of a common word took 0.5 s a page at 1,000,000 demands.
COUNT_CAP = 10_000


def document(title: str | None, description: str | None,
             results: Iterable[str | None] = (), notes: Iterable[str | None] = ()) -> str:
    """The ``tsvector`` literal of a demand's searchable texts."""
    later = [w for text in (*results, *notes) for w in fulltext.words(text)]
    return fulltext.tsvector((fulltext.words(title), "A"),
                             (fulltext.words(description), "B"), (later, "C"))


def refresh(session: Session, demand_ids: Sequence[str]) -> None:
    """Write the ``search`` words of these demands again from their texts (after a result or
    a public note was added)."""
    ids = list(dict.fromkeys(demand_ids))
    if not ids:
        return
    texts: dict[str, dict[str, Any]] = {
        row.id: {"title": row.title, "description": row.description, "later": []}
        for row in session.execute(
            select(Demand.id, Demand.title, Demand.description).where(Demand.id.in_(ids)))
    }
    for demand_id, result in session.execute(
            select(Task.demand_id, Task.result).where(Task.demand_id.in_(ids),
                                                      Task.result.is_not(None))
            .order_by(Task.created_at, Task.id)):
        texts[demand_id]["later"].append(result)
    for demand_id, body in session.execute(
            select(Note.demand_id, Note.body).where(Note.demand_id.in_(ids),
                                                    Note.visibility == "public")
            .order_by(Note.created_at, Note.id)):
        texts[demand_id]["later"].append(body)
    for demand_id, found in texts.items():
        session.execute(update(Demand).where(Demand.id == demand_id).values(
            search=document(found["title"], found["description"], found["later"])))


# --------------------------------------------------------------------------- filters


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), SHANGHAI)


def looks_like_number(text: str) -> bool:
    """``q`` holding a demand number (SQ20261126-00001) looks it up by number."""
    upper = text.strip().upper()
    return upper.startswith(NUMBER_PREFIX) and len(upper) >= 6 and all(
        c.isascii() and (c.isalnum() or c == "-") for c in upper)


def number_clause(text: str) -> Any:
    """A whole number (SQ20261126-00001) exactly, else its start (SQ20261126)."""
    typed = text.strip()
    forms = list(dict.fromkeys((typed.upper(), typed)))  # as numbers are written, or as typed
    if WHOLE_NUMBER.match(forms[0]):
        return Demand.number.in_(forms)
    return or_(*(Demand.number.startswith(form, autoescape=True) for form in forms))


def query_text(q: str | None) -> str | None:
    """The ``tsquery`` of a search box (every word must be there); None without words."""
    return fulltext.all_of(fulltext.keywords(q)) if q else None


def task_overdue(now: datetime) -> Any:
    """Over Task: open past the handling deadline, or completed after it (never NULL)."""
    return func.coalesce(or_(
        and_(Task.status.in_(OPEN_TASK_STATES), Task.due_at < now),
        and_(Task.status == "completed", Task.completed_at > Task.due_at),
    ), false())


def demand_overdue(now: datetime) -> Any:
    """Over Demand: its triage late (open past 10:00 of the next working day, or done after
    it), or one of its tasks overdue."""
    triage_late = or_(and_(Demand.status == "received", Demand.triage_due_at < now),
                      Demand.triaged_at > Demand.triage_due_at)
    return or_(triage_late, exists().where(Task.demand_id == Demand.id, task_overdue(now)))


def demand_escalated() -> Any:
    return exists().where(Task.demand_id == Demand.id, Task.escalation_level > 0)


def has_task_of(department_id: str) -> Any:
    return exists().where(Task.demand_id == Demand.id, Task.department_id == department_id)


class Unmatched(Exception):
    """The filters can match nothing (a search box of stop words only, an enterprise no
    registry entry matches): the list is empty."""


def apply(query: Any, filters: dict[str, Any], now: datetime, *, per_task: bool = False,
          enterprise_ids: Sequence[str] | None = None) -> Any:
    """``query`` (over Demand, joined to Task when ``per_task``) narrowed by the search box
    and the shared filters (:class:`services.ticketing.schemas.SearchFilterSchema`).
    ``enterprise_ids``: what the ``enterprise`` filter resolved to (the registry's). With
    ``per_task``, ``overdue``, ``escalated`` and ``department_id`` apply to the task itself.
    Raises :class:`Unmatched` when nothing can match."""
    q = (filters.get("q") or "").strip()
    if q:
        if looks_like_number(q):
            query = query.where(number_clause(q))
        else:
            words = query_text(q)
            if words is None:
                raise Unmatched
            query = query.where(fulltext.matches(Demand.search, words))
    if filters.get("number"):
        query = query.where(number_clause(filters["number"]))
    if filters.get("enterprise") is not None:
        if not enterprise_ids:
            raise Unmatched
        query = query.where(Demand.enterprise_id.in_(list(enterprise_ids)))
    if filters.get("received_from"):
        query = query.where(Demand.received_at >= day_start(filters["received_from"]))
    if filters.get("received_to"):
        query = query.where(
            Demand.received_at < day_start(filters["received_to"] + timedelta(days=1)))
    for field in ("category", "grid_id", "channel"):
        if filters.get(field):
            query = query.where(getattr(Demand, field) == filters[field])
    if filters.get("department_id"):
        query = query.where(Task.department_id == filters["department_id"] if per_task
                            else has_task_of(filters["department_id"]))
    if filters.get("overdue") is not None:
        clause = task_overdue(now) if per_task else demand_overdue(now)
        query = query.where(clause if filters["overdue"] else ~clause)
    if filters.get("escalated") is not None:
        clause = Task.escalation_level > 0 if per_task else demand_escalated()
        query = query.where(clause if filters["escalated"] else ~clause)
    return query


def has_words(filters: dict[str, Any]) -> bool:
    """The search box holds words to look for (not a demand number)."""
    q = (filters.get("q") or "").strip()
    return bool(q) and not looks_like_number(q) and query_text(q) is not None


def counted(session: Session, query: Any, filters: dict[str, Any],
            cap: int | None = None) -> tuple[int, bool]:
    """The total of a list ``query`` (:func:`apply` applied) and whether it is capped: with
    words in the search box, at most :data:`COUNT_CAP` matches are counted (``cap``: another
    bound, such as the rows an export may hold)."""
    return count_of(session, query, (cap or COUNT_CAP) if has_words(filters) else None)


def by_relevance(filters: dict[str, Any], capped: bool = False) -> Any | None:
    """The ORDER BY term of the best match first, when the search box has words and the
    caller did not ask for another order; else None. ``capped`` (more than
    :data:`COUNT_CAP` matches): None, the list's date order, so that a common word reads a
    page from the date index instead of ranking every match."""
    q = (filters.get("q") or "").strip()
    if capped or not q or looks_like_number(q) or filters.get("sort") not in (None,
                                                                               "relevance"):
        return None
    words = query_text(q)
    return fulltext.rank(Demand.search, words).desc() if words else None
