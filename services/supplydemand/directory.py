"""The board's copy of the registry's enterprises (企业信息): what matching and scoping need.

The registry owns enterprises; this service keeps ``enterprise_id, name, grid_id,
industry_code, in_scope`` and never a contact. The copy is written from the registry's own
record whenever an enterprise publishes or asks for a docking (looked up with the caller's
token, so the registry also decides whether the caller may act for it), and kept current by
the registry's events (``enterprise_registered``, ``scope_changed``, ``grid_changed``,
``profile_updated``). An enterprise that leaves scope disappears from matching and search at
once: every board query joins this table on ``in_scope``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from common.validation import is_uuid
from services.supplydemand.models import Enterprise


def _row(record: Mapping[str, Any]) -> dict[str, Any]:
    enterprise_id = str(record.get("enterprise_id") or record.get("id") or "")
    if not is_uuid(enterprise_id):
        raise ValueError("the record names no enterprise id")
    return {
        "id": enterprise_id,
        "name": str(record.get("name") or "")[:200],
        "grid_id": record.get("grid_id"),
        "industry_code": record.get("industry_code"),
        "in_scope": bool(record.get("in_scope")),
        "synced_at": datetime.now(UTC),
    }


def upsert(session: Session, record: Mapping[str, Any]) -> Enterprise:
    """Write the registry's record (``get_enterprise`` or ``enterprise_registered`` data)."""
    row = _row(record)
    stmt = insert(Enterprise).values(**row)
    session.execute(stmt.on_conflict_do_update(
        index_elements=[Enterprise.id],
        set_={k: stmt.excluded[k] for k in row if k != "id"},
    ))
    enterprise = session.get(Enterprise, row["id"], populate_existing=True)
    assert enterprise is not None
    return enterprise


def known(session: Session, enterprise_id: str) -> bool:
    return is_uuid(enterprise_id) and session.get(Enterprise, enterprise_id) is not None


def set_scope(session: Session, data: Mapping[str, Any]) -> bool:
    """``scope_changed``: True if an enterprise the board knows changed."""
    enterprise_id = str(data["enterprise_id"])
    if not is_uuid(enterprise_id):
        raise ValueError("the event names no enterprise id")
    result = session.execute(
        update(Enterprise).where(Enterprise.id == enterprise_id)
        .values(in_scope=bool(data["in_scope"]), synced_at=datetime.now(UTC))
    )
    return bool(result.rowcount)


def set_grid(session: Session, data: Mapping[str, Any]) -> bool:
    """``grid_changed``: True if an enterprise the board knows changed."""
    enterprise_id = str(data["enterprise_id"])
    if not is_uuid(enterprise_id):
        raise ValueError("the event names no enterprise id")
    result = session.execute(
        update(Enterprise).where(Enterprise.id == enterprise_id)
        .values(grid_id=data.get("new_grid_id"), synced_at=datetime.now(UTC))
    )
    return bool(result.rowcount)


#: ``profile_updated`` fields that change what the board keeps
PROFILE_FIELDS = frozenset({"name", "industry_code"})


def profile_matters(data: Mapping[str, Any]) -> bool:
    fields = data.get("fields") or []
    return isinstance(fields, list) and bool(PROFILE_FIELDS & set(map(str, fields)))
