"""Load generators of the benchmarks, asyncio only (no eventlet in this process).

- :func:`closed_loop`: ``concurrency`` workers, each sending its next request as soon as the
  last one is answered, for ``duration`` seconds after ``warmup`` seconds not counted.
- :func:`open_loop`: requests started at a fixed rate whatever the answers (no coordinated
  omission: a request's latency counts from when it was due to start).

Both return a :class:`Sample`: per-request latencies and outcomes. :class:`HttpClient` is the
HTTP/1.1 client they drive: a few lines of asyncio streams, so that the load generator, which
shares the machine with what it measures, spends a fraction of a millisecond of CPU per
request (httpx spends about 4 ms, and its connection pool slows down quadratically with the
requests queued for a connection, which an open loop at a rate above capacity does).
"""

from __future__ import annotations

import asyncio
import math
import time
import urllib.parse
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

#: one request: given its sequence number, returns an outcome label ("201", "error:...")
Request = Callable[[int], Awaitable[str]]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in 0..100) of ``values``; NaN if empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Sample:
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # of successful requests
    #: of failed ones, until they failed (an unanswered one: until the run gave up on it)
    failed_latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    ok: set[str] = field(default_factory=set)  # outcome labels that count as success
    late_starts: int = 0  # open loop: requests started over 10 ms after they were due
    answered: int = 0  # every request answered, warm-up included (for CPU per request)
    answered_ok: int = 0  # the successful ones among them

    @property
    def succeeded(self) -> int:
        return sum(n for k, n in self.outcomes.items() if k in self.ok)

    @property
    def failed(self) -> int:
        return sum(self.outcomes.values()) - self.succeeded

    def figures(self) -> dict[str, Any]:
        """Percentiles over every counted request, a failed one at the time it failed (so
        failures cannot make the figures look better); ``ok_p99_ms`` over the successful."""
        ok = [v * 1000 for v in self.latencies]
        ms = ok + [v * 1000 for v in self.failed_latencies]
        return {
            "seconds": self.seconds,
            "requests": sum(self.outcomes.values()),
            "succeeded": self.succeeded,
            "failed": self.failed,
            "outcomes": dict(self.outcomes),
            "throughput_per_second": self.succeeded / self.seconds if self.seconds else 0.0,
            "p50_ms": percentile(ms, 50),
            "p90_ms": percentile(ms, 90),
            "p99_ms": percentile(ms, 99),
            "max_ms": max(ms) if ms else math.nan,
            "mean_ms": sum(ms) / len(ms) if ms else math.nan,
            "ok_p99_ms": percentile(ok, 99),
        }


async def closed_loop(request: Request, concurrency: int, duration: float,
                      warmup: float = 1.0, ok: frozenset[str] = frozenset({"200", "201"})
                      ) -> Sample:
    """``concurrency`` workers back to back; the requests answered between the end of
    ``warmup`` and the end of ``duration`` are counted (throughput = answers / duration)."""
    sample = Sample(ok=set(ok))
    counter = iter(range(10**12))
    started = time.perf_counter()
    measure_from = started + warmup
    stop_at = measure_from + duration

    async def worker() -> None:
        while True:
            begun = time.perf_counter()
            if begun >= stop_at:
                return
            outcome = await request(next(counter))
            ended = time.perf_counter()
            sample.answered += 1
            sample.answered_ok += outcome in sample.ok
            if measure_from <= ended <= stop_at:
                sample.outcomes[outcome] += 1
                (sample.latencies if outcome in sample.ok else sample.failed_latencies
                 ).append(ended - begun)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    sample.seconds = duration
    return sample


async def open_loop(request: Request, rate: float, duration: float, warmup: float = 1.0,
                    ok: frozenset[str] = frozenset({"200"}), drain: float = 30.0) -> Sample:
    """``rate`` requests per second for ``warmup + duration`` seconds, each on its own task;
    latency from when each was due. Waits ``drain`` seconds at most for the last answers:
    the requests still unanswered then count as failed (``unanswered``), so a rate above
    what the platform sustains ends the run instead of queueing without end."""
    sample = Sample(ok=set(ok))
    started = time.perf_counter()
    total = int((warmup + duration) * rate)
    counted_from = int(warmup * rate)
    tasks = []
    dues = []

    async def one(i: int, due: float) -> None:
        if time.perf_counter() - due > 0.010:
            sample.late_starts += i >= counted_from
        outcome = await request(i)
        ended = time.perf_counter()
        sample.answered += 1
        sample.answered_ok += outcome in sample.ok
        if i >= counted_from:
            sample.outcomes[outcome] += 1
            (sample.latencies if outcome in sample.ok else sample.failed_latencies
             ).append(ended - due)

    for i in range(total):
        due = started + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
        dues.append(due)
    _, pending = await asyncio.wait(tasks, timeout=drain)
    gave_up = time.perf_counter()
    for i, task in enumerate(tasks):
        if task in pending:
            task.cancel()
            if i >= counted_from:
                sample.outcomes["unanswered"] += 1
                sample.failed_latencies.append(gave_up - dues[i])
    if pending:
        await asyncio.wait(pending)
    sample.seconds = duration
    return sample


def outcome_of(status: int) -> str:
    return str(status)


def error_outcome(exc: BaseException) -> str:
    return f"error:{type(exc).__name__}"


class HttpClient:
    """At most ``size`` keep-alive HTTP/1.1 connections to the host of ``base_url``, each
    carrying one request at a time; a request waits for a free connection (first come, first
    served). Enough HTTP for the gateways: Content-Length or chunked bodies."""

    def __init__(self, base_url: str, size: int) -> None:
        url = urllib.parse.urlsplit(base_url)
        self.host = url.hostname or "127.0.0.1"
        self.port = url.port or 80
        self.size = size
        self._idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = \
            asyncio.Queue()
        self._open = 0
        self._all: set[asyncio.StreamWriter] = set()

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._idle.empty() and self._open < self.size:
            self._open += 1
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except BaseException:
                self._open -= 1
                raise
            self._all.add(writer)
            return reader, writer
        return await self._idle.get()

    def _discard(self, writer: asyncio.StreamWriter) -> None:
        self._open -= 1
        self._all.discard(writer)
        writer.close()

    async def request(self, method: str, path: str, headers: dict[str, str] | None = None,
                      body: bytes = b"") -> tuple[int, bytes]:
        """(status, body) of one request."""
        reader, writer = await self._connection()
        try:
            lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                     f"Content-Length: {len(body)}"]
            lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            status = int(head[0].split(" ", 2)[1])
            fields = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                fields[name.strip().lower()] = value.strip()
            if "content-length" in fields:
                data = await reader.readexactly(int(fields["content-length"]))
            elif fields.get("transfer-encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    if size == 0:  # then trailers, up to an empty line
                        while await reader.readuntil(b"\r\n") != b"\r\n":
                            pass
                        break
                    chunks.append(await reader.readexactly(size))
                    await reader.readexactly(2)
                data = b"".join(chunks)
            else:  # the body runs until the server closes
                data = await reader.read()
                fields["connection"] = "close"
        except BaseException:
            self._discard(writer)
            raise
        if fields.get("connection", "").lower() == "close":
            self._discard(writer)
        else:
            self._idle.put_nowait((reader, writer))
        return status, data

    async def close(self) -> None:
        for writer in list(self._all):
            writer.close()
        self._all.clear()
        self._open = 0
