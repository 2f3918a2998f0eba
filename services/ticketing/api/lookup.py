"""What ticketing asks the registry as the service itself: the enterprises a filter names
(name or credit code) and the names of the people, departments, grids and enterprises it
keeps only by id. The caller may not be allowed to read those records in the registry (a
liaison reads no enterprise there); ticketing shows the answers only inside what the caller
may read of its own lists."""

from __future__ import annotations

from typing import Any

from common import remote

NAME_KINDS = ("accounts", "departments", "grids", "enterprises")


def enterprise_ids(service: Any, filters: dict[str, Any]) -> list[str] | None:
    """The ids the ``enterprise`` filter stands for; None without the filter."""
    text = filters.get("enterprise")
    if text is None:
        return None
    with service.identity.as_service():
        return list(remote.call(service.enterprise.find_enterprise_ids, text))


def names(service: Any, wanted: dict[str, set[str]]) -> dict[str, dict[str, str]]:
    """``{"accounts": {id: name}, "departments": ..., "grids": ..., "enterprises": ...}``
    of the ids in ``wanted`` (the kinds of :data:`NAME_KINDS`)."""
    request = {kind: sorted(i for i in wanted.get(kind, ()) if i) for kind in NAME_KINDS}
    if not any(request.values()):
        return {kind: {} for kind in NAME_KINDS}
    with service.identity.as_service():
        found = remote.call(service.enterprise.names, request, timeout=15)
    return {kind: dict(found.get(kind) or {}) for kind in NAME_KINDS}
