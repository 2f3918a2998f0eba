"""Delivery of inbox messages on other channels (email, WeCom group robot). No broker in here.

The in-app inbox stays the message of record. When a message is put in an inbox
(:func:`services.notification.inbox.deliver`), :func:`queued_for` adds one ``deliveries`` row per
enabled channel preference of its recipient, in the same transaction; the unique constraint
``(message_id, channel)`` keeps it to one per message and channel however often the event is
redelivered (and the inbox message itself is once per event and recipient).

:func:`run_once` (called by the service's ``@timer``) claims due rows with
``FOR UPDATE SKIP LOCKED`` in batches of :data:`BATCH`, sends each one and records the outcome,
all in one short transaction per batch, so replicas split the work and never send a row
twice while both are alive. A failure is retried after ``base × 2^(attempts-1)`` seconds (capped
at :data:`MAX_BACKOFF_SECONDS`); after ``max_attempts`` the row is ``dead`` until an admin
retries it. **Exactly once, almost**: a process that dies after the mail left but before the
batch committed leaves the row due, and it is sent again (at least once). Mails carry the
delivery's id as ``Message-ID`` and the message id as ``X-Gridsvc-Message``, so a receiver
can drop that duplicate.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import smtplib
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import CTE, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from common.config import ConfigurationError, seconds_from_env
from common.errors import Conflict, InvalidValue, NotFound
from common.i18n import label
from common.pagination import paginate
from services.notification import webhooks
from services.notification.models import CHANNELS, ChannelPreference, Delivery, InboxMessage
from services.notification.webhooks import WebhookPolicy, load_policy

log = logging.getLogger(__name__)

#: most deliveries one transaction claims (and sends while it holds them)
BATCH = 50
#: most batches one sweep takes; the rest waits for the next tick
MAX_BATCHES = 10
#: longest wait between two attempts
MAX_BACKOFF_SECONDS = 300.0
#: seconds an SMTP or webhook call may take
SEND_TIMEOUT_SECONDS = 10.0

SessionFactory = Callable[[], AbstractContextManager[Session]]


class SendFailed(Exception):
    """The channel did not take the message."""


@dataclass(frozen=True)
class DeliverySettings:
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_from: str = "gridsvc@localhost"
    sweep_seconds: float = 1.0  # email within 2 s of the event needs a 1 s sweep
    retry_base_seconds: float = 2.0
    max_attempts: int = 6
    webhooks: WebhookPolicy = field(default_factory=WebhookPolicy)


def load_delivery_settings(environ: Mapping[str, str] | None = None) -> DeliverySettings:
    """``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_FROM``, ``DELIVERY_SWEEP_SECONDS``,
    ``DELIVERY_RETRY_BASE_SECONDS``, ``DELIVERY_MAX_ATTEMPTS``."""
    env = dict(os.environ if environ is None else environ)
    defaults = DeliverySettings()

    def get(name: str, default: object) -> str:
        return env.get(name, "").strip() or str(default)

    try:
        port = int(get("SMTP_PORT", defaults.smtp_port))
        attempts = int(get("DELIVERY_MAX_ATTEMPTS", defaults.max_attempts))
    except ValueError as exc:
        raise ConfigurationError(f"invalid setting: {exc}") from exc
    if attempts < 1:
        raise ConfigurationError("DELIVERY_MAX_ATTEMPTS must be at least 1")
    return DeliverySettings(
        smtp_host=get("SMTP_HOST", defaults.smtp_host),
        smtp_port=port,
        smtp_from=get("SMTP_FROM", defaults.smtp_from),
        sweep_seconds=seconds_from_env("DELIVERY_SWEEP_SECONDS", defaults.sweep_seconds, env),
        retry_base_seconds=seconds_from_env(
            "DELIVERY_RETRY_BASE_SECONDS", defaults.retry_base_seconds, env),
        max_attempts=attempts,
        webhooks=load_policy(env),
    )


def backoff_seconds(attempts: int, base: float, cap: float = MAX_BACKOFF_SECONDS) -> float:
    """Wait after the ``attempts``-th failed attempt: base, 2·base, 4·base, … up to ``cap``."""
    return min(base * 2 ** max(attempts - 1, 0), cap)


# --------------------------------------------------------------------------- preferences


def preferences(session: Session, recipient: str) -> list[ChannelPreference]:
    return list(session.execute(
        select(ChannelPreference).where(ChannelPreference.recipient == recipient)
        .order_by(ChannelPreference.channel)
    ).scalars())


def set_preferences(session: Session, recipient: str, channels: list[dict[str, Any]]
                    ) -> list[ChannelPreference]:
    """Replace the recipient's preferences with ``channels`` (validated, one per channel)."""
    named = [c["channel"] for c in channels]
    session.execute(delete(ChannelPreference).where(
        ChannelPreference.recipient == recipient, ChannelPreference.channel.not_in(named)))
    for item in channels:
        stmt = insert(ChannelPreference).values(
            recipient=recipient, channel=item["channel"], address=item["address"],
            enabled=item["enabled"])
        session.execute(stmt.on_conflict_do_update(
            index_elements=["recipient", "channel"],
            set_={"address": stmt.excluded.address, "enabled": stmt.excluded.enabled,
                  "updated_at": func.now()}))
    session.expire_all()
    return preferences(session, recipient)


# --------------------------------------------------------------------------- queueing


def queued_for(messages: CTE) -> CTE:
    """An INSERT … SELECT, as a CTE to run in the statement that made ``messages`` (a CTE of
    new inbox messages' ``id`` and ``recipient``): one delivery per enabled preference of
    each message's recipient."""
    return (
        insert(Delivery)
        .from_select(
            ["id", "message_id", "channel", "recipient", "address"],
            select(func.gen_random_uuid(), messages.c.id, ChannelPreference.channel,
                   messages.c.recipient, ChannelPreference.address)
            .join(ChannelPreference, ChannelPreference.recipient == messages.c.recipient)
            .where(ChannelPreference.enabled.is_(True)))
        .on_conflict_do_nothing(constraint="uq_delivery_message_channel")
        .cte("queued")
    )


def queue_for_event(session: Session, event_id: str) -> int:
    """One delivery per enabled preference of every recipient of the event's messages, in one
    statement (for messages put in many inboxes at once); how many were queued."""
    result = session.execute(
        insert(Delivery)
        .from_select(
            ["id", "message_id", "channel", "recipient", "address"],
            select(func.gen_random_uuid(), InboxMessage.id, ChannelPreference.channel,
                   InboxMessage.recipient, ChannelPreference.address)
            .join(ChannelPreference, ChannelPreference.recipient == InboxMessage.recipient)
            .where(InboxMessage.event_id == event_id, ChannelPreference.enabled.is_(True)))
        .on_conflict_do_nothing(constraint="uq_delivery_message_channel")
        .returning(Delivery.id)
    )
    return len(result.all())


# --------------------------------------------------------------------------- sending


def _mail(settings: DeliverySettings, delivery: Delivery, message: InboxMessage) -> None:
    mail = EmailMessage()
    mail["Subject"] = message.title
    mail["From"] = settings.smtp_from
    mail["To"] = delivery.address
    mail["Message-ID"] = f"<{delivery.id}@gridsvc>"
    mail["X-Gridsvc-Message"] = message.id
    mail["X-Gridsvc-Kind"] = message.kind
    mail.set_content(message.body + (f"\n\n{message.link}" if message.link else "") + "\n")
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port,
                          timeout=SEND_TIMEOUT_SECONDS) as smtp:
            smtp.send_message(mail)
    except (OSError, smtplib.SMTPException) as exc:
        raise SendFailed(f"smtp: {exc!r}") from exc


def wecom_payload(message: InboxMessage) -> dict[str, Any]:
    """The WeCom group-robot markdown message."""
    content = f"**{message.title}**\n{message.body}"
    if message.link:
        content += f"\n> {message.link}"
    return {"msgtype": "markdown", "markdown": {"content": content}}


def _wecom(settings: DeliverySettings, delivery: Delivery, message: InboxMessage,
           resolve: webhooks.Resolver = webhooks.system_resolver) -> None:
    """POST the markdown message: the webhook checked again now (https, an allowed host,
    every address public: against DNS rebinding), sent to the address checked, no redirect
    followed, only an excerpt of the answer kept (services/notification/webhooks.py)."""
    body = json.dumps(wecom_payload(message)).encode()
    headers = {"Content-Type": "application/json", "X-Gridsvc-Message": message.id}
    try:
        status, raw = webhooks.post(delivery.address, body, headers, settings.webhooks,
                                    SEND_TIMEOUT_SECONDS, resolve)
    except InvalidValue as exc:
        raise SendFailed(f"wecom: refused: {exc}") from exc
    except (OSError, ValueError, http.client.HTTPException) as exc:
        raise SendFailed(f"wecom: {webhooks.excerpt(repr(exc))}") from exc
    if not 200 <= status < 300:
        why = " (redirects are not followed)" if 300 <= status < 400 else ""
        raise SendFailed(f"wecom: HTTP {status}{why}: {webhooks.excerpt(raw)}")
    try:
        answer = json.loads(raw) if raw.strip() else {}
    except ValueError as exc:
        raise SendFailed(f"wecom: the answer is not JSON: {webhooks.excerpt(raw)}") from exc
    errcode = answer.get("errcode", 0) if isinstance(answer, dict) else None
    if errcode != 0:
        raise SendFailed(f"wecom: errcode {errcode}: "
                         f"{webhooks.excerpt(str(answer.get('errmsg', '')))}"
                         if isinstance(answer, dict) else "wecom: unexpected answer")


Sender = Callable[[Delivery, InboxMessage], None]


def senders(settings: DeliverySettings) -> dict[str, Sender]:
    return {"email": lambda d, m: _mail(settings, d, m),
            "wecom": lambda d, m: _wecom(settings, d, m)}


# --------------------------------------------------------------------------- the sweep


@dataclass
class Outcomes:
    """What a sweep did (committed batches only)."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (channel, outcome)
    latencies: list[tuple[str, float]] = field(default_factory=list)  # (channel, seconds)

    def as_dict(self) -> dict[str, Any]:
        return {f"{channel}.{outcome}": n for (channel, outcome), n in sorted(self.counts.items())}


def claim(session: Session, now: datetime, limit: int = BATCH
          ) -> list[tuple[Delivery, InboxMessage]]:
    """Lock up to ``limit`` due deliveries no other sweep holds, oldest due first."""
    return [tuple(row) for row in session.execute(  # type: ignore[misc]
        select(Delivery, InboxMessage)
        .join(InboxMessage, InboxMessage.id == Delivery.message_id)
        .where(Delivery.state.in_(("queued", "failed")), Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at)
        .limit(limit)
        .with_for_update(of=Delivery, skip_locked=True)
    ).all()]


def attempt(session: Session, delivery: Delivery, message: InboxMessage,
            send: Sender | None, settings: DeliverySettings, out: Outcomes) -> None:
    """Send one claimed delivery and record the outcome on its row."""
    now = datetime.now(UTC)
    attempts = delivery.attempts + 1
    try:
        if send is None:
            raise SendFailed(f"no sender for channel {delivery.channel}")
        send(delivery, message)
    except Exception as exc:  # a sender bug must not stop the batch
        error = str(exc)[:1000] or repr(exc)
        if attempts >= settings.max_attempts:
            state, due = "dead", delivery.next_attempt_at
        else:
            state = "failed"
            due = now + timedelta(seconds=backoff_seconds(attempts, settings.retry_base_seconds))
        log.warning("delivery %s (%s to %s) attempt %d: %s", delivery.id, delivery.channel,
                    delivery.recipient, attempts, error)
        session.execute(update(Delivery).where(Delivery.id == delivery.id).values(
            state=state, attempts=attempts, last_error=error, next_attempt_at=due))
        out.counts[(delivery.channel, state)] += 1
        return
    session.execute(update(Delivery).where(Delivery.id == delivery.id).values(
        state="sent", attempts=attempts, sent_at=now))
    out.counts[(delivery.channel, "sent")] += 1
    out.latencies.append((delivery.channel, (now - message.created_at).total_seconds()))


def run_once(session_factory: SessionFactory, settings: DeliverySettings,
             channel_senders: Mapping[str, Sender], *, batch: int = BATCH,
             max_batches: int = MAX_BATCHES) -> Outcomes:
    """Send every due delivery (up to ``batch * max_batches``), one transaction per batch."""
    total = Outcomes()
    for _ in range(max_batches):
        out = Outcomes()
        with session_factory() as session:
            claimed = claim(session, datetime.now(UTC), batch)
            for delivery, message in claimed:
                attempt(session, delivery, message, channel_senders.get(delivery.channel),
                        settings, out)
        total.counts.update(out.counts)
        total.latencies.extend(out.latencies)
        if len(claimed) < batch:
            break
    return total


def backlog(session: Session, states: tuple[str, ...] = ("queued", "failed")) -> dict[str, int]:
    """Deliveries in ``states`` (by default those still to send), by channel; every channel
    listed."""
    counts = dict.fromkeys(CHANNELS, 0)
    for channel, n in session.execute(
        select(Delivery.channel, func.count()).where(Delivery.state.in_(states))
        .group_by(Delivery.channel)
    ).all():
        counts[channel] = n
    return counts


# --------------------------------------------------------------------------- admin


def page(session: Session, query: dict[str, Any]) -> dict[str, Any]:
    base = select(Delivery)
    if query.get("state"):
        base = base.where(Delivery.state == query["state"])
    if query.get("channel"):
        base = base.where(Delivery.channel == query["channel"])
    return paginate(session, base, query, order_by=[Delivery.created_at.desc(), Delivery.id],
                    scalars=True).as_dict()


def retry(session: Session, delivery_id: str) -> Delivery:
    """A dead delivery back to ``queued`` with its attempts reset (409 if it is not dead)."""
    try:
        uuid.UUID(delivery_id)
    except ValueError as exc:
        raise NotFound("no such delivery", code="delivery.not_found") from exc
    delivery = session.execute(
        select(Delivery).where(Delivery.id == delivery_id).with_for_update()).scalar_one_or_none()
    if delivery is None:
        raise NotFound("no such delivery", code="delivery.not_found")
    if delivery.state != "dead":
        raise Conflict("only a delivery given up can be retried; this one is {state}",
                       code="delivery.not_retryable",
                       params={"state": label("delivery_state", delivery.state)})
    session.execute(update(Delivery).where(Delivery.id == delivery_id).values(
        state="queued", attempts=0, next_attempt_at=func.now()))
    session.refresh(delivery)
    return delivery
