"""Demand submissions coalesced into batched calls (``ticketing.submit_demands``).

A submission that arrives while fewer than ``max_in_flight`` batches are out goes at once, on
its own: at a low rate nothing waits. Those that arrive while they are all out queue up, and go
together in the next batch as soon as one comes back. Under load the ticketing service then
does one nameko round trip, one registry call and one commit for many demands instead of one
each (``make bench``, scenario 1: the gateway's edge over a per-request gateway).

Each item carries its caller's token, and the answers come back item by item, in nameko's
reply shape, so a submission gets exactly what a ``submit_demand`` call would have given it
(its own 4xx, or the demand).

A submission is never sent once nobody waits for it (issue 22, finding 5: with ticketing
down 40 s and clients giving up after 1 s, 862 of 1,248 abandoned requests became demands
nobody was told about): one whose client disconnected (its handler cancelled) or whose
deadline passed (``RPC_TIMEOUT_SECONDS``: its caller has been answered 504 by then) is taken
out of the queue before a batch is made. A queue longer than ``max_queue`` is answered at
once with 503 and Retry-After (:class:`QueueFull`) instead of growing. Clients retry with their
``Idempotency-Key``, which makes a submission that did go through count once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from prometheus_client import Histogram

from gateway.rpc import RemoteError, RpcError

log = logging.getLogger(__name__)

BATCH_SIZE = Histogram(
    "gridsvc_gateway_submission_batch_size",
    "Demand submissions carried by one ticketing.submit_demands call",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)

#: the most submissions in one call (as many as ticketing takes)
MAX_BATCH = 64
#: batches out at once: one per ticketing replica of the smallest deployment. Fewer, larger
#: batches cost less per demand: 4 in flight gave 327 demands/s, 2 gave 440/s and 1 442/s
#: (``make bench``, 64 clients, 2 cores), and 1 would leave everything waiting on a slow call
MAX_IN_FLIGHT = 2
#: after ticketing answered that it has no ``submit_demands`` (an older version during a
#: rollout), submissions go one by one for this long, then batches are tried again
UNBATCHED_SECONDS = 60.0
#: submissions waiting for a batch beyond which new ones are refused at once (503)
MAX_QUEUE = 512
#: seconds a submission may wait in the queue before it is dropped unsent
QUEUE_DEADLINE_SECONDS = 10.0


class QueueFull(Exception):
    """The submission queue is at its bound: answer 503 with Retry-After now."""


class Abandoned(Exception):
    """Dropped unsent: its deadline passed while it waited."""


class SubmissionBatcher:
    """``await batcher.submit(token, call_id, payload, idempotency_key)`` gives what
    ``ticketing.submit_demand`` would give, or raises what a call of it would raise."""

    def __init__(self, rpc: Any, max_batch: int = MAX_BATCH,
                 max_in_flight: int = MAX_IN_FLIGHT,
                 unbatched_seconds: float = UNBATCHED_SECONDS, max_queue: int = MAX_QUEUE,
                 deadline_seconds: float = QUEUE_DEADLINE_SECONDS) -> None:
        self._rpc = rpc
        self.max_queue = max_queue
        self.deadline_seconds = deadline_seconds
        #: submissions dropped unsent (abandoned or past their deadline), for tests and logs
        self.dropped = 0
        self.max_batch = max_batch
        self.max_in_flight = max_in_flight
        self._queue: list[tuple[dict[str, Any], asyncio.Future[dict[str, Any]]]] = []
        self._deadlines: dict[int, float] = {}
        self._in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.unbatched_seconds = unbatched_seconds
        #: until when to submit one by one (ticketing had no ``submit_demands``)
        self._unbatched_until = float("-inf")

    async def submit(self, token: str | None, call_id: str, payload: Any,
                     idempotency_key: str | None) -> Any:
        item = {"token": token, "payload": payload, "idempotency_key": idempotency_key,
                "call_id": call_id}
        if time.monotonic() < self._unbatched_until:
            return await self._submit_one(item)
        if len(self._queue) >= self.max_queue:
            raise QueueFull
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieve)
        self._queue.append((item, future))
        self._deadlines[id(future)] = time.monotonic() + self.deadline_seconds
        self._dispatch()
        try:
            # shielded: a caller that goes away does not cancel the others' batch
            reply = await asyncio.shield(future)
        except asyncio.CancelledError:
            future.cancel()  # not sent yet: it never will be (_dispatch drops it)
            raise
        if reply.get("error"):
            raise RemoteError.from_payload(reply["error"])
        return reply.get("result")

    def _drop_unwanted(self) -> None:
        """Take out of the queue what nobody waits for: cancelled (the client went away) or
        past its deadline (its caller has been answered already)."""
        now = time.monotonic()
        kept = []
        for item, future in self._queue:
            deadline = self._deadlines.get(id(future), float("inf"))
            if future.done() or now >= deadline:
                if not future.done():
                    future.set_exception(Abandoned())
                self._deadlines.pop(id(future), None)
                self.dropped += 1
                continue
            kept.append((item, future))
        if len(kept) != len(self._queue):
            log.info("dropped %d submissions nobody waits for", len(self._queue) - len(kept))
            self._queue[:] = kept

    def _dispatch(self) -> None:
        self._drop_unwanted()
        while self._queue and self._in_flight < self.max_in_flight:
            batch = self._queue[:self.max_batch]
            del self._queue[:self.max_batch]
            for _, future in batch:
                self._deadlines.pop(id(future), None)
            self._in_flight += 1
            task = asyncio.create_task(self._send(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: list[tuple[dict[str, Any], asyncio.Future[dict[str, Any]]]]
                    ) -> None:
        BATCH_SIZE.observe(len(batch))
        try:
            replies = await self._rpc.call(
                "ticketing", "submit_demands", [item for item, _ in batch],
                context={"call_id_stack": [batch[0][0]["call_id"]]},
            )
            if not isinstance(replies, list) or len(replies) != len(batch):
                raise RpcError("ticketing.submit_demands answered a batch of another size")
            for (_, future), reply in zip(batch, replies, strict=True):
                if not future.done():
                    future.set_result(reply)
        except RemoteError as exc:
            if exc.exc_type != "MethodNotFound":
                self._fail(batch, exc)
                return
            log.warning("ticketing has no submit_demands: submitting one by one for %.0f s",
                        self.unbatched_seconds)
            self._unbatched_until = time.monotonic() + self.unbatched_seconds
            for item, future in batch:
                try:
                    reply = await self._reply_of_one(item)
                except Exception as one:  # noqa: BLE001
                    if not future.done():
                        future.set_exception(one)
                    continue
                if not future.done():
                    future.set_result(reply)
        except Exception as exc:  # noqa: BLE001 -- every waiting caller gets the failure
            self._fail(batch, exc)
        finally:
            self._in_flight -= 1
            self._dispatch()

    @staticmethod
    def _fail(batch: list[tuple[dict[str, Any], asyncio.Future[dict[str, Any]]]],
              exc: BaseException) -> None:
        for _, future in batch:
            if not future.done():
                future.set_exception(exc)

    async def _submit_one(self, item: dict[str, Any]) -> Any:
        context: dict[str, Any] = {"call_id_stack": [item["call_id"]]}
        if item["token"]:
            context["auth_token"] = item["token"]
        return await self._rpc.call("ticketing", "submit_demand", item["payload"],
                                    item["idempotency_key"], context=context)

    async def _reply_of_one(self, item: dict[str, Any]) -> dict[str, Any]:
        try:
            return {"result": await self._submit_one(item), "error": None}
        except RemoteError as exc:
            return {"result": None, "error": {"exc_type": exc.exc_type,
                                              "exc_path": exc.exc_path,
                                              "exc_args": exc.exc_args, "value": exc.value}}


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark a failure as seen: its caller may have gone away (asyncio would log it)."""
    if not future.cancelled():
        future.exception()
