"""Docking (点对点对接): enterprise A asks to connect about B's listing; B accepts or declines.

Contacts are never on the board. When B accepts, the service fetches both enterprises'
contacts from the registry and stores them on the docking, so each party sees the other's
(and staff see both); before that, and after a decline, a docking shows none. Every step is
kept in the docking's history, visible to the two parties and to platform staff.

Exactly one decision wins: :func:`decide` locks the docking row and refuses (409) a decision
on a docking that is no longer ``requested``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from common.auth import Principal, Role
from common.concurrency import stale
from common.errors import (
    Conflict,
    Forbidden,
    NotFound,
    field_error,
    invalid_fields,
)
from common.i18n import label
from common.pagination import paginate
from common.validation import is_uuid
from services.supplydemand import access, board, events
from services.supplydemand.models import Docking, DockingEvent, Enterprise


def _event_data(docking: Docking, message: str) -> dict[str, Any]:
    return {
        "docking_id": docking.id, "listing_id": docking.listing_id,
        "listing_title": docking.listing_title,
        "requester_enterprise_id": docking.requester_enterprise_id,
        "owner_enterprise_id": docking.owner_enterprise_id, "message": message,
    }


def _step(session: Session, docking: Docking, principal: Principal, action: str,
          message: str, at: datetime) -> None:
    session.add(DockingEvent(docking_id=docking.id, action=action, actor_id=principal.user_id,
                             actor_role=str(principal.role), message=message, at=at))


def request(session: Session, principal: Principal, data: dict[str, Any],
            requester: Enterprise, call_id: str | None = None) -> Docking:
    """A asks to connect about a live listing of another enterprise. ``requester`` is the
    board's copy of A, just refreshed from the registry."""
    access.require_publisher(principal)
    if not requester.in_scope:
        raise invalid_fields({"enterprise_id": [field_error(
            "enterprise.out_of_scope", "the enterprise is not in the service scope and may not "
            "dock")]})
    try:
        listing, owner = board.visible(session, principal, data["listing_id"])
    except NotFound as exc:
        raise invalid_fields({"listing_id": [field_error(
            "listing.not_found", "no such listing on the board")]}) from exc
    if listing.enterprise_id == requester.id:
        raise invalid_fields({"listing_id": [field_error(
            "docking.own_listing", "a listing of the requesting enterprise itself")]})
    if not board.is_live(listing, owner, board.today()):
        raise invalid_fields({"listing_id": [field_error(
            "listing.not_live", "the listing is not on the board")]})
    open_request = session.execute(
        select(Docking.id).where(Docking.listing_id == listing.id,
                                 Docking.requester_enterprise_id == requester.id,
                                 Docking.status == "requested")
    ).first()
    if open_request is not None:
        raise Conflict("a docking request about this listing is already waiting for an "
                       "answer ({docking})", code="docking.pending",
                       params={"docking": open_request[0]})
    moment = datetime.now(UTC)
    docking = Docking(
        id=str(uuid.uuid4()), listing_id=listing.id, listing_title=listing.title,
        requester_enterprise_id=requester.id, owner_enterprise_id=owner.id,
        message=data["message"], status="requested", created_by=principal.user_id,
        created_at=moment, version=1,
    )
    session.add(docking)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent identical request won
        raise Conflict("a docking request about this listing is already waiting for an "
                       "answer", code="docking.pending") from exc
    _step(session, docking, principal, "requested", data["message"], moment)
    events.publish(session, "docking_requested", _event_data(docking, data["message"]), call_id)
    session.flush()
    return docking


def _parties(session: Session, docking: Docking) -> tuple[Enterprise, Enterprise]:
    requester = session.get(Enterprise, docking.requester_enterprise_id)
    owner = session.get(Enterprise, docking.owner_enterprise_id)
    assert requester is not None and owner is not None  # foreign keys
    return requester, owner


def visible(session: Session, principal: Principal, docking_id: str, lock: bool = False
            ) -> tuple[Docking, Enterprise, Enterprise]:
    """The docking if the caller is one of its parties (or acts for one) or staff."""
    if not is_uuid(docking_id):
        raise NotFound("no such docking", code="docking.not_found")
    query = select(Docking).where(Docking.id == docking_id)
    if lock:  # and read it again: the worker's session may hold an older copy
        query = query.with_for_update().execution_options(populate_existing=True)
    docking = session.execute(query).scalar_one_or_none()
    if docking is None:
        raise NotFound("no such docking", code="docking.not_found")
    requester, owner = _parties(session, docking)
    if not (access.reads_all(principal) or board.manages(principal, requester)
            or board.manages(principal, owner)):
        raise NotFound("no such docking", code="docking.not_found")
    return docking, requester, owner


def check_decider(principal: Principal, docking: Docking, owner: Enterprise) -> None:
    """Only the listing's enterprise (or the grid staff of its grid) answers."""
    access.require_publisher(principal)
    if not board.manages(principal, owner):
        raise Forbidden("only the enterprise that published the listing answers a docking "
                        "request", code="docking.answer_forbidden")
    if docking.status != "requested":
        raise Conflict("the docking was already {status}", code="docking.answered",
                       params={"status": label("docking_status", docking.status)})


def decide(session: Session, principal: Principal, docking_id: str, accept: bool,
           message: str, contacts: dict[str, list] | None = None,
           expected: int | None = None, call_id: str | None = None
           ) -> tuple[Docking, Enterprise, Enterprise]:
    """Accept (with both parties' ``contacts``) or decline. The row is locked, so of two
    concurrent decisions exactly one is recorded; the other is 409."""
    docking, requester, owner = visible(session, principal, docking_id, lock=True)
    check_decider(principal, docking, owner)
    if expected is not None and expected != docking.version:
        raise stale("docking", expected, docking.version)
    moment = datetime.now(UTC)
    docking.status = "accepted" if accept else "declined"
    docking.reply = message
    docking.decided_by = principal.user_id
    docking.decided_at = moment
    docking.version += 1
    if accept:
        assert contacts is not None
        docking.requester_contacts = contacts["requester"]
        docking.owner_contacts = contacts["owner"]
    _step(session, docking, principal, docking.status, message, moment)
    events.publish(session, f"docking_{docking.status}", _event_data(docking, message), call_id)
    session.flush()
    return docking, requester, owner


def dump(session: Session, docking: Docking, requester: Enterprise, owner: Enterprise
         ) -> dict[str, Any]:
    history = session.execute(
        select(DockingEvent).where(DockingEvent.docking_id == docking.id)
        .order_by(DockingEvent.at, DockingEvent.id)
    ).scalars()
    contacts = None
    if docking.status == "accepted":
        contacts = {"requester": docking.requester_contacts or [],
                    "owner": docking.owner_contacts or []}
    return {
        "id": docking.id, "listing_id": docking.listing_id,
        "listing_title": docking.listing_title,
        "requester_enterprise_id": docking.requester_enterprise_id,
        "requester_name": requester.name, "owner_enterprise_id": docking.owner_enterprise_id,
        "owner_name": owner.name, "message": docking.message, "status": docking.status,
        "reply": docking.reply, "contacts": contacts,
        "history": [{"action": e.action, "actor_role": e.actor_role, "message": e.message,
                     "at": e.at} for e in history],
        "created_at": docking.created_at, "decided_at": docking.decided_at,
        "version": docking.version,
    }


def list_dockings(session: Session, principal: Principal, q: dict[str, Any]
                  ) -> dict[str, Any]:
    requester = aliased(Enterprise)
    owner = aliased(Enterprise)
    query = (select(Docking, requester, owner)
             .join(requester, requester.id == Docking.requester_enterprise_id)
             .join(owner, owner.id == Docking.owner_enterprise_id))
    direction = q.get("direction")
    if principal.role == Role.ENTERPRISE:
        mine = access.own_enterprise(principal)
        sent = Docking.requester_enterprise_id == mine
        received = Docking.owner_enterprise_id == mine
    elif principal.role in access.GRID_ROLES:
        grids = principal.grid_ids or ("",)
        sent, received = requester.grid_id.in_(grids), owner.grid_id.in_(grids)
    elif access.reads_all(principal):
        sent = received = literal(True)
    else:
        sent = received = literal(False)
    if direction == "sent":
        query = query.where(sent)
    elif direction == "received":
        query = query.where(received)
    else:
        query = query.where(or_(sent, received))
    if "status" in q:
        query = query.where(Docking.status == q["status"])
    if "listing_id" in q:
        query = query.where(Docking.listing_id == q["listing_id"])
    found = paginate(session, query, q, order_by=[Docking.created_at.desc(), Docking.id])
    return found.map(lambda row: dump(session, *row)).as_dict()
