"""``kill -9`` of each process of the platform in turn (ticketing, enterprise, notification,
supplydemand, the gateway) while demands are submitted by clients that retry with their
Idempotency-Key: every demand the gateway acknowledged exists exactly once afterwards, with one
``demand_received`` event, and reaches the enterprise's inbox exactly once.

300 demands under ``make test``, 1,000 under ``make chaos`` (see :mod:`fault_load`).
"""

from __future__ import annotations

import signal
import time
import uuid

import pytest
from fault_load import (
    DemandLoad,
    assert_each_acknowledged_demand_exactly_once,
    assert_each_delivered_exactly_once,
    scaled,
)
from helpers import new_enterprise_id

from common.auth import Role

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(int(scaled(240, 600)))]

TOTAL = int(scaled(300, 1000))
VICTIMS = ("ticketing", "enterprise", "notification", "supplydemand", "gateway")


def test_kill_9_of_each_process_in_turn_loses_and_duplicates_nothing(
        healthy_platform, token, db):
    ent = new_enterprise_id()
    tok = token(Role.ENTERPRISE, enterprise_id=ent, user_id=f"crash-{uuid.uuid4().hex[:6]}")
    done_at_kill: dict[str, int] = {}
    started = time.monotonic()
    # paced so that the load outlasts the five kills; each victim is started again at once
    # (not waited for: a service restart takes seconds, during which the load goes on)
    with DemandLoad(healthy_platform.gateway_url(), tok, TOTAL, rate=scaled(10, 25),
                    budget=scaled(180, 480)) as load:
        for i, victim in enumerate(VICTIMS):
            load.wait_for(TOTAL * (i + 1) // (len(VICTIMS) + 1))
            done_at_kill[victim] = load.done
            healthy_platform.kill(victim, signal.SIGKILL)  # mid-stream, no goodbye
            time.sleep(0.5)
            healthy_platform.procs.pop(victim)
            if victim == "gateway":
                healthy_platform.start_gateway()
            else:
                healthy_platform.start_service(victim)
        healthy_platform.wait_ready(timeout=60)
    elapsed = time.monotonic() - started
    print(f"\n{TOTAL} demands with {len(VICTIMS)} kill -9s in {elapsed:.1f}s; "
          f"acknowledged before each kill {done_at_kill}; answers {dict(load.statuses())}")

    for victim, done in done_at_kill.items():
        assert 0 < done < TOTAL, f"the kill of {victim} did not land mid-stream"
    assert_each_acknowledged_demand_exactly_once(load, db)
    assert_each_delivered_exactly_once(load, db)
