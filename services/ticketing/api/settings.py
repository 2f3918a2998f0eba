"""RPC entrypoints of ticketing: the SLA settings (时限设置) and the handling-time table
(办理时限 by category and difficulty). Staff read them, admins change them; every change is
announced as ``sla_settings_changed``. A change applies to deadlines scheduled from then on:
pending deadlines keep their time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from common import remote
from common.auth import STAFF_ROLES, Role
from common.concurrency import expected_version as checked_version
from common.entrypoints import rpc
from common.errors import Conflict, NotFound, ValidationFailed, field_error
from common.validation import load
from services.ticketing import events, sla
from services.ticketing.models import HandlingTime
from services.ticketing.schemas import (
    DEFAULT_CATEGORY,
    DIFFICULTIES,
    HandlingTimeKeySchema,
    HandlingTimeListSchema,
    HandlingTimeSchema,
    HandlingTimeUpdateSchema,
    SlaSettingsSchema,
)

SETTINGS_KEY = sla.SETTINGS_KEY
EVENT = "sla_settings_changed"
_DIFFICULTY_ORDER = {name: i for i, name in enumerate(DIFFICULTIES)}


class SettingsApi:
    """Expects ``self.db``, ``self.caller`` and ``self.enterprise`` (an
    ``RpcProxy("enterprise")``) from the service class."""

    db: Any
    caller: Any
    enterprise: Any

    # ------------------------------------------------------------------ settings

    @rpc
    def get_sla_settings(self) -> dict[str, Any]:
        """The SLA settings in force (staff): the stored ones over the defaults."""
        self.caller.principal.require(*STAFF_ROLES)
        with self.db.transaction() as session:
            return SlaSettingsSchema().dump({**sla.settings(session),
                                             "version": sla.settings_version(session)})

    @rpc
    def update_sla_settings(self, payload: dict[str, Any],
                            expected_version: Any = None) -> dict[str, Any]:
        """Replace the SLA settings (admin); they apply to deadlines scheduled from now on.
        The version last read (``expected_version``, or the body's ``version``) must still
        be current (412); a change bumps it."""
        principal = self.caller.principal.require(Role.ADMIN)
        data = load(SlaSettingsSchema(), payload)
        in_body = data.pop("version", None)
        expected = checked_version(expected_version)
        value = SlaSettingsSchema().dump(data)
        with self.db.transaction() as session:
            row = sla.locked_settings(session, in_body if expected is None else expected)
            previous = sla.settings(session)
            changed = sorted(k for k in value if previous.get(k) != value[k])
            row.value = value
            if changed:
                row.version += 1
            version = row.version
            events.publish(session, EVENT, {
                "actor": principal.user_id, "actor_role": str(principal.role),
                "what": "settings", "changed": changed,
                "previous": {k: previous.get(k) for k in changed},
                "settings": value,
            }, call_id=self.caller.call_id)
        return {**value, "version": version}

    # ------------------------------------------------------------------ handling times

    @rpc
    def list_handling_times(self) -> dict[str, Any]:
        """Every row of the handling-time table (staff): ``*`` first, then by category and
        difficulty (easy, normal, hard)."""
        self.caller.principal.require(*STAFF_ROLES)
        with self.db.transaction() as session:
            rows = session.scalars(select(HandlingTime)).all()
            items = sorted(rows, key=lambda r: (r.category != DEFAULT_CATEGORY, r.category,
                                                _DIFFICULTY_ORDER.get(r.difficulty, 99)))
            return HandlingTimeListSchema().dump({"items": items})

    @rpc
    def set_handling_time(self, category: str, difficulty: str,
                          payload: dict[str, Any]) -> dict[str, Any]:
        """Create or change one row (admin). ``category`` is ``*`` (the default) or a category
        of the enterprise service's table; ``difficulty`` one of :data:`DIFFICULTIES`."""
        principal = self.caller.principal.require(Role.ADMIN)
        key = load(HandlingTimeKeySchema(), {"category": category, "difficulty": difficulty})
        workdays = load(HandlingTimeUpdateSchema(), payload)["workdays"]
        if key["category"] != DEFAULT_CATEGORY:
            self._check_category(key["category"])
        with self.db.transaction() as session:
            previous = session.get(HandlingTime, (key["category"], key["difficulty"]),
                                   with_for_update=True)
            before = previous.workdays if previous is not None else None
            session.execute(
                insert(HandlingTime).values(workdays=workdays, **key)
                .on_conflict_do_update(index_elements=[HandlingTime.category,
                                                       HandlingTime.difficulty],
                                       set_={"workdays": workdays})
            )
            events.publish(session, EVENT, {
                "actor": principal.user_id, "actor_role": str(principal.role),
                "what": "handling_time", **key, "workdays": workdays,
                "previous_workdays": before,
            }, call_id=self.caller.call_id)
            return HandlingTimeSchema().dump({**key, "workdays": workdays})

    @rpc
    def delete_handling_times(self, category: str) -> dict[str, Any]:
        """Remove a category's own rows (admin), so that the ``*`` rows apply to it again;
        the ``*`` rows cannot be removed (Conflict). The removed rows
        (``HandlingTimeListSchema``)."""
        principal = self.caller.principal.require(Role.ADMIN)
        if category == DEFAULT_CATEGORY:
            raise Conflict("the default (*) handling times cannot be deleted; change them",
                           code="handling_time.default_kept")
        with self.db.transaction() as session:
            removed = session.scalars(
                delete(HandlingTime).where(HandlingTime.category == category)
                .returning(HandlingTime)
            ).all()
            if not removed:
                raise NotFound("no handling times for category {category}",
                               code="handling_time.not_found", params={"category": category})
            items = HandlingTimeSchema().dump(removed, many=True)
            events.publish(session, EVENT, {
                "actor": principal.user_id, "actor_role": str(principal.role),
                "what": "handling_time_deleted", "category": category,
                "removed": {item["difficulty"]: item["workdays"] for item in items},
            }, call_id=self.caller.call_id)
            return {"items": items}

    def _check_category(self, category: str) -> None:
        """A row for a category nobody triages to would never apply: 422."""
        known = remote.call(self.enterprise.category_table)
        if category not in known:
            raise ValidationFailed("unknown category {category}", {"category": [field_error(
                "category.not_found", "not a category of the zone's table")]},
                code="category.not_found", params={"category": category})
