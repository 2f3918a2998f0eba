"""Small helpers the test modules share."""

from __future__ import annotations

import random
import re
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

import httpx

from common.auth import Principal, Role, mint_token
from common.config import DEV_JWT_SECRET
from services.enterprise import credit_code

T = TypeVar("T")


def bearer(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


def if_match(version: int | str = "*") -> dict[str, str]:
    """``If-Match`` for a write to a resource read at ``version`` (``*``: any version)."""
    return {"If-Match": version if version == "*" else f'"{version}"'}


def send_if_match(request: httpx.Request) -> None:
    """httpx request hook of the tests' clients: a PATCH or PUT that names no version sends
    ``If-Match: *``, since the gateway answers 428 to one without If-Match (issue 22, finding
    7). A test about versions sends its own If-Match (or a body ``version``, which is still
    checked); ``tests/api/test_versions.py`` uses a client without this hook for the 428."""
    if request.method in ("PATCH", "PUT") and "if-match" not in request.headers:
        request.headers["If-Match"] = "*"


#: ``httpx.Client(..., **SENDS_IF_MATCH)``
SENDS_IF_MATCH: dict = {"event_hooks": {"request": [send_if_match]}}


_RNG = random.Random(uuid.uuid4().int)


def enterprise_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "credit_code": credit_code.generate(_RNG), "name": "青岛测试科技有限公司",
        "address": "高新区测试路1号", "industry_code": "C39", "scale": "small",
    }
    body.update(overrides)
    return body


def new_enterprise_id(**overrides: object) -> str:
    """Register an in-scope enterprise through the running test gateway; its id."""
    from conftest import GATEWAY_PORT

    admin = mint_token(Principal(user_id="test-admin", role=Role.ADMIN), DEV_JWT_SECRET, 600)
    response = httpx.post(f"http://127.0.0.1:{GATEWAY_PORT}/api/v1/enterprises",
                          json=enterprise_body(**overrides), headers=bearer(admin), timeout=15)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def eventually(check: Callable[[], T], timeout: float = 5.0, interval: float = 0.05) -> T:
    """Call ``check`` until it returns a truthy value or ``timeout`` passes; return the value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def worker_calls(port: int, method: str) -> float:
    """Finished calls of the entrypoint ``method`` of the service serving metrics on ``port``,
    every outcome (``gridsvc_worker_calls_total``): a timer's ticks, an event's handlings, the
    health probes. Wait for one to finish instead of sleeping (0 while it does not answer)."""
    try:
        body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=3).text
    except httpx.HTTPError:
        return 0.0
    return sum(float(value) for labels, value in re.findall(
        r"^gridsvc_worker_calls_total\{(.*)\} (\S+)$", body, re.M)
        if f'method="{method}"' in labels.split(","))


def demand_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "channel": "enterprise",
        "title": "申请人才公寓",
        "description": "公司新引进三名博士，希望申请园区人才公寓。",
    }
    body.update(overrides)
    return body


def named_fields(problem: dict) -> set[str]:
    """Every field a problem document names: each dotted path and each of its prefixes
    (``tasks.0.department_id`` names it, ``tasks.0`` and ``tasks``)."""
    errors = problem.get("errors", problem) if isinstance(problem, dict) else {}
    names: set[str] = set()
    for path in errors:
        parts = str(path).split(".")
        names.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return names


def reasons(problem: dict, field: str) -> list[str]:
    """The texts of the reasons given for ``field`` and the fields nested in it."""
    return [item["message"] for path, items in problem["errors"].items()
            if path == field or path.startswith(field + ".") for item in items]


def texts(reasons: list, language: str = "en") -> list[str]:
    """Coded field errors (``{"code", "message", "params"}``) as the texts a reader gets."""
    from common.i18n import translate

    return [translate(r["message"], language, r.get("params")) for r in reasons]


def codes(reasons: list) -> list[str]:
    """The codes of coded field errors."""
    return [r["code"] for r in reasons]

