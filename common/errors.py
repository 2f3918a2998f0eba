"""Errors a service raises to its callers, and the HTTP status each one means.

nameko serialises a remote exception as ``{"exc_type", "exc_path", "exc_args", "value"}``;
the gateway maps ``exc_path`` to a status with :data:`HTTP_STATUS_BY_EXC_PATH`, so a service
only has to raise one of these.

Every error is for people and for programs at once: ``detail`` is an English message id with
``{name}`` placeholders filled from ``params`` and translated by the gateway into the reader's
language (:mod:`common.i18n`); ``code`` is stable and never translated (``demand.not_ratable``).
Field errors (``errors``) map a field to a list of :func:`field_error` items, each with its own
code; a plain string there is a message id whose code is ``field.invalid``.
"""

from __future__ import annotations

import re
from typing import Any

from common.i18n import EN, translate

FieldErrors = dict[str, list[Any]]


def field_error(code: str, message: str, /, **params: Any) -> dict[str, Any]:
    """One reason a field was refused: a stable ``code``, an English message id and its
    parameters (JSON values: the item crosses RPC as it is)."""
    item: dict[str, Any] = {"code": code, "message": message}
    if params:
        item["params"] = params
    return item


class InvalidValue(ValueError):
    """A value a plain module refuses (a credit code's check digit, a polygon's ring), for a
    field error: ``InvalidCreditCode("enterprise.credit_code_check_digit", "wrong check digit:
    expected {expected} got {got}", expected="W", got="0")``. ``str()`` is the English text;
    :meth:`item` the coded reason for ``errors``."""

    def __init__(self, code: str, message: str, /, **params: Any) -> None:
        super().__init__(translate(message, EN, params))
        self.code = code
        self.message = message
        self.params = params

    def item(self) -> dict[str, Any]:
        return field_error(self.code, self.message, **self.params)


class DomainError(Exception):
    """Base of every error meant for the caller.

    ``detail`` is an English message id (``"no such enterprise"``, ``"role {role} may not
    {action}"``) shown to the user in their language; ``code`` names the error for programs
    (defaults to the class's); ``params`` fill the placeholders."""

    status = 400
    title = "Bad request"
    code = "bad_request"

    def __init__(self, detail: str, errors: FieldErrors | None = None,
                 code: str | None = None, params: dict[str, Any] | None = None) -> None:
        # positional too: nameko rebuilds a remote error as ``cls(*exc_args)`` (common/remote)
        code = code or type(self).code
        params = params or {}
        # args stay JSON-serialisable: nameko sends them over the wire as exc_args
        super().__init__(detail, errors or {}, code, params)
        self.detail = detail
        self.errors = errors or {}
        self.code = code
        self.params = params

    def __str__(self) -> str:
        return translate(self.detail, EN, self.params)


class Unauthenticated(DomainError):
    status = 401
    title = "Authentication required"
    code = "unauthenticated"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    title = "Not found"
    code = "not_found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"
    code = "conflict"


class PreconditionFailed(DomainError):
    status = 412
    title = "Precondition failed"
    code = "precondition_failed"


class TooManyRequests(DomainError):
    status = 429
    title = "Too many requests"
    code = "too_many_requests"


class ValidationFailed(DomainError):
    """Input that breaks a rule. ``errors`` maps a field name to a list of reasons."""

    status = 422
    title = "Validation failed"
    code = "validation_failed"


def invalid_fields(errors: FieldErrors, code: str = "validation_failed",
                   params: dict[str, Any] | None = None) -> ValidationFailed:
    """The 422 of input refused field by field: "invalid fields: title, channel", the codes
    being those of the field errors (each a :func:`field_error`)."""
    names = sorted(str(name) for name in errors)
    return ValidationFailed("invalid fields: {fields}", errors, code=code,
                            params={"fields": names, **(params or {})})


class Unavailable(DomainError):
    """Another service this one needs did not answer in time."""

    status = 503
    title = "Service unavailable"
    code = "unavailable"


DOMAIN_ERRORS: tuple[type[DomainError], ...] = (
    DomainError,
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    PreconditionFailed,
    TooManyRequests,
    Unavailable,
    ValidationFailed,
)


def exc_path(cls: type[BaseException]) -> str:
    """The dotted path nameko puts in ``exc_path`` for an exception class."""
    return f"{cls.__module__}.{cls.__name__}"


HTTP_STATUS_BY_EXC_PATH: dict[str, int] = {exc_path(cls): cls.status for cls in DOMAIN_ERRORS}


#: errors of a service whose database is unreachable, dropped the connection mid-statement or
#: has no pooled connection free: transient, so callers get 503 (retry), never 500
DATABASE_UNAVAILABLE: frozenset[str] = frozenset(
    f"sqlalchemy.exc.{name}"
    for name in ("OperationalError", "InterfaceError", "DisconnectionError", "TimeoutError")
)


def database_unavailable(exc: BaseException) -> bool:
    """True for an error meaning "the database is away for now" (see DATABASE_UNAVAILABLE)."""
    return any(exc_path(cls) in DATABASE_UNAVAILABLE for cls in type(exc).__mro__)



#: PostgreSQL's SQLSTATE for a foreign key violation, and the key its detail names
FOREIGN_KEY_VIOLATION = "23503"
_MISSING_KEY = re.compile(r'Key \((?P<column>[^)]+)\)=\(.*\) is not present in table')


def unknown_reference(exc: BaseException) -> ValidationFailed | None:
    """The 422 for a write the database refused because a referenced row does not exist
    (``Key (incubator_id)=(NOPE) is not present in table "grids"``), naming the column; None
    for any other error. A safety net behind each service's own checks: a reference a
    service forgot to check is still a 422 naming the field, never a 500."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "pgcode", None) != FOREIGN_KEY_VIOLATION:
        return None
    detail = getattr(getattr(orig, "diag", None), "message_detail", None) or ""
    found = _MISSING_KEY.search(detail)
    if found is None:
        return None
    fields = [name.strip() for name in found.group("column").split(",")]
    return invalid_fields({name: [field_error("reference.not_found", "no such record")]
                           for name in fields}, code="reference.not_found")
