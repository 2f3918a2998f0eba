"""The gateway's submission queue drops what nobody waits for and refuses past its bound
(issue 22, finding 5: with ticketing down 40 s and clients giving up after 1 s, 862 of 1,248
abandoned requests became demands nobody was told about). A stand-in ticketing that holds
its batches until released."""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any

import pytest

from gateway.submissions import Abandoned, QueueFull, SubmissionBatcher


class HeldTicketing:
    """Answers every batch when ``release`` is set; records what it was sent."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.sent: list[str] = []

    async def call(self, service: str, method: str, items: list[dict[str, Any]],
                   **_: Any) -> list[dict[str, Any]]:
        self.sent += [item["idempotency_key"] for item in items]
        await self.release.wait()
        return [{"result": {"demand": {"id": i["idempotency_key"]}, "created": True},
                 "error": None} for i in items]


def run(coroutine: Any) -> Any:
    """In a thread of its own: the browser tests' Playwright leaves an event loop running in
    the main thread, where asyncio.run refuses to start another."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_a_submission_whose_client_went_away_is_never_sent():
    async def scenario() -> None:
        ticketing = HeldTicketing()
        batcher = SubmissionBatcher(ticketing, max_in_flight=1)
        first = asyncio.ensure_future(batcher.submit("t", "c", {}, "k-first"))
        await asyncio.sleep(0)  # sent at once: the one batch in flight
        waiting = [asyncio.ensure_future(batcher.submit("t", "c", {}, f"k{i}"))
                   for i in range(10)]
        await asyncio.sleep(0)
        for task in waiting[:7]:  # these clients give up (their handlers are cancelled)
            task.cancel()
        await asyncio.sleep(0)
        ticketing.release.set()
        await first
        kept = await asyncio.gather(*waiting[7:])
        assert [r["demand"]["id"] for r in kept] == ["k7", "k8", "k9"]
        assert ticketing.sent == ["k-first", "k7", "k8", "k9"]  # the abandoned never left
        assert batcher.dropped == 7

    run(scenario())


def test_a_submission_past_its_deadline_is_dropped_unsent():
    async def scenario() -> None:
        ticketing = HeldTicketing()
        batcher = SubmissionBatcher(ticketing, max_in_flight=1, deadline_seconds=0.05)
        first = asyncio.ensure_future(batcher.submit("t", "c", {}, "k-first"))
        await asyncio.sleep(0)
        late = asyncio.ensure_future(batcher.submit("t", "c", {}, "k-late"))
        await asyncio.sleep(0.1)  # ticketing is down longer than the deadline
        ticketing.release.set()
        await first
        with pytest.raises(Abandoned):
            await late
        assert ticketing.sent == ["k-first"]

    run(scenario())


def test_a_queue_at_its_bound_refuses_at_once():
    async def scenario() -> None:
        ticketing = HeldTicketing()
        batcher = SubmissionBatcher(ticketing, max_in_flight=1, max_queue=3)
        first = asyncio.ensure_future(batcher.submit("t", "c", {}, "k-first"))
        await asyncio.sleep(0)
        queued = [asyncio.ensure_future(batcher.submit("t", "c", {}, f"k{i}")) for i in range(3)]
        await asyncio.sleep(0)
        with pytest.raises(QueueFull):
            await batcher.submit("t", "c", {}, "k-over")
        ticketing.release.set()
        await first
        await asyncio.gather(*queued)
        assert "k-over" not in ticketing.sent

    run(scenario())
