"""Notification's metrics: deliveries on the other channels, their backlog, and policy reach.

The delivery sweep (:func:`record_sweep`) adds what it sent and reads the backlog per channel;
publishing and reading a policy count its reach and first reads. Labels are bounded: channels
(:data:`services.notification.delivery.CHANNELS`), outcomes and policy kinds.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy.orm import Session

from services.notification import delivery

SENT = Counter(
    "gridsvc_notifications_sent_total",
    "Delivery attempts on channels besides the inbox, by outcome (sent, failed, dead)",
    ["channel", "outcome"],
)
DELIVERY_SECONDS = Histogram(
    "gridsvc_notification_delivery_seconds",
    "Time from an inbox message's creation to its delivery on a channel",
    ["channel"],
    buckets=(0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
)
BACKLOG = Gauge(
    "gridsvc_notification_retry_backlog",
    "Deliveries still to send (queued or failed), by channel",
    ["channel"],
)
for _channel in delivery.CHANNELS:  # every series from the start: a first failure is counted
    for _outcome in ("sent", "failed", "dead"):
        SENT.labels(_channel, _outcome)
DEAD = Gauge(
    "gridsvc_notification_dead_deliveries",
    "Deliveries that failed every attempt and wait for an admin's retry, by channel",
    ["channel"],
)
SWEEP_FAILURES = Counter(
    "gridsvc_notification_delivery_sweep_failures_total",
    "Delivery sweeps that failed (retried on the next tick)",
)

PUBLISHED = Counter(
    "gridsvc_policies_published_total", "Policies and notices published (政策发布), by kind",
    ["kind"],
)
REACHED = Counter(
    "gridsvc_policy_messages_total",
    "Inbox messages put in enterprises' inboxes by policy publishing (reach), by kind",
    ["kind"],
)
READS = Counter(
    "gridsvc_policy_reads_total",
    "First reads of a policy by an enterprise (已读回执), by kind", ["kind"],
)


def record_sweep(outcomes: delivery.Outcomes) -> None:
    """Add a delivery sweep's outcomes."""
    for (channel, outcome), n in outcomes.counts.items():
        SENT.labels(channel, outcome).inc(n)
    for channel, seconds in outcomes.latencies:
        DELIVERY_SECONDS.labels(channel).observe(max(seconds, 0.0))


def record_backlog(session: Session) -> None:
    """Set each channel's deliveries still to send and its dead ones."""
    for channel, n in delivery.backlog(session).items():
        BACKLOG.labels(channel).set(n)
    for channel, n in delivery.backlog(session, ("dead",)).items():
        DEAD.labels(channel).set(n)
