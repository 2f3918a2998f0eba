"""The board's candidates for matching (供求匹配的候选): the SQL that picks the listings worth
scoring, before :func:`services.supplydemand.matching.rank` ranks them in Python
(:mod:`services.supplydemand.board`).

The candidates come from PostgreSQL: the ``search`` tsvector of the segmented words (title
words weighted A, description words B; a partial GIN index per side over published listings
only; ranked with ``ts_rank`` and limited to :data:`TEXT_CANDIDATES`), plus the newest
listings of the same industry division. ``ts_rank``, not ``ts_rank_cd``: measured on 100,000
listings, ``ts_rank_cd`` cost about 15 us per matching row against 2 us, and the cover density
adds nothing for titles of a few words. Only live listings: published, within their validity
on the day asked, of an enterprise in scope.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from services.supplydemand import matching
from services.supplydemand.schemas import SIDES

log = logging.getLogger(__name__)

#: candidates taken by text rank before the Python re-rank
TEXT_CANDIDATES = 100
#: candidates of the same industry division taken besides (newest first)
DIVISION_CANDIDATES = 30
#: candidates of a search without words (newest first)
RECENT_CANDIDATES = 200


#: the share of listings holding each common word, as PostgreSQL's ANALYZE measured it for
#: the ``search`` column (most common elements); a word not listed is rare
FREQUENCIES_SQL = text("""
SELECT s.most_common_elems::text::text[] AS words, s.most_common_elem_freqs AS shares,
       c.reltuples AS listings
FROM pg_stats s JOIN pg_class c ON c.oid = 'supplydemand.listings'::regclass
WHERE s.schemaname = 'supplydemand' AND s.tablename = 'listings' AND s.attname = 'search'
""")
FREQUENCIES_TTL_SECONDS = 300.0
#: a word counts as common only if about this many listings hold it (a small board has no
#: common words: every word is looked up and weighs in full)
COMMON_MIN_LISTINGS = 200


class WordFrequencies:
    """How common each word is on the board, read from ``pg_stats`` at most every
    :data:`FREQUENCIES_TTL_SECONDS` per process (autovacuum's ANALYZE keeps it current).
    Empty until the table was analysed: then every word counts as rare."""

    def __init__(self) -> None:
        self._shares: dict[str, float] = {}
        self._read_at = float("-inf")

    def get(self, session: Session) -> dict[str, float]:
        moment = time.monotonic()
        if moment - self._read_at >= FREQUENCIES_TTL_SECONDS:
            self._read_at = moment
            try:
                with session.begin_nested():
                    row = session.execute(FREQUENCIES_SQL).first()
            except Exception:  # statistics are an optimisation; never fail a request on them
                log.warning("reading word frequencies failed", exc_info=True)
                row = None
            if row is not None and row.words and row.shares:
                total = max(float(row.listings or 0), 0.0)
                self._shares = {w: float(f) for w, f in zip(row.words, row.shares,
                                                            strict=False)
                                if float(f) * total >= COMMON_MIN_LISTINGS}
        return self._shares

    def reset(self) -> None:
        self._read_at = float("-inf")


WORD_FREQUENCIES = WordFrequencies()


_COLUMNS = """
  l.id, l.side, l.title, l.category, l.industry_code, l.quantity, l.unit, l.region,
  l.valid_until, l.published_at, l.enterprise_id, e.name AS enterprise_name,
  l.title_words, l.words
"""
_LIVE = """
  l.status = 'published' AND l.side = '{side}'
  AND l.valid_from <= :today AND l.valid_until >= :today AND e.in_scope
"""
TEXT_SQL = """
(SELECT {columns}
FROM supplydemand.listings l JOIN supplydemand.enterprises e ON e.id = l.enterprise_id
WHERE {live} AND l.search @@ to_tsquery('simple', :q) {extra}
ORDER BY ts_rank(l.search, to_tsquery('simple', :q), 1) DESC, l.published_at DESC
LIMIT :text_limit)
"""
DIVISION_SQL = """
(SELECT {columns}
FROM supplydemand.listings l JOIN supplydemand.enterprises e ON e.id = l.enterprise_id
WHERE {live} AND l.industry_division = :division {extra}
ORDER BY l.published_at DESC
LIMIT :division_limit)
"""
RECENT_SQL = """
(SELECT {columns}
FROM supplydemand.listings l JOIN supplydemand.enterprises e ON e.id = l.enterprise_id
WHERE {live} {extra}
ORDER BY l.published_at DESC
LIMIT :recent_limit)
"""


def _sql(templates: Sequence[str], side: str, extra: str = "") -> Any:
    """The parts, each ranked and limited on its own, in one statement (one round trip)."""
    if side not in SIDES:  # inlined (not bound) so that the partial indexes apply
        raise ValueError(f"no side {side!r}")
    live = _LIVE.format(side=side)
    return text(" UNION ALL ".join(t.format(columns=_COLUMNS, live=live, extra=extra)
                                   for t in templates))


def _candidates(rows: Iterable[Any]) -> list[matching.Candidate]:
    out = []
    for r in rows:
        payload = {
            "id": str(r.id), "side": r.side, "enterprise_id": str(r.enterprise_id),
            "enterprise_name": r.enterprise_name, "title": r.title, "category": r.category,
            "industry_code": r.industry_code,
            "quantity": float(r.quantity) if r.quantity is not None else None,
            "unit": r.unit, "region": r.region, "valid_until": r.valid_until,
            "published_at": r.published_at,
        }
        out.append(matching.Candidate(
            id=str(r.id), title_words=r.title_words, words=r.words,
            industry_code=r.industry_code, category=r.category, region=r.region,
            published_at=r.published_at, payload=payload))
    return out


def candidates(session: Session, probe: matching.Probe, side: str, day: date, *,
               exclude_enterprise: str | None = None, category: str | None = None,
               with_division: bool = True, recent_if_no_words: bool = False,
               frequencies: dict[str, float] | None = None) -> list[matching.Candidate]:
    """Listings of ``side`` live on ``day`` worth scoring for ``probe``: the best by text rank
    among those holding one of its (uncommon) words, and the newest of its industry
    division."""
    params: dict[str, Any] = {"today": day}
    extra = ""
    if exclude_enterprise:
        extra += " AND l.enterprise_id <> :exclude"
        params["exclude"] = exclude_enterprise
    if category:
        extra += " AND l.category = :category"
        params["category"] = category
    parts: list[str] = []
    q = matching.tsquery(probe.query_words(frequencies))
    if q:
        parts.append(TEXT_SQL)
        params.update(q=q, text_limit=TEXT_CANDIDATES)
    division = matching.division(probe.industry_code)
    if with_division and division:
        parts.append(DIVISION_SQL)
        params.update(division=division, division_limit=DIVISION_CANDIDATES)
    if not q and recent_if_no_words:
        parts.append(RECENT_SQL)
        params.update(recent_limit=RECENT_CANDIDATES)
    if not parts:
        return []
    return _candidates(session.execute(_sql(parts, side, extra), params))
