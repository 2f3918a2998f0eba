"""The gateway's event-loop time for the worst 1 MiB body of each request schema (issue 22,
finding 1): what the gateway does on its one event loop before a body reaches a service, the
nesting scan, ``json.loads`` and the schema's validation (``gateway.endpoints._read_json`` and
``_validated``), timed in process for bodies shaped to be expensive:

- ``flood``: the schema's longest list (or, without one, unknown names) filled to 1 MiB with
  items (330,000 attachments was the probe's: 9.6 s);
- ``objects``: the same list filled with empty objects (``[{}]*60000`` was 11.6 MB of errors);
- ``names``: 1 MiB of names the schema does not know;
- ``text``: one text field of 1 MiB;
- ``nesting``: 1 MiB of ``[``;
- ``valid``: a body the schema accepts, for scale.

Times are the thread's CPU time (``time.thread_time``: what the loop is kept busy for, not
what a busy machine adds by running other processes meanwhile), the best of three. The
budget is 50 ms per body; the same-run reference is ``json.loads`` of the same bytes (ratios,
never timings, are what a test may compare). ``make bench ONLY=request_bodies`` or
``python -m bench.request_bodies``.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from marshmallow import fields

from gateway.app import API_ENDPOINTS
from gateway.endpoints import Problem, _read_json, _validated
from gateway.openapi import _schema_name

MIB = 2**20
BUDGET_MS = 50.0
REPEATS = 3


class _Request:
    """What ``_read_json`` reads of a Starlette request."""

    def __init__(self, raw: bytes) -> None:
        self.headers = {"content-type": "application/json"}
        self._raw = raw

    async def body(self) -> bytes:
        return self._raw


def _fill(item: Any, size: int = MIB) -> list[Any]:
    one = len(json.dumps(item, separators=(",", ":"))) + 1
    return [item] * max(1, size // one)


def bodies(schema: Any) -> dict[str, bytes]:
    """The expensive 1 MiB bodies of one schema."""
    instance = schema() if isinstance(schema, type) else schema
    lists = [(f.data_key or n, f) for n, f in instance.load_fields.items()
             if isinstance(f, fields.List)]
    texts = [(f.data_key or n) for n, f in instance.load_fields.items()
             if isinstance(f, fields.String)]
    shapes: dict[str, Any] = {}
    if lists:
        name, field = lists[0]
        item: Any = {"name": "附件.pdf", "url": "https://example.com/a"} \
            if isinstance(field.inner, fields.Nested) else "x" * 16
        shapes["flood"] = {name: _fill(item)}
        shapes["objects"] = {name: _fill({})}
    shapes["names"] = {f"x{i}": 1 for i in range(MIB // 12)}
    if texts:
        shapes["text"] = {texts[0]: "字" * (MIB // 3)}
    encoded = {k: json.dumps(v, ensure_ascii=False, separators=(",", ":")).encode()
               for k, v in shapes.items()}
    encoded["nesting"] = b"[" * MIB
    return encoded


def gateway_seconds(schema: Any, raw: bytes) -> float:
    """Seconds the event loop spends reading and validating ``raw`` (refused or not)."""
    async def once() -> None:
        try:
            data = await _read_json(_Request(raw))  # type: ignore[arg-type]
            _validated(schema, data)
        except Problem:
            pass

    best = float("inf")
    for _ in range(REPEATS):
        loop = asyncio.new_event_loop()
        try:
            began = time.thread_time()
            loop.run_until_complete(once())
            best = min(best, time.thread_time() - began)
        finally:
            loop.close()
    return best


def reference_seconds(raw: bytes) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        began = time.thread_time()
        try:
            json.loads(raw)
        except (ValueError, RecursionError):
            pass
        best = min(best, time.thread_time() - began)
    return best


def run() -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for ep in API_ENDPOINTS:
        if ep.body is not None:
            seen.setdefault(_schema_name(ep.body), ep.body)
    per_schema: dict[str, dict[str, Any]] = {}
    for name, schema in sorted(seen.items()):
        worst: dict[str, Any] = {"ms": 0.0}
        for shape, raw in bodies(schema).items():
            ms = gateway_seconds(schema, raw) * 1000
            if ms > worst["ms"]:
                ref = reference_seconds(raw) * 1000
                worst = {"ms": ms, "shape": shape, "bytes": len(raw), "reference_ms": ref,
                         "ratio": ms / ref if ref > 0 else None}
        per_schema[name] = worst
    slowest = max(per_schema.items(), key=lambda kv: kv[1]["ms"])
    over = sorted(n for n, w in per_schema.items() if w["ms"] > BUDGET_MS)
    result = {"schemas": len(per_schema), "budget_ms": BUDGET_MS, "per_schema": per_schema,
              "slowest": {"schema": slowest[0], **slowest[1]}, "over_budget": over,
              "ok": not over}
    report(result)
    return result


def report(r: dict[str, Any]) -> None:
    s = r["slowest"]
    print(f"request bodies: {r['schemas']} request schemas, the worst 1 MiB body of each; "
          f"slowest {s['schema']} ({s['shape']}) {s['ms']:.1f} ms of event loop, "
          f"{s['ratio']:.1f}x json.loads of it ({s['reference_ms']:.1f} ms); budget "
          f"{r['budget_ms']:.0f} ms: "
          f"{'met' if r['ok'] else 'MISSED by ' + ', '.join(r['over_budget'])}")


def summary_rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    s = r["slowest"]
    verdict = "ok" if r["ok"] else f"MISSED: {len(r['over_budget'])} schemas"
    return [
        ("request_bodies", "schemas", f"{r['schemas']} (worst 1 MiB body each)", ""),
        ("request_bodies", "slowest event-loop time",
         f"{s['ms']:.1f} ms ({s['schema']}, {s['shape']})", f"budget 50 ms: {verdict}"),
        ("request_bodies", "vs json.loads of it", f"{s['ratio']:.1f}x "
                                                  f"({s['reference_ms']:.1f} ms)", ""),
    ]


if __name__ == "__main__":
    run()
