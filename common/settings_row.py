"""A versioned settings row (设置): one row of a service's ``key → value`` settings table,
its ``version`` the ETag of the settings (optimistic concurrency, If-Match).

A table of settings rows has ``key`` (primary key), ``value`` (JSONB) and ``version``
columns. While no row exists the service's defaults apply at version 1; the first write
creates the row empty and locks it, and every change bumps ``version``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from common.concurrency import stale


class SettingsRow(Protocol):
    key: Any
    value: Any
    version: Any


Row = TypeVar("Row", bound=SettingsRow)


def stored(session: Session, model: type[SettingsRow], key: str) -> dict[str, Any]:
    """The stored value of ``key`` (empty while only the defaults apply)."""
    row = session.get(model, key)
    return dict(row.value or {}) if row is not None else {}


def in_force(session: Session, model: type[SettingsRow], key: str,
             defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The settings in force: the stored ones over ``defaults``."""
    return {**defaults, **stored(session, model, key)}


def version(session: Session, model: type[SettingsRow], key: str) -> int:
    """The version of the settings ``key``: 1 while only the defaults apply (no row yet), +1
    with every change."""
    row = session.get(model, key, populate_existing=True)
    return int(row.version) if row is not None else 1


def locked(session: Session, model: type[Row], key: str, expected: int | None, what: str,
           **columns: Any) -> Row:
    """The settings row ``key`` for a write, locked until the transaction ends (created empty,
    i.e. the defaults at version 1, with ``columns`` if the table has more, if missing); 412
    unless still at version ``expected`` (None: any version). The caller bumps ``version``
    when it changes ``value``. ``what``: a code of the ``record`` dictionary."""
    session.execute(insert(model).values(key=key, value={}, version=1, **columns)
                    .on_conflict_do_nothing(index_elements=["key"]))
    row = session.get(model, key, with_for_update=True, populate_existing=True)
    assert row is not None
    if expected is not None and row.version != expected:
        raise stale(what, expected, row.version)
    return row
