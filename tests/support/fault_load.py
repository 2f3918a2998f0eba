"""Load for the fault tests: clients that submit demands and retry with their Idempotency-Key,
and the checks that every acknowledged demand exists exactly once afterwards.

Scale: ``make test`` runs the fault tests small (a few hundred demands, short outages);
``make chaos`` sets ``CHAOS=full`` and runs the same tests at the issue's scale (1,000 demands,
a one-minute notification outage). :func:`scaled` picks the number.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx
from helpers import bearer, demand_body
from sqlalchemy import text
from sqlalchemy.engine import Engine

FULL = os.environ.get("CHAOS", "").strip().lower() in {"1", "full", "true", "yes"}


def scaled(quick: float, full: float) -> float:
    """``full`` under ``make chaos`` (``CHAOS=full``), else ``quick``."""
    return full if FULL else quick


@dataclass
class Answer:
    at: float  # time.monotonic() when the answer (or the error) came
    status: int  # HTTP status, 0 for a transport error (refused, reset, timed out)
    seconds: float  # how long the request took


@dataclass
class DemandLoad:
    """``total`` demands submitted by ``clients`` concurrent clients, in a thread of its own.

    Each client submits its demands one after another; a 5xx answer or a transport error is
    retried with the same body and the same Idempotency-Key (after a short pause) until the
    gateway acknowledges it with 201 or 200. ``rate`` paces new submissions, so that the load
    lasts long enough for the faults a test injects. The load stops by itself after ``budget``
    seconds.
    """

    base_url: str
    token: str
    total: int
    clients: int = 12
    budget: float = 240.0
    request_timeout: float = 5.0
    rate: float | None = None  # new demands per second at most (retries do not count)
    #: the last ``held_back`` demands wait for :meth:`release`, so that some are certainly
    #: submitted after the fault is over, however slowly a busy machine brings a process back
    held_back: int = 0
    marker: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    keys: list[str] = field(init=False)
    acknowledged: dict[str, str] = field(default_factory=dict)  # key -> demand id
    answers: list[Answer] = field(default_factory=list)
    refused: list[tuple[str, int, str]] = field(default_factory=list)  # unexpected 4xx
    _thread: threading.Thread | None = None
    _error: BaseException | None = None
    _stopped: bool = False
    _released: bool = False

    def __post_init__(self) -> None:
        self.keys = [f"fault-{self.marker}-{i:05d}" for i in range(self.total)]

    def body(self, key: str) -> dict[str, object]:
        return demand_body(title=f"故障测试诉求 {key}")

    # ------------------------------------------------------------------ running

    def start(self) -> DemandLoad:
        self._thread = threading.Thread(target=self._run, name="demand-load", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by wait()
            self._error = exc

    async def _main(self) -> None:
        deadline = time.monotonic() + self.budget
        pending = list(reversed(self.keys))
        next_slot = time.monotonic()
        limits = httpx.Limits(max_connections=self.clients, max_keepalive_connections=self.clients)
        async with httpx.AsyncClient(base_url=self.base_url, timeout=self.request_timeout,
                                     limits=limits) as client:

            async def worker() -> None:
                nonlocal next_slot
                while pending and time.monotonic() < deadline and not self._stopped:
                    if len(pending) <= self.held_back and not self._released:
                        await asyncio.sleep(0.05)
                        continue
                    if self.rate:
                        slot = max(time.monotonic(), next_slot)
                        next_slot = slot + 1 / self.rate
                        await asyncio.sleep(slot - time.monotonic())
                    if pending:
                        await self._submit(client, pending.pop(), deadline)

            await asyncio.gather(*(worker() for _ in range(self.clients)))

    async def _submit(self, client: httpx.AsyncClient, key: str, deadline: float) -> None:
        headers = bearer(self.token) | {"Idempotency-Key": key}
        pause = 0.1
        while time.monotonic() < deadline and not self._stopped:
            began = time.monotonic()
            try:
                answer = await client.post("/api/v1/demands", json=self.body(key),
                                           headers=headers)
                status = answer.status_code
            except httpx.TransportError:
                answer, status = None, 0
            now = time.monotonic()
            self.answers.append(Answer(now, status, now - began))
            if answer is not None and status in (200, 201):
                self.acknowledged[key] = answer.json()["id"]
                return
            if answer is not None and status < 500:
                self.refused.append((key, status, answer.text[:300]))
                return
            await asyncio.sleep(pause)
            pause = min(pause * 2, 1.0)

    # ------------------------------------------------------------------ observing

    @property
    def done(self) -> int:
        return len(self.acknowledged)

    def wait_for(self, count: int, timeout: float = 120) -> None:
        """Block until ``count`` demands are acknowledged (or the load ended)."""
        deadline = time.monotonic() + timeout
        while self.done < count and self.running and time.monotonic() < deadline:
            time.sleep(0.05)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> DemandLoad:
        return self.start()

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        """On an error in the ``with`` block the clients give up; either way, wait for them."""
        if exc_type is not None:
            self.stop()
        self.join()

    def release(self) -> None:
        """Let the held-back demands go (the fault is over)."""
        self._released = True

    def stop(self) -> None:
        """Give up: the clients stop after their current request."""
        self._stopped = True

    def join(self, timeout: float | None = None) -> None:
        assert self._thread is not None
        self._thread.join(timeout if timeout is not None else self.budget + 30)
        if self._error is not None:
            raise self._error
        assert not self._thread.is_alive(), "the load did not stop by itself"

    def answers_between(self, start: float, end: float) -> list[Answer]:
        return [a for a in list(self.answers) if start <= a.at <= end]

    def statuses(self) -> Counter[int]:
        return Counter(a.status for a in list(self.answers))


# ---------------------------------------------------------------------- the checks


def assert_each_acknowledged_demand_exactly_once(load: DemandLoad, db: Engine) -> None:
    """Every client got its acknowledgement, and each acknowledged demand is stored once:
    one row per key, with the id the client was given, and one ``demand_received`` event."""
    assert not load.refused, f"unexpected refusals: {load.refused[:5]}"
    missing = [k for k in load.keys if k not in load.acknowledged]
    assert not missing, f"{len(missing)} demands never acknowledged, e.g. {missing[:3]}"
    with db.connect() as conn:
        rows = conn.execute(text(
            "SELECT idempotency_key, id::text FROM ticketing.demands "
            "WHERE idempotency_key LIKE :p"), {"p": f"fault-{load.marker}-%"}).all()
        events = conn.execute(text(
            "SELECT payload->'data'->>'demand_id', count(*) FROM ticketing.outbox "
            "WHERE event_type = 'demand_received' AND payload->'data'->>'demand_id' = ANY(:ids) "
            "GROUP BY 1"), {"ids": list(load.acknowledged.values())}).all()
    stored: dict[str, list[str]] = {}
    for key, demand_id in rows:
        stored.setdefault(key, []).append(demand_id)
    duplicated = {k: v for k, v in stored.items() if len(v) > 1}
    assert not duplicated, f"{len(duplicated)} keys stored twice, e.g. {list(duplicated)[:3]}"
    wrong = [k for k in load.keys if stored.get(k) != [load.acknowledged[k]]]
    assert not wrong, f"{len(wrong)} acknowledged demands lost or different, e.g. {wrong[:3]}"
    assert len(rows) == load.total
    per_demand = dict(events)
    ids = set(load.acknowledged.values())
    assert set(per_demand) == ids, "a demand without its demand_received event"
    assert set(per_demand.values()) == {1}, "a demand_received event recorded twice"


def inbox_counts(load: DemandLoad, db: Engine) -> Counter[str]:
    """How many ``demand_received`` inbox messages each acknowledged demand has."""
    links = {f"/demands/{demand_id}": demand_id for demand_id in load.acknowledged.values()}
    with db.connect() as conn:
        rows = conn.execute(text(
            "SELECT link, count(*) FROM notification.inbox_messages "
            "WHERE kind = 'demand_received' AND link = ANY(:links) GROUP BY link"),
            {"links": list(links)}).all()
    return Counter({links[link]: n for link, n in rows})


def assert_each_delivered_exactly_once(load: DemandLoad, db: Engine,
                                       timeout: float = 60) -> None:
    """Every acknowledged demand's ``demand_received`` reaches the enterprise's inbox, once
    (waiting up to ``timeout`` for stragglers; then a little longer for duplicates)."""
    ids = set(load.acknowledged.values())
    deadline = time.monotonic() + timeout
    counts = inbox_counts(load, db)
    while set(counts) != ids and time.monotonic() < deadline:
        time.sleep(0.5)
        counts = inbox_counts(load, db)
    missing = ids - set(counts)
    assert not missing, f"{len(missing)} demands never reached the inbox, e.g. {list(missing)[:3]}"
    time.sleep(1.5)  # a late redelivery or relay retry would show by now
    counts = inbox_counts(load, db)
    twice = {k: n for k, n in counts.items() if n != 1}
    assert not twice, f"{len(twice)} demands in the inbox more than once: {list(twice.items())[:3]}"
