"""Names next to ids (人名、部门、网格、企业名称): ticketing keeps people, departments, grids and
enterprises by id; what people read carries their names beside them.

A plain module: :func:`wanted` collects the ids of a page of answers (dicts as the schemas
dumped them), the caller asks the registry once for their names
(:func:`services.ticketing.api.lookup.names`), and :func:`decorate` writes ``<field>_name``
(or ``<field>_names`` for lists) next to each id. An id the registry does not know (a made-up
actor, the platform itself) gets None: a reader sees the role or the id instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: id field → (kind of record, name field)
FIELDS: dict[str, tuple[str, str]] = {
    "actor": ("accounts", "actor_name"),
    "recorded_by": ("accounts", "recorded_by_name"),
    "triaged_by": ("accounts", "triaged_by_name"),
    "accepted_by": ("accounts", "accepted_by_name"),
    "author": ("accounts", "author_name"),
    "requested_by": ("accounts", "requested_by_name"),
    "decided_by": ("accounts", "decided_by_name"),
    "rated_by": ("accounts", "rated_by_name"),
    "department_id": ("departments", "department_name"),
    "departments": ("departments", "department_names"),
    "enterprise_id": ("enterprises", "enterprise_name"),
    "grid_id": ("grids", "grid_name"),
    "grid_ids": ("grids", "grid_names"),
}
#: nested lists of records that carry ids of their own
NESTED = ("tasks", "entries", "ratings")


def walk(items: Iterable[Any]) -> Iterable[dict[str, Any]]:
    for item in items:
        if not isinstance(item, dict):
            continue
        yield item
        for key in NESTED:
            if isinstance(item.get(key), list):
                yield from walk(item[key])


def wanted(items: Iterable[Any]) -> dict[str, set[str]]:
    """The ids of each kind named in ``items`` (and the records nested in them)."""
    found: dict[str, set[str]] = {}
    for item in walk(items):
        for field, (kind, _) in FIELDS.items():
            value = item.get(field)
            values = value if isinstance(value, list) else [value]
            found.setdefault(kind, set()).update(v for v in values if isinstance(v, str) and v)
    return found


def decorate(items: Iterable[Any], names: Mapping[str, Mapping[str, str]]) -> None:
    """Write the names next to the ids, in place (only for the fields an item has)."""
    for item in walk(items):
        for field, (kind, name_field) in FIELDS.items():
            if field not in item:
                continue
            table = names.get(kind) or {}
            value = item[field]
            if isinstance(value, list):
                item[name_field] = [table.get(v, v) for v in value]
            else:
                item[name_field] = table.get(value) if isinstance(value, str) else None
