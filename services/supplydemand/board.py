"""Listings of the board (供求信息): publish, change, close, moderate, expire, find matches.

A listing is **live** (on the board, in matches and in search) while its status is
``published``, today (Asia/Shanghai) lies within its validity, and its enterprise is in scope.
Every query that shows listings to others filters on all three, so an expired, hidden or
out-of-scope listing never appears even before the expiry sweep has marked it.

Matching: the candidates come from PostgreSQL (:mod:`services.supplydemand.candidates`);
:func:`services.supplydemand.matching.rank` scores and explains them in Python, here.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, literal, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from common import search as fulltext
from common.auth import Principal, Role
from common.calendar import SHANGHAI
from common.concurrency import stale
from common.errors import (
    Conflict,
    Forbidden,
    NotFound,
    field_error,
    invalid_fields,
)
from common.i18n import EN
from common.pagination import page_of, paginate
from common.validation import is_uuid
from services.supplydemand import access, events, matching
from services.supplydemand.candidates import WORD_FREQUENCIES, candidates
from services.supplydemand.models import Enterprise, Listing, MatchPair, Moderation
from services.supplydemand.schemas import MAX_VALIDITY_DAYS, SIDES

log = logging.getLogger(__name__)

#: at most this many pairs are notified when one listing is published
MAX_NOTIFIED = 20


def today() -> date:
    return datetime.now(SHANGHAI).date()


def now() -> datetime:
    return datetime.now(UTC)


def opposite(side: str) -> str:
    return "demand" if side == "supply" else "supply"


def is_live(listing: Listing, enterprise: Enterprise, on: date) -> bool:
    return (listing.status == "published" and enterprise.in_scope
            and listing.valid_from <= on <= listing.valid_until)


def effective_status(listing: Listing, on: date) -> str:
    """``expired`` as soon as the end date passed, even before the sweep marks it."""
    if listing.status == "published" and listing.valid_until < on:
        return "expired"
    return listing.status


def dump(listing: Listing, enterprise: Enterprise, on: date | None = None) -> dict[str, Any]:
    day = on or today()
    return {
        "id": listing.id, "side": listing.side, "enterprise_id": listing.enterprise_id,
        "enterprise_name": enterprise.name, "title": listing.title,
        "description": listing.description, "category": listing.category,
        "industry_code": listing.industry_code,
        "quantity": float(listing.quantity) if listing.quantity is not None else None,
        "unit": listing.unit, "region": listing.region, "valid_from": listing.valid_from,
        "valid_until": listing.valid_until, "status": effective_status(listing, day),
        "live": is_live(listing, enterprise, day), "hidden_reason": listing.hidden_reason,
        "published_at": listing.published_at, "created_at": listing.created_at,
        "updated_at": listing.updated_at, "version": listing.version,
    }


# --------------------------------------------------------------------------- words


def _search_vector(title_words: Sequence[str], description_words: Sequence[str]) -> Any:
    """Title words weigh A, description words B (``ts_rank`` ranks title hits higher)."""
    return fulltext.vector((fulltext.document(title_words), "A"),
                           (fulltext.document(description_words), "B"))


def _set_words(listing: Listing) -> None:
    title_words = matching.segment(listing.title)
    description_words = matching.segment(listing.description)
    listing.title_words = matching.unique(title_words)
    listing.words = matching.unique(title_words + description_words)
    listing.search = _search_vector(title_words, description_words)


def probe_of(listing: Listing) -> matching.Probe:
    title = set(listing.title_words)
    return matching.Probe(
        title_words=list(listing.title_words),
        description_words=[w for w in listing.words if w not in title],
        industry_code=listing.industry_code, category=listing.category, region=listing.region,
    )


# --------------------------------------------------------------------------- reading


def get(session: Session, listing_id: str, lock: bool = False
        ) -> tuple[Listing, Enterprise]:
    if not is_uuid(listing_id):
        raise NotFound("no such listing", code="listing.not_found")
    query = select(Listing).where(Listing.id == listing_id)
    if lock:  # and read it again: the worker's session may hold an older copy
        query = query.with_for_update().execution_options(populate_existing=True)
    listing = session.execute(query).scalar_one_or_none()
    if listing is None:
        raise NotFound("no such listing", code="listing.not_found")
    enterprise = session.get(Enterprise, listing.enterprise_id)
    assert enterprise is not None  # foreign key
    return listing, enterprise


def manages(principal: Principal, enterprise: Enterprise) -> bool:
    return access.acts_for(principal, enterprise.id, enterprise.grid_id)


def visible(session: Session, principal: Principal, listing_id: str
            ) -> tuple[Listing, Enterprise]:
    """A live listing for anyone; any listing for its managers and staff; else NotFound."""
    listing, enterprise = get(session, listing_id)
    if (is_live(listing, enterprise, today()) or manages(principal, enterprise)
            or access.reads_all(principal)):
        return listing, enterprise
    raise NotFound("no such listing", code="listing.not_found")


def managed(session: Session, principal: Principal, listing_id: str
            ) -> tuple[Listing, Enterprise]:
    """The listing, locked, if the caller manages it (its enterprise or grid staff)."""
    access.require_publisher(principal)
    listing, enterprise = get(session, listing_id, lock=True)
    if not manages(principal, enterprise):
        if is_live(listing, enterprise, today()):
            raise Forbidden("only its enterprise (or the grid staff of its grid) may change "
                            "a listing", code="listing.change_forbidden")
        raise NotFound("no such listing", code="listing.not_found")
    return listing, enterprise


def list_listings(session: Session, principal: Principal, q: dict[str, Any]
                  ) -> dict[str, Any]:
    """The listings the caller manages (an enterprise its own, grid staff their grids'), or
    all for staff, newest first."""
    query = select(Listing, Enterprise).join(Enterprise, Enterprise.id == Listing.enterprise_id)
    if principal.role == Role.ENTERPRISE:
        query = query.where(Listing.enterprise_id == access.own_enterprise(principal))
    elif principal.role in access.GRID_ROLES:
        query = query.where(Enterprise.grid_id.in_(principal.grid_ids or ("",)))
    elif not access.reads_all(principal):
        query = query.where(literal(False))
    day = today()
    if "side" in q:
        query = query.where(Listing.side == q["side"])
    if "category" in q:
        query = query.where(Listing.category == q["category"])
    if "enterprise_id" in q:
        query = query.where(Listing.enterprise_id == q["enterprise_id"])
    status = q.get("status")
    if status == "published":
        query = query.where(Listing.status == "published", Listing.valid_until >= day)
    elif status == "expired":
        query = query.where(or_(Listing.status == "expired",
                                and_(Listing.status == "published", Listing.valid_until < day)))
    elif status:
        query = query.where(Listing.status == status)
    found = paginate(session, query, q, order_by=[Listing.created_at.desc(), Listing.id])
    return found.map(lambda row: dump(row[0], row[1], day)).as_dict()


# --------------------------------------------------------------------------- writing


def _check_dates(valid_from: date, valid_until: date, day: date) -> None:
    if valid_until < day:
        raise invalid_fields({"valid_until": [field_error(
            "listing.already_past", "already past (today is {today})", today=day.isoformat())]})
    if valid_until < valid_from:
        raise invalid_fields({"valid_until": [field_error(
            "field.before_start", "before {field} ({day})", field="valid_from",
            day=valid_from.isoformat())]})
    if (valid_until - valid_from).days > MAX_VALIDITY_DAYS:
        raise invalid_fields({"valid_until": [field_error(
            "listing.validity_too_long", "at most {max} days after valid_from",
            max=MAX_VALIDITY_DAYS)]})


def publish(session: Session, principal: Principal, data: dict[str, Any],
            enterprise: Enterprise, threshold: float, call_id: str | None = None
            ) -> tuple[Listing, list[matching.Match]]:
    """点对面发布: write the listing and notify the pairs above ``threshold``. ``enterprise``
    is the board's copy, just refreshed from the registry."""
    if not enterprise.in_scope:
        raise invalid_fields({"enterprise_id": [field_error(
            "enterprise.out_of_scope", "the enterprise is not in the service scope and may not "
            "publish")]})
    day = today()
    valid_from = data.get("valid_from") or day
    _check_dates(valid_from, data["valid_until"], day)
    moment = now()
    listing = Listing(
        id=str(uuid.uuid4()), side=data["side"], enterprise_id=enterprise.id,
        title=data["title"], description=data.get("description") or "",
        category=data["category"],
        industry_code=data.get("industry_code") or enterprise.industry_code,
        quantity=data.get("quantity"), unit=data.get("unit") or None,
        region=data.get("region") or None, valid_from=valid_from,
        valid_until=data["valid_until"], status="published", published_at=moment,
        created_by=principal.user_id, created_role=str(principal.role), created_at=moment,
        updated_at=moment, version=1,
    )
    listing.industry_division = matching.division(listing.industry_code)
    _set_words(listing)
    session.add(listing)
    session.flush()
    notified = notify_matches(session, listing, enterprise, threshold, call_id)
    return listing, notified


UPDATABLE = ("title", "description", "category", "industry_code", "quantity", "unit", "region",
             "valid_from", "valid_until")


def check_version(listing: Listing, expected: int | None) -> None:
    if expected is not None and expected != listing.version:
        raise stale("listing", expected, listing.version)


def change(session: Session, principal: Principal, listing_id: str, data: dict[str, Any],
           threshold: float, call_id: str | None = None
           ) -> tuple[Listing, Enterprise, list[matching.Match]]:
    """Change a listing's fields. A closed listing cannot change; a hidden one only after
    staff restore it; an expired one comes back when its end date moves into the future."""
    listing, enterprise = managed(session, principal, listing_id)
    check_version(listing, data.pop("version", None))
    if listing.status == "closed":
        raise Conflict("the listing is closed; publish a new one", code="listing.closed")
    if listing.status == "hidden":
        raise Conflict("the listing was hidden by platform staff ({reason}); it can change "
                       "once they restore it", code="listing.hidden",
                       params={"reason": listing.hidden_reason})
    changed = {k for k in UPDATABLE if k in data and getattr(listing, k) != data[k]}
    quantity = data.get("quantity", listing.quantity)
    if quantity is not None and not data.get("unit", listing.unit):
        raise invalid_fields({"unit": [field_error("listing.unit_required",
                                                   "required with a quantity")]})
    if not changed:
        return listing, enterprise, []
    day = today()
    valid_from = data.get("valid_from", listing.valid_from)
    valid_until = data.get("valid_until", listing.valid_until)
    if {"valid_from", "valid_until"} & changed:
        _check_dates(valid_from, valid_until, day)
    for key in changed:
        setattr(listing, key, data[key])
    listing.industry_division = matching.division(listing.industry_code)
    if {"title", "description"} & changed:
        _set_words(listing)
    if listing.status == "expired" and listing.valid_until >= day:
        listing.status = "published"  # extended: back on the board
    listing.version += 1
    listing.updated_at = now()
    session.flush()
    session.refresh(listing)
    notified: list[matching.Match] = []
    if is_live(listing, enterprise, day) and changed - {"quantity", "unit"}:
        notified = notify_matches(session, listing, enterprise, threshold, call_id)
    return listing, enterprise, notified


def close(session: Session, principal: Principal, listing_id: str,
          expected: int | None = None) -> tuple[Listing, Enterprise]:
    """The enterprise withdraws its listing (撤回): off the board for good."""
    listing, enterprise = managed(session, principal, listing_id)
    check_version(listing, expected)
    if listing.status == "closed":
        raise Conflict("the listing is already closed", code="listing.closed")
    if listing.status == "hidden":
        raise Conflict("the listing was hidden by platform staff; it can be closed once "
                       "they restore it", code="listing.hidden")
    listing.status = "closed"
    listing.version += 1
    listing.updated_at = now()
    session.flush()
    return listing, enterprise


def hide(session: Session, principal: Principal, listing_id: str, reason: str,
         expected: int | None = None) -> tuple[Listing, Enterprise]:
    """Platform staff take a listing off the board (屏蔽), with the reason."""
    access.require_moderator(principal)
    listing, enterprise = get(session, listing_id, lock=True)
    check_version(listing, expected)
    if listing.status == "hidden":
        raise Conflict("the listing is already hidden", code="listing.hidden")
    listing.status_before_hidden = listing.status
    listing.status = "hidden"
    listing.hidden_reason = reason
    _moderated(session, principal, listing, "hide", reason)
    return listing, enterprise


def restore(session: Session, principal: Principal, listing_id: str, reason: str,
            threshold: float, expected: int | None = None, call_id: str | None = None
            ) -> tuple[Listing, Enterprise, list[matching.Match]]:
    """Platform staff put a hidden listing back (恢复): as it was, or expired if its end date
    passed meanwhile."""
    access.require_moderator(principal)
    listing, enterprise = get(session, listing_id, lock=True)
    check_version(listing, expected)
    if listing.status != "hidden":
        raise Conflict("the listing is not hidden", code="listing.not_hidden")
    day = today()
    status = listing.status_before_hidden or "published"
    if status == "published" and listing.valid_until < day:
        status = "expired"
    listing.status = status
    listing.status_before_hidden = None
    listing.hidden_reason = None
    _moderated(session, principal, listing, "restore", reason)
    notified: list[matching.Match] = []
    if is_live(listing, enterprise, day):
        notified = notify_matches(session, listing, enterprise, threshold, call_id)
    return listing, enterprise, notified


def _moderated(session: Session, principal: Principal, listing: Listing, action: str,
               reason: str) -> None:
    listing.version += 1
    listing.updated_at = now()
    session.add(Moderation(listing_id=listing.id, action=action, reason=reason,
                           actor_id=principal.user_id, actor_role=str(principal.role),
                           at=listing.updated_at))
    session.flush()


def moderation_history(session: Session, listing_id: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Moderation).where(Moderation.listing_id == listing_id)
        .order_by(Moderation.at, Moderation.id)
    ).scalars()
    return [{"action": m.action, "reason": m.reason, "actor_role": m.actor_role, "at": m.at}
            for m in rows]


# --------------------------------------------------------------------------- matching

def matches_for(session: Session, listing: Listing, day: date | None = None
                ) -> list[matching.Match]:
    """点对点: the other side's live listings ranked for ``listing`` (not its own
    enterprise's)."""
    probe = probe_of(listing)
    frequencies = WORD_FREQUENCIES.get(session)
    found = candidates(session, probe, opposite(listing.side), day or today(),
                       exclude_enterprise=listing.enterprise_id, frequencies=frequencies)
    return matching.rank(probe, found, now(), frequencies)


def search(session: Session, q: dict[str, Any]) -> list[matching.Match]:
    """Browse live listings with the matching's ranking; words optional."""
    words = matching.segment(q.get("q"))
    probe = matching.Probe(title_words=matching.unique(words),
                           industry_code=q.get("industry_code"), category=q.get("category"),
                           region=q.get("region"))
    if q.get("q") and not words:
        return []  # only stop words: nothing to look for
    frequencies = WORD_FREQUENCIES.get(session)
    found: list[matching.Candidate] = []
    for side in ([q["side"]] if q.get("side") else SIDES):
        found += candidates(session, probe, side, today(), with_division=not words,
                            category=None if words else q.get("category"),
                            recent_if_no_words=True, frequencies=frequencies)
    return matching.rank(probe, found, now(), frequencies)


def page(matches: Sequence[matching.Match], page_no: int, per_page: int,
         language: str = EN) -> dict[str, Any]:
    """One page of matches, their explanations in the reader's ``language``."""
    found = page_of(matches, {"page": page_no, "per_page": per_page})
    return found.map(lambda m: m.as_dict(language)).as_dict()


def notify_matches(session: Session, listing: Listing, enterprise: Enterprise,
                   threshold: float, call_id: str | None = None) -> list[matching.Match]:
    """Record the pairs at or above ``threshold`` not recorded before and publish
    ``listing_matched`` for each (once per pair); the new ones."""
    if not is_live(listing, enterprise, today()):
        return []
    ranked = [m for m in matches_for(session, listing) if m.score >= threshold]
    new: list[matching.Match] = []
    for match in ranked[:MAX_NOTIFIED]:
        other = match.candidate.payload
        demand, supply = ((listing.id, other["id"]) if listing.side == "demand"
                          else (other["id"], listing.id))
        inserted = session.execute(
            insert(MatchPair).values(
                demand_listing_id=demand, supply_listing_id=supply,
                score=round(match.score, 4),
                explanation=[f.as_dict() for f in match.explanation],
            ).on_conflict_do_nothing().returning(MatchPair.demand_listing_id)
        ).first()
        if inserted is None:
            continue
        events.publish(session, "listing_matched", {
            "listing_id": listing.id, "listing_title": listing.title,
            "matched_listing_id": other["id"], "matched_listing_title": other["title"],
            "enterprise_ids": [listing.enterprise_id, other["enterprise_id"]],
            "score": round(match.score, 4),
        }, call_id)
        new.append(match)
    return new


# --------------------------------------------------------------------------- expiry


EXPIRE_SQL = text("""
WITH due AS (
  SELECT id FROM supplydemand.listings
  WHERE status = 'published' AND valid_until < :today
  ORDER BY valid_until, id
  LIMIT :batch
  FOR UPDATE SKIP LOCKED
)
UPDATE supplydemand.listings l
SET status = 'expired', version = l.version + 1, updated_at = now()
FROM due WHERE l.id = due.id
RETURNING l.id
""")
EXPIRE_BATCH = 500


def expire_due(transaction: Any, day: date | None = None, batch: int = EXPIRE_BATCH) -> int:
    """Mark published listings past their end date ``expired``, in batches, each in its own
    transaction (``transaction`` is ``db.transaction``). Idempotent; rows another replica is
    marking are skipped (SKIP LOCKED), so replicas never wait on each other. The count."""
    on = day or today()
    total = 0
    while True:
        with transaction() as session:
            done = len(session.execute(EXPIRE_SQL, {"today": on, "batch": batch}).all())
        total += done
        if done < batch:
            return total


# --------------------------------------------------------------------------- stats


def stats(session: Session) -> dict[str, Any]:
    """Listings by side and status (expired counted as soon as the date passed), pairs
    notified, dockings by outcome."""
    day = today()
    listings = session.execute(text("""
        SELECT side, CASE WHEN status = 'published' AND valid_until < :today THEN 'expired'
                          ELSE status END AS state, count(*)
        FROM supplydemand.listings GROUP BY 1, 2 ORDER BY 1, 2"""), {"today": day}).all()
    matches = session.execute(text("SELECT count(*) FROM supplydemand.matches")).scalar_one()
    dockings = session.execute(text(
        "SELECT status, count(*) FROM supplydemand.dockings GROUP BY 1 ORDER BY 1")).all()
    return {
        "listings": [{"side": s, "status": st, "count": n} for s, st, n in listings],
        "matches": matches,
        "dockings": [{"status": st, "count": n} for st, n in dockings],
    }
