"""Errors a service raises to its callers, and the HTTP status each one means.

nameko serialises a remote exception as ``{"exc_type", "exc_path", "exc_args", "value"}``;
the gateway maps ``exc_path`` to a status with :data:`HTTP_STATUS_BY_EXC_PATH`, so a service
only has to raise one of these (or a subclass listed in its own ``exceptions.py``).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error meant for the caller. ``detail`` is shown to the user."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, errors: dict[str, Any] | None = None) -> None:
        # args stay JSON-serialisable: nameko sends them over the wire as exc_args
        super().__init__(detail, errors or {})
        self.detail = detail
        self.errors = errors or {}

    def __str__(self) -> str:
        return self.detail


class Unauthenticated(DomainError):
    status = 401
    title = "Authentication required"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class PreconditionFailed(DomainError):
    status = 412
    title = "Precondition failed"


class TooManyRequests(DomainError):
    status = 429
    title = "Too many requests"


class ValidationFailed(DomainError):
    """Input that breaks a rule. ``errors`` maps a field name to a list of reasons."""

    status = 422
    title = "Validation failed"


class Unavailable(DomainError):
    """Another service this one needs did not answer in time."""

    status = 503
    title = "Service unavailable"


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


def register(cls: type[DomainError]) -> type[DomainError]:
    """Class decorator for a service's own error: the gateway then maps it too."""
    HTTP_STATUS_BY_EXC_PATH[exc_path(cls)] = cls.status
    return cls
