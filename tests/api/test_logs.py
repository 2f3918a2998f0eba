"""Structured logs: every process writes one JSON object per line, and the call ids in them
let one demand be followed from the gateway through ticketing to notification."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from helpers import bearer, demand_body, eventually, new_enterprise_id

from common.auth import Role
from common.logs import CallIds, bind_call, current_call_id, unbind_call

PROCESSES = ("gateway", "enterprise", "ticketing", "notification", "supplydemand")


def records(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_every_process_logs_json_objects(healthy_platform) -> None:
    for name in PROCESSES:
        path = healthy_platform.procs[name].log_path
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        assert lines, f"{name} logged nothing"
        for line in lines:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                raise AssertionError(f"{name} logged a line that is not JSON: {line!r}") from None
            assert {"time", "level", "name", "message"} <= set(record), line
            assert record["process_name"] == name, line


def test_one_demand_is_followed_across_services_by_call_id(healthy_platform, client,
                                                            token) -> None:
    tok = token(Role.ENTERPRISE, enterprise_id=new_enterprise_id())
    response = client.post("/api/v1/demands", json=demand_body(), headers=bearer(tok))
    assert response.status_code == 201, response.text
    gateway_id = response.headers["X-Request-ID"]
    logs = {name: healthy_platform.procs[name].log_path for name in PROCESSES}

    # the gateway's own line for the request
    request_lines = [r for r in records(logs["gateway"]) if r.get("call_id") == gateway_id]
    assert [(r["message"], r["status"]) for r in request_lines] == [
        ("POST /api/v1/demands 201", 201)]

    # ticketing's worker was called with the gateway's id at the bottom of its stack (its
    # line is written just after it answered, hence `eventually`)
    def ticketing_done() -> list[dict[str, Any]]:
        return [r for r in records(logs["ticketing"])
                if r.get("call_id_stack", [None])[0] == gateway_id and "entrypoint" in r]

    done = eventually(ticketing_done, timeout=5.0)
    assert len(done) == 1 and done[0]["outcome"] == "ok", done
    ticketing_id = done[0]["call_id"]
    assert ticketing_id.startswith(done[0]["entrypoint"] + ".")
    assert done[0]["call_id_stack"] == [gateway_id, ticketing_id]

    # submissions go in batches: ticketing ties each request's id to its worker's by a line
    recorded = [r for r in records(logs["ticketing"]) if r.get("request_call_id") == gateway_id]
    assert [r["call_id"] for r in recorded] == [ticketing_id], recorded
    assert recorded[0]["demand_id"] == response.json()["id"]

    # the enterprise registry was asked (with the same chain) who the enterprise is
    enterprise = [r for r in records(logs["enterprise"])
                  if r.get("call_id_stack", [None])[0] == gateway_id]
    assert any(r["call_id_stack"][1] == ticketing_id for r in enterprise), enterprise

    # the demand_received event reached notification carrying ticketing's call id
    def notified() -> list[dict[str, Any]]:
        return [r for r in records(logs["notification"])
                if ticketing_id in r.get("call_id_stack", [])
                and r.get("entrypoint") == "notification.on_demand_received"]

    handled = eventually(notified, timeout=5.0)
    assert handled and handled[0]["outcome"] == "ok", records(logs["notification"])[-20:]
    assert handled[0]["call_id"].startswith("notification.on_demand_received.")


def test_call_ids_are_added_to_lines_logged_while_a_call_is_bound() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    token = bind_call("svc.method.1", ["gateway.op.0", "svc.method.1"])
    try:
        assert current_call_id() == "svc.method.1"
        CallIds().filter(record)
    finally:
        unbind_call(token)
    assert record.call_id == "svc.method.1"
    assert record.call_id_stack == ["gateway.op.0", "svc.method.1"]
    outside = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    CallIds().filter(outside)
    assert current_call_id() is None and not hasattr(outside, "call_id")
