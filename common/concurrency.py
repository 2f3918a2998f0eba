"""Optimistic concurrency: a write names the version it read (``If-Match``); a stale one is
refused with 412 instead of silently overwriting someone else's change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Session

from common.errors import PreconditionFailed, ValidationFailed, field_error
from common.i18n import label
from common.validation import is_uuid


def expected_version(value: Any) -> int | None:
    """A version sent by a caller: None or a non-negative integer."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationFailed("expected_version must be a non-negative integer",
                               {"If-Match": [field_error("version.invalid",
                                                         "not a version of this resource")]},
                               code="version.invalid")
    return value


def expect_version(session: Session, model: Any, key: Any, expected: int | None,
                   what: str) -> None:
    """Lock the row and refuse the write (412) unless it still has version ``expected``.

    Does nothing when ``expected`` is None (the caller did not ask) or the row does not exist
    (the operation itself reports the missing resource). Call it after any lock the operation
    takes first, so locks are always taken in the same order.
    """
    if expected is None:
        return
    if isinstance(model.id.type, UUID) and not is_uuid(key):
        return
    current = session.execute(
        select(model.version).where(model.id == key).with_for_update()
    ).scalar_one_or_none()
    if current is not None and current != expected:
        raise stale(what, expected, current)


def stale(what: str, expected: int, current: int) -> PreconditionFailed:
    """The 412 of a write that names a version no longer current: ``what`` is a code of the
    ``record`` dictionary (``demand``, ``sla_settings``), shown by its label."""
    return PreconditionFailed(
        "the {what} changed since version {expected} (now {current}): read it again",
        code="version.stale",
        params={"what": label("record", what), "expected": expected, "current": current})
