"""Small helpers the test modules share."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def bearer(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


def new_enterprise_id() -> str:
    return f"ent-{uuid.uuid4().hex[:12]}"


def eventually(check: Callable[[], T], timeout: float = 5.0, interval: float = 0.05) -> T:
    """Call ``check`` until it returns a truthy value or ``timeout`` passes; return the value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def demand_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "channel": "enterprise",
        "title": "申请人才公寓",
        "description": "公司新引进三名博士，希望申请园区人才公寓。",
    }
    body.update(overrides)
    return body
