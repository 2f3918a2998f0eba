"""The in-app inbox (站内消息): who a message is for, and reading it. No broker in here."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Select, String, bindparam, func, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from common.errors import NotFound
from common.events import first_delivery
from common.i18n import DEFAULT_LANGUAGE, Translator
from common.pagination import paginate
from services.notification import delivery
from services.notification.models import InboxMessage, PolicyRecipient, processed_events
from services.notification.templates import local_time


def recipient_of(principal: Principal) -> str:
    """Enterprise users share their enterprise's inbox; staff have their own."""
    if principal.role == Role.ENTERPRISE and principal.enterprise_id:
        return f"enterprise:{principal.enterprise_id}"
    return f"user:{principal.user_id}"


def demand_received_message(data: dict[str, Any], language: str = DEFAULT_LANGUAGE
                            ) -> tuple[str, str, str]:
    """(title, body, link) telling an enterprise its demand was registered."""
    t = Translator(language)
    title = t("Demand registered: {number}", number=data["number"])
    body = (
        t("Your demand 「{title}」 submitted on {time} is registered under number {number}.",
          title=data["title"], time=local_time(data["received_at"], t.language),
          number=data["number"])
        + t(" The platform will triage it by {time}",
            time=local_time(data["triage_due_at"], t.language))
        + (t(" (deadline counted on provisional working days)")
           if data.get("triage_due_provisional") else "")
        + t(" and tell the handling department.")
    )
    return title, body, f"/demands/{data['demand_id']}"


def handled(session: Session, event_id: str, handler: str) -> bool:
    """Whether ``handler`` had this event already (its claim in ``processed_events``)."""
    return session.execute(select(processed_events.c.event_id).where(
        processed_events.c.event_id == event_id,
        processed_events.c.handler == handler)).first() is not None


def deliver_all(session: Session, event_id: str, handler: str,
                deliveries: Iterable[tuple[str, str, str, str, str]]) -> None:
    """A handler's messages for one event, unless it claimed the event before (the claim
    :func:`common.events.first_delivery` and the messages commit together)."""
    if not first_delivery(session, processed_events, event_id, handler):
        return
    deliver_many(session, deliveries, event_id)


def deliver(
    session: Session | Connection, recipient: str, kind: str, event_id: str, title: str, body: str,
    link: str, *, claim: str | None = None,
) -> bool:
    """Put a message in an inbox once per (event, recipient); False if it was there already.
    A new message is queued for the recipient's other channels in the same statement.

    With ``claim`` (a handler's name) the statement also claims (event, handler) as
    :func:`common.events.first_delivery` does, and writes nothing if it was claimed before:
    a handler with one message to send needs a single round trip."""
    params = {"id": str(uuid.uuid4()), "recipient": recipient, "kind": kind,
              "event_id": event_id, "title": title, "body": body, "link": link}
    if claim is None:
        return session.execute(_DELIVER, params).first() is not None
    return session.execute(_CLAIM_AND_DELIVER, params | {"handler": claim}).first() is not None


_MESSAGE_FIELDS = ("id", "recipient", "kind", "event_id", "title", "body", "link")


def _deliver_statement(claimed: bool) -> Select:
    """A message and its deliveries in one statement (built once: it runs for every event),
    after the handler's claim on the event if ``claimed``."""
    fields = {name: bindparam(name, type_=InboxMessage.__table__.c[name].type)
              for name in _MESSAGE_FIELDS}
    message = insert(InboxMessage)
    if claimed:
        claim = (insert(processed_events)
                 .values(event_id=fields["event_id"], handler=bindparam("handler"))
                 .on_conflict_do_nothing()
                 .returning(processed_events.c.event_id)
                 .cte("claim"))
        message = message.from_select(
            list(_MESSAGE_FIELDS),
            select(*[fields[name] for name in _MESSAGE_FIELDS]).select_from(claim))
    else:
        message = message.values(fields)
    new = (message.on_conflict_do_nothing(constraint="uq_inbox_event_recipient")
           .returning(InboxMessage.id, InboxMessage.recipient)
           .cte("new_message"))
    return select(new.c.id).add_cte(delivery.queued_for(new))


_DELIVER = _deliver_statement(claimed=False)
_CLAIM_AND_DELIVER = _deliver_statement(claimed=True)


def deliver_many(session: Session | Connection,
                 deliveries: Iterable[tuple[str, str, str, str, str]], event_id: str) -> int:
    """Put the messages of one event in their inboxes, once per (event, recipient), with their
    channel deliveries: one statement per distinct message (kind, title, body, link) whatever
    the number of recipients (``INSERT ... SELECT`` over the recipients as an array), where
    :func:`deliver` takes a statement per recipient. ``deliveries`` are (recipient, kind,
    title, body, link). How many messages were new."""
    groups: dict[tuple[str, str, str, str], list[str]] = {}
    for recipient, kind, title, body, link in deliveries:
        group = groups.setdefault((kind, title, body, link), [])
        if recipient not in group:
            group.append(recipient)
    made = 0
    for (kind, title, body, link), recipients in groups.items():
        made += len(session.execute(_DELIVER_MANY, {
            "recipients": recipients, "kind": kind, "event_id": event_id, "title": title,
            "body": body, "link": link}).all())
    return made


def _deliver_many_statement() -> Select:
    """One message to each of ``:recipients`` and their deliveries, in one statement."""
    recipients = func.unnest(bindparam("recipients", type_=ARRAY(String))).table_valued(
        "recipient").render_derived("recipients")
    fields = {name: bindparam(name, type_=InboxMessage.__table__.c[name].type)
              for name in ("kind", "event_id", "title", "body", "link")}
    new = (insert(InboxMessage)
           .from_select(list(_MESSAGE_FIELDS), select(
               func.gen_random_uuid(), recipients.c.recipient, fields["kind"],
               fields["event_id"], fields["title"], fields["body"], fields["link"]))
           .on_conflict_do_nothing(constraint="uq_inbox_event_recipient")
           .returning(InboxMessage.id, InboxMessage.recipient)
           .cte("new_message"))
    return select(new.c.id).add_cte(delivery.queued_for(new))


_DELIVER_MANY = _deliver_many_statement()


def deliver_to_policy_audience(session: Session, policy_id: str, kind: str, event_id: str,
                               title: str, body: str, link: str) -> int:
    """One message to every enterprise of a published policy's recipient snapshot, in two
    statements whatever the audience's size (INSERT … SELECT for the messages, then for their
    channel deliveries); once per (event, recipient) however often it runs. How many new."""
    recipient = literal("enterprise:") + PolicyRecipient.enterprise_id.cast(String)
    created = session.execute(
        insert(InboxMessage)
        .from_select(
            ["id", "recipient", "kind", "event_id", "title", "body", "link"],
            select(func.gen_random_uuid(), recipient, literal(kind), literal(event_id).cast(
                InboxMessage.event_id.type), literal(title), literal(body), literal(link))
            .where(PolicyRecipient.policy_id == policy_id))
        .on_conflict_do_nothing(constraint="uq_inbox_event_recipient")
        .returning(InboxMessage.id)
    ).all()
    if created:
        delivery.queue_for_event(session, event_id)
    return len(created)


def page(session: Session, principal: Principal, query: dict[str, Any]) -> dict[str, Any]:
    recipient = recipient_of(principal)
    base = select(InboxMessage).where(InboxMessage.recipient == recipient)
    unread_q = base.where(InboxMessage.read_at.is_(None))
    listed = unread_q if query["unread"] else base
    unread = session.execute(select(func.count()).select_from(unread_q.subquery())).scalar_one()
    return paginate(session, listed, query, scalars=True, order_by=[
        InboxMessage.created_at.desc(), InboxMessage.id]).as_dict(unread=unread)


def mark_read(session: Session, principal: Principal, message_id: str) -> InboxMessage:
    try:
        uuid.UUID(message_id)
    except ValueError as exc:
        raise NotFound("no such message", code="inbox.not_found") from exc
    message = session.get(InboxMessage, message_id)
    if message is None or message.recipient != recipient_of(principal):
        raise NotFound("no such message", code="inbox.not_found")
    if message.read_at is None:
        session.execute(
            update(InboxMessage)
            .where(InboxMessage.id == message_id, InboxMessage.read_at.is_(None))
            .values(read_at=datetime.now(UTC))
        )
        session.refresh(message)
    return message
