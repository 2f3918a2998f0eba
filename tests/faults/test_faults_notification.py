"""The notification service down (``kill -9``) while events flow: the events wait in their
durable queue, and once the service is back every one is delivered, none twice.

Down for 10 s under ``make test``, for a minute under ``make chaos`` (the issue's figure).
"""

from __future__ import annotations

import signal
import time
import uuid

import kombu
import pytest
from conftest import TEST_ENV
from fault_load import (
    DemandLoad,
    assert_each_acknowledged_demand_exactly_once,
    assert_each_delivered_exactly_once,
    inbox_counts,
    scaled,
)
from helpers import eventually, new_enterprise_id

from common.auth import Role

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(int(scaled(240, 600)))]

DOWN_FOR = scaled(10, 60)
#: demands at 10 a second: a few before the outage, most during it, some after it
TOTAL = int(scaled(250, 800))
#: nameko's queue for ``@event_handler("ticketing", "demand_received")`` on notification
DEMAND_RECEIVED_QUEUE = "evt-ticketing-demand_received--notification.on_demand_received"


def queue_depth() -> tuple[int, int]:
    """(messages ready, consumers) of notification's demand_received queue."""
    with kombu.Connection(TEST_ENV["AMQP_URI"], connect_timeout=5) as conn:
        _name, messages, consumers = conn.default_channel.queue_declare(
            queue=DEMAND_RECEIVED_QUEUE, passive=True)
    return messages, consumers


def test_events_wait_for_notification_and_arrive_exactly_once(
        healthy_platform, token, db):
    ent = new_enterprise_id()
    tok = token(Role.ENTERPRISE, enterprise_id=ent, user_id=f"notif-{uuid.uuid4().hex[:6]}")
    observed: dict[str, object] = {}
    with DemandLoad(healthy_platform.gateway_url(), tok, TOTAL, rate=10,
                    budget=DOWN_FOR + 120, held_back=TOTAL // 10) as load:
        load.wait_for(20)
        healthy_platform.kill("notification", signal.SIGKILL)
        killed_at = load.done
        down_since = time.monotonic()
        assert eventually(lambda: queue_depth()[1] == 0, timeout=10), \
            "notification still consumes after its kill"
        # events keep coming and wait in the durable queue for the absent consumer
        assert eventually(lambda: queue_depth()[0] >= 20, timeout=30), queue_depth()
        time.sleep(max(0.0, DOWN_FOR - (time.monotonic() - down_since)))
        observed["queued"], _ = queue_depth()
        observed["delivered_while_down"] = sum(inbox_counts(load, db).values())
        observed["down"] = time.monotonic() - down_since
        healthy_platform.procs.pop("notification")
        healthy_platform.start_service("notification")
        healthy_platform.wait_ready(timeout=60)
        back_at = load.done
        load.release()
    print(f"\nnotification down {observed['down']:.0f}s while {TOTAL} demands were submitted "
          f"({killed_at} before, {back_at} by its return); {observed['queued']} events waited "
          f"in its queue, {observed['delivered_while_down']} reached the inbox meanwhile")

    assert killed_at < back_at < TOTAL, "the outage did not land mid-stream"
    assert_each_acknowledged_demand_exactly_once(load, db)
    assert_each_delivered_exactly_once(load, db)
    assert eventually(lambda: queue_depth() == (0, 1), timeout=10), queue_depth()
