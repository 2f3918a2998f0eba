"""What ticketing asks the registry as the service itself: the enterprises a filter names
(name or credit code) and the names of the people, departments, grids and enterprises it
keeps only by id. The caller may not be allowed to read those records in the registry (a
liaison reads no enterprise there); ticketing shows the answers only inside what the caller
may read of its own lists."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from common import remote
from common.errors import DomainError
from services.ticketing import naming

log = logging.getLogger(__name__)

NAME_KINDS = ("accounts", "departments", "grids", "enterprises")


def enterprise_ids(service: Any, filters: dict[str, Any]) -> list[str] | None:
    """The ids the ``enterprise`` filter stands for; None without the filter."""
    text = filters.get("enterprise")
    if text is None:
        return None
    with service.identity.as_service():
        return list(remote.call(service.enterprise.find_enterprise_ids, text))


#: names are read again from the registry after this many seconds (a renamed department
#: shows its new name within a minute)
NAMES_TTL_SECONDS = 60.0
#: at most this many names kept per process
NAMES_CACHE_SIZE = 50_000
_cache: dict[tuple[str, str], tuple[str | None, float]] = {}
_cache_lock = threading.Lock()


def names(service: Any, wanted: dict[str, set[str]]) -> dict[str, dict[str, str]]:
    """``{"accounts": {id: name}, "departments": ..., "grids": ..., "enterprises": ...}``
    of the ids in ``wanted`` (the kinds of :data:`NAME_KINDS`), from a per-process cache of
    :data:`NAMES_TTL_SECONDS`, the rest asked of the registry in one call."""
    moment = time.monotonic()
    found: dict[str, dict[str, str]] = {kind: {} for kind in NAME_KINDS}
    missing: dict[str, list[str]] = {kind: [] for kind in NAME_KINDS}
    with _cache_lock:
        for kind in NAME_KINDS:
            for key in sorted(i for i in wanted.get(kind, ()) if i):
                cached = _cache.get((kind, key))
                if cached is not None and cached[1] > moment:
                    if cached[0] is not None:
                        found[kind][key] = cached[0]
                else:
                    missing[kind].append(key)
    if not any(missing.values()):
        return found
    with service.identity.as_service():
        answer = remote.call(service.enterprise.names, missing["accounts"], missing["grids"],
                             missing["departments"], timeout=15) if any(
            missing[k] for k in ("accounts", "grids", "departments")) else {}
        if missing["enterprises"]:
            answer = {**answer, "enterprises": remote.call(
                service.enterprise.enterprise_names, missing["enterprises"], timeout=15)}
    with _cache_lock:
        if len(_cache) > NAMES_CACHE_SIZE:
            _cache.clear()
        for kind in NAME_KINDS:
            table = dict((answer or {}).get(kind) or {})
            for key in missing[kind]:
                name = table.get(key)
                _cache[(kind, key)] = (name, moment + NAMES_TTL_SECONDS)
                if name is not None:
                    found[kind][key] = name
    return found


#: what every reader may see named: departments, grids and enterprises (not staff)
PUBLIC_KINDS = frozenset({"departments", "grids", "enterprises"})


def named(service: Any, items: list[Any], *,
          kinds: frozenset[str] | None = None) -> list[Any]:
    """``items`` (dumped answers) with the names next to their ids
    (:func:`services.ticketing.naming.decorate`), of ``kinds`` only when given. A registry
    that does not answer leaves the names null: a list is never refused for want of names."""
    wanted = naming.wanted(items)
    if kinds is not None:
        wanted = {kind: ids for kind, ids in wanted.items() if kind in kinds}
    try:
        found = names(service, wanted)
    except DomainError:
        log.warning("names of the registry not read; shown without them", exc_info=True)
        found = {kind: {} for kind in NAME_KINDS}
    if kinds is not None:
        found = {kind: (table if kind in kinds else {}) for kind, table in found.items()}
    naming.decorate(items, found)
    if kinds is not None:
        _drop_unwanted(items, kinds)
    return items


def _drop_unwanted(items: list[Any], kinds: frozenset[str]) -> None:
    hidden = [name for _, (kind, name) in naming.FIELDS.items() if kind not in kinds]
    for item in naming.walk(items):
        for name in hidden:
            item.pop(name, None)
