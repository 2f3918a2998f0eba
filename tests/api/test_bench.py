"""``make bench``'s own parts at tiny scale: the load generators, /proc readings, the table,
and the submission benchmark (our gateway and the nameko-style reference gateway, one second
each, 4 clients) against the test platform, with its check that every demand answered 201 is
committed and its event published. Timings are printed by the benchmark, never asserted."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from conftest import AMQP_URI, DATABASE_URL, PORT_OFFSET, TEST_DB, TEST_VHOST

from bench import footprint, load, procstat, progress_reads, submission
from bench import platform as bp
from bench import run as bench_run

pytestmark = pytest.mark.timeout(120)


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert load.percentile(values, 50) == 50
    assert load.percentile(values, 99) == 99
    assert load.percentile([7.0], 99) == 7
    assert load.percentile([], 50) != load.percentile([], 50)  # NaN


def test_closed_loop_counts_answers_inside_the_window():
    async def answer(n: int) -> str:
        await asyncio.sleep(0.01)
        return "201" if n % 5 else "500"

    sample = asyncio.run(load.closed_loop(answer, 4, duration=0.3, warmup=0.1,
                                          ok=frozenset({"201"})))
    f = sample.figures()
    assert f["requests"] > 0 and f["failed"] > 0 and f["succeeded"] > f["failed"]
    assert sample.answered >= f["requests"]  # the warm-up's answers are not in the figures
    assert f["p50_ms"] >= 10


def test_open_loop_starts_requests_at_the_rate():
    started = []

    async def answer(n: int) -> str:
        started.append(n)
        return "200"

    sample = asyncio.run(load.open_loop(answer, rate=200, duration=0.25, warmup=0.05))
    assert len(started) == 60  # (0.05 + 0.25) s at 200/s
    assert sample.figures()["requests"] == 50


def test_open_loop_gives_up_on_answers_that_never_come():
    async def answer(n: int) -> str:
        await asyncio.sleep(0 if n % 2 else 60)
        return "200"

    sample = asyncio.run(load.open_loop(answer, rate=100, duration=0.2, warmup=0, drain=0.2))
    assert sample.outcomes == {"200": 10, "unanswered": 10}
    assert sample.figures()["failed"] == 10


def test_http_client_reads_length_chunked_and_closing_answers():
    answers = [
        b"HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n"
        b"0\r\n\r\n",
        b"HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
    ]
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while answers:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            seen.append(head.split(b"\r\n")[0] + b" " + await reader.readexactly(length))
            writer.write(answers.pop(0))
            await writer.drain()
        writer.close()

    async def scenario() -> list[tuple[int, bytes]]:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = load.HttpClient(f"http://127.0.0.1:{port}", 1)
        try:
            return [await client.request("POST", "/a", {"X-Test": "1"}, b"{}"),
                    await client.request("GET", "/b"),
                    await client.request("GET", "/c")]
        finally:
            await client.close()
            server.close()

    assert asyncio.run(scenario()) == [(201, b"hello"), (200, b"abcde"), (404, b"")]
    assert seen == [b"POST /a HTTP/1.1 {}", b"GET /b HTTP/1.1 ", b"GET /c HTTP/1.1 "]


def test_procstat_reads_this_process():
    pid = os.getpid()
    assert procstat.rss_bytes(pid) > 10 * 2**20
    assert procstat.cpu_seconds(pid) > 0
    assert pid in procstat.descendants(os.getppid())
    assert procstat.rss_bytes(2**22 + 1) == 0  # no such process


def test_only_rejects_an_unknown_benchmark(capsys):
    with pytest.raises(SystemExit):
        bench_run.main(["--only", "nosuch", "--out", "/dev/null"])
    assert "unknown benchmark" in capsys.readouterr().err


def test_summary_rows_of_every_new_benchmark():
    http = {"throughput_per_second": 300.0, "p50_ms": 90.0, "p99_ms": 140.0, "failed": 0,
            "cpu_ms_per_request": {"ticketing": 3.0, "gateway": 1.0}}
    ref_a = {**http, "throughput_per_second": 150.0, "p99_ms": 300.0,
             "cpu_ms_per_request": {"nameko_gateway": 2.0}}
    results = {
        "submission": {
            "concurrency": 64, "gateway": {**http, "verified": {
                "ok": True, "answered_201": 10, "in_postgresql": 10, "events_published": 10}},
            "reference_a": ref_a, "reference_b": {**http, "throughput_per_second": 3000.0},
            "ratio_to_reference_a": 2.0, "fraction_of_reference_b": 0.1,
            "p99_ratio_to_reference_a": 0.47},
        "progress_reads": {"rate_per_second": 100.0, "gateway": http, "reference_a": ref_a,
                           "p99_ratio_to_reference_a": 0.5, "target_met": False},
        "footprint": {"rss_bytes": {"ticketing": 100 * 2**20, "make": 2**20},
                      "rss_total_bytes": 100 * 2**20,
                      "reference": {"rss_bytes": 50 * 2**20, "ready_seconds": 1.0},
                      "first_run": {"readyz_seconds": 20.0, "banner_seconds": 21.0},
                      "next_run": {"readyz_seconds": 10.0, "banner_seconds": 10.5},
                      "ready_ratio_to_reference": 10.0},
    }
    rows = bench_run.summary(results)
    text = "\n".join("  ".join(r) for r in rows)
    assert "2.00x ref A" in text and "target >= 1.5x ref A: ok" in text
    assert "target p99 < 50 ms: MISSED" in text
    assert "ticketing" in text and "2.0x ref" in text and "10.0x ref" in text
    assert all(len(r) == 4 for r in rows)
    assert submission.summary_rows(results["submission"])
    assert progress_reads.summary_rows(results["progress_reads"])
    assert footprint.summary_rows(results["footprint"])


def test_submission_through_both_gateways(healthy_platform, tmp_path: Path):
    """Both gateways take demands from the same clients, and the benchmark's check finds each
    demand answered 201 committed and its event published."""
    names = bp.Names(database=TEST_DB, vhost=TEST_VHOST, offset=PORT_OFFSET)
    bench = bp.BenchPlatform(gateway_url=healthy_platform.gateway_url(),
                             database_url=DATABASE_URL, amqp_uri=AMQP_URI, names=names,
                             platform=None, log_dir=None)
    try:
        reference = submission.start_references(bench)
        toks = submission.tokens(4)
        for name, url in (("gateway", bench.gateway_url), ("reference_a", reference)):
            prefix = f"bench-test-{name}-{os.getpid()}-"
            sample, created = asyncio.run(submission.drive_http(url, prefix, toks, 1.0, 0.2, 4))
            assert created > 0, (name, sample.outcomes)
            assert set(sample.outcomes) == {"201"}, (name, sample.outcomes)
            verified = submission.verify(bench, prefix, created, wait=30)
            assert verified["ok"], (name, verified)
        echo = asyncio.run(submission.drive_echo(bench.amqp_uri, toks, 0.5, 0.1, 4))
        assert echo.succeeded > 0 and echo.failed == 0
    finally:
        if bench.platform is not None:
            bench.platform.stop_all()
        if bench._engine is not None:
            bench._engine.dispose()
