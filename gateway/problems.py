"""RFC 9457 problem details (``application/problem+json``) for every error the gateway returns."""

from __future__ import annotations

import logging
from typing import Any

from starlette.responses import JSONResponse

from common.errors import DATABASE_UNAVAILABLE, HTTP_STATUS_BY_EXC_PATH
from gateway.rpc import RemoteError, RpcTimeout, ServiceUnavailable

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Validation failed",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Upstream timeout",
}


class Problem(Exception):
    """Raise anywhere in a handler to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or {}
        self.headers = headers or {}


def problem_response(
    status: int,
    detail: str,
    instance: str | None = None,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    title = TITLES.get(status, "Error")
    body: dict[str, Any] = {
        "type": f"urn:gridsvc:problem:{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def from_rpc_error(exc: Exception, instance: str) -> JSONResponse:
    """Map a failed service call to HTTP: domain errors by exc_path, broker trouble to 503/504."""
    if isinstance(exc, RpcTimeout):
        return problem_response(504, "the service did not answer in time", instance)
    if isinstance(exc, ServiceUnavailable):
        return problem_response(
            503, f"service unavailable: {exc.reason}", instance, headers={"Retry-After": "1"}
        )
    if isinstance(exc, RemoteError):
        if exc.exc_path in DATABASE_UNAVAILABLE:
            log.warning("a service's database is unavailable: %s", exc.value)
            return problem_response(
                503, "the service's database is unavailable, retry shortly", instance,
                headers={"Retry-After": "1"},
            )
        status = HTTP_STATUS_BY_EXC_PATH.get(exc.exc_path)
        if status is not None:
            args = list(exc.exc_args or [])
            detail = str(args[0]) if args else exc.value
            errors = dict(args[1]) if len(args) > 1 and isinstance(args[1], dict) else {}
            headers = {}
            retry = errors.pop("retry_after", None)
            if status == 429 and retry and str(retry[0]).isdigit():
                headers["Retry-After"] = str(retry[0])
            return problem_response(status, detail, instance, errors or None, headers or None)
        log.error("unexpected remote error %s: %s", exc.exc_path, exc.value)
    else:
        log.exception("unexpected error calling a service", exc_info=exc)
    return problem_response(500, "the request could not be completed", instance)
