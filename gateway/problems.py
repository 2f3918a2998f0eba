"""RFC 9457 problem details (``application/problem+json``) for every error the gateway returns."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from starlette.responses import JSONResponse

from common.errors import DATABASE_UNAVAILABLE, HTTP_STATUS_BY_EXC_PATH
from common.i18n import DEFAULT_LANGUAGE, N_, translate
from gateway.rpc import CircuitOpen, RemoteError, RpcTimeout, ServiceUnavailable

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

#: the title of each status, an English message id translated for the reader
TITLES = {
    400: N_("Bad request"),
    401: N_("Authentication required"),
    403: N_("Forbidden"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    412: N_("Precondition failed"),
    413: N_("Request body too large"),
    415: N_("Unsupported media type"),
    422: N_("Validation failed"),
    428: N_("Precondition required"),
    429: N_("Too many requests"),
    500: N_("Internal error"),
    502: N_("Bad gateway"),
    503: N_("Service unavailable"),
    504: N_("Upstream timeout"),
}
#: the code of a problem that names none of its own: one per status, stable
STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    428: "precondition_required",
    429: "too_many_requests",
    500: "internal_error",
    502: "bad_gateway",
    503: "unavailable",
    504: "upstream_timeout",
}
#: the code of a field error given as a bare message
FIELD_INVALID = "field.invalid"

#: the language of the request being answered (set by :class:`gateway.app.Language`)
LANGUAGE: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


class Problem(Exception):
    """Raise anywhere in a handler to answer with a problem document. ``detail`` is an English
    message id with ``{name}`` placeholders filled from ``params``."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        code: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or {}
        self.headers = headers or {}
        self.code = code
        self.params = params or {}


def _field_items(reasons: Any, language: str) -> list[dict[str, Any]]:
    items = reasons if isinstance(reasons, list) else [reasons]
    rendered = []
    for item in items:
        if isinstance(item, dict) and "message" in item:
            params = item.get("params") if isinstance(item.get("params"), dict) else None
            rendered.append({"code": str(item.get("code") or FIELD_INVALID),
                             "message": translate(str(item["message"]), language, params)})
        else:
            rendered.append({"code": FIELD_INVALID, "message": translate(str(item), language)})
    return rendered


#: the field errors a problem lists; the rest are counted (``errors_omitted``): 60,000 refused
#: items made an 11.6 MB answer (issue 22, finding 1)
MAX_FIELD_ERRORS = 50


def _flattened(errors: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, reasons) of nested field errors, lazily."""
    for key, reasons in errors.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(reasons, dict) and not ("message" in reasons and "code" in reasons):
            yield from _flattened(reasons, name)
        else:
            yield name, reasons


def render_field_errors(errors: dict[str, Any], language: str, prefix: str = "",
                        limit: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """Field errors as ``{"tasks.0.department_id": [{"code", "message"}]}``: nested fields by
    their dotted path, each reason with its code and its text in ``language``; at most
    ``limit`` fields (the first ones)."""
    rendered: dict[str, list[dict[str, Any]]] = {}
    for name, reasons in _flattened(errors, prefix):
        if limit is not None and len(rendered) >= limit and name not in rendered:
            break
        rendered.setdefault(name, []).extend(_field_items(reasons, language))
    return rendered


def count_field_errors(errors: dict[str, Any]) -> int:
    return len({name for name, _ in _flattened(errors)})


def problem_response(
    status: int,
    detail: str,
    instance: str | None = None,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    code: str | None = None,
    params: dict[str, Any] | None = None,
) -> JSONResponse:
    """The problem document, in the language of the request (``Content-Language``)."""
    language = LANGUAGE.get()
    title = TITLES.get(status, "Error")
    body: dict[str, Any] = {
        "type": f"urn:gridsvc:problem:{title.lower().replace(' ', '-')}",
        "title": translate(title, language),
        "status": status,
        "code": code or STATUS_CODES.get(status, "error"),
        "detail": translate(detail, language, _capped(params)),
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = render_field_errors(errors, language, limit=MAX_FIELD_ERRORS)
        if len(body["errors"]) >= MAX_FIELD_ERRORS:
            omitted = count_field_errors(errors) - len(body["errors"])
            if omitted > 0:
                body["errors_omitted"] = omitted
    return JSONResponse(body, status_code=status,
                        headers={**(headers or {}), "Content-Language": language},
                        media_type=PROBLEM_JSON)


def _capped(params: dict[str, Any] | None) -> dict[str, Any] | None:
    """The parameters of a detail with a list of names (``invalid fields: {fields}``) cut to
    :data:`MAX_FIELD_ERRORS` names and "…"."""
    if not params:
        return params
    return {key: value[:MAX_FIELD_ERRORS] + ["…"]
            if isinstance(value, list) and len(value) > MAX_FIELD_ERRORS else value
            for key, value in params.items()}


def from_rpc_error(exc: Exception, instance: str) -> JSONResponse:
    """Map a failed service call to HTTP: domain errors by exc_path, broker trouble to 503/504."""
    if isinstance(exc, RpcTimeout):
        return problem_response(504, "the service did not answer in time", instance,
                                code="service.timeout")
    if isinstance(exc, CircuitOpen):
        seconds = max(1, math.ceil(exc.retry_after))
        return problem_response(
            503, "this part of the platform is not answering; retry in {seconds} s", instance,
            headers={"Retry-After": str(seconds)}, code="service.not_answering",
            params={"seconds": seconds},
        )
    if isinstance(exc, ServiceUnavailable):
        return problem_response(
            503, "service unavailable: {reason}", instance, headers={"Retry-After": "1"},
            code="service.unavailable", params={"reason": exc.reason},
        )
    if isinstance(exc, RemoteError):
        if exc.exc_path in DATABASE_UNAVAILABLE:
            log.warning("a service's database is unavailable: %s", exc.value)
            return problem_response(
                503, "the service's database is unavailable, retry shortly", instance,
                headers={"Retry-After": "1"}, code="service.database_unavailable",
            )
        status = HTTP_STATUS_BY_EXC_PATH.get(exc.exc_path)
        if status is not None:
            # DomainError(detail, errors, code, params) as nameko serialised it
            args = list(exc.exc_args or [])
            detail = str(args[0]) if args else exc.value
            errors = dict(args[1]) if len(args) > 1 and isinstance(args[1], dict) else {}
            code = str(args[2]) if len(args) > 2 and isinstance(args[2], str) else None
            params = dict(args[3]) if len(args) > 3 and isinstance(args[3], dict) else None
            headers = {}
            retry = errors.pop("retry_after", None)
            if status == 429 and retry and str(retry[0]).isdigit():
                headers["Retry-After"] = str(retry[0])
            return problem_response(status, detail, instance, errors or None, headers or None,
                                    code=code, params=params)
        log.error("unexpected remote error %s: %s", exc.exc_path, exc.value)
    else:
        log.exception("unexpected error calling a service", exc_info=exc)
    return problem_response(500, "the request could not be completed", instance,
                            code="server.internal_error")
