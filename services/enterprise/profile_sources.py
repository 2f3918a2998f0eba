"""Which source's value a profile shows (企业画像的数据来源优先级).

Every value keeps its source and date (``enterprise.profile_values``: the history shows them
all). The value shown for a year and indicator is chosen by the precedence of its source, an
admin-editable table (``enterprise.settings`` key ``profile_source_precedence``); within one
source the newer value wins. Default, after the plan: business registration and tax (工商、
税务登记) > third-party data (第三方) > joint admission review (联合准入审查) > project
applications > grid worker (网格员) > the enterprise's self-report (企业自报) > bulk import.

Plain functions; the rank is one SQL expression, so every query that picks "the" value of a
profile (lists, filters, sums, the profile itself) picks the same one.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import literal_column
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from common.errors import Forbidden, ValidationFailed, field_error
from services.enterprise.models import ProfileValue, Setting

KEY = "profile_source_precedence"
DEFAULT = ("registration", "third_party", "joint_review", "project_application", "grid_worker",
           "self_report", "import")

_DEFAULT_JSON = json.dumps(list(DEFAULT))


def rank() -> Any:
    """The precedence rank of ``profile_values.source`` (1 first; unknown sources last), read
    from the settings in the same statement."""
    return literal_column(
        "COALESCE((SELECT t.ord FROM jsonb_array_elements_text(COALESCE(("
        "SELECT s.value->'order' FROM enterprise.settings s "
        f"WHERE s.key = '{KEY}'), '{_DEFAULT_JSON}'::jsonb)) WITH ORDINALITY AS t(src, ord) "
        "WHERE t.src = enterprise.profile_values.source), 99)")


def order() -> tuple[Any, ...]:
    """ORDER BY terms choosing the shown value: precedence, then the newest."""
    return (rank(), ProfileValue.entered_at.desc(), ProfileValue.id.desc())


def precedence(session: Session) -> dict[str, Any]:
    found = session.get(Setting, KEY)
    listed = list(found.value.get("order", DEFAULT)) if found is not None else list(DEFAULT)
    return {"order": listed, "version": found.version if found is not None else 0}


def set_precedence(session: Session, principal: Principal, order_: list[str],
                   sources: tuple[str, ...]) -> dict[str, Any]:
    """Admins reorder the sources; every source once."""
    if principal.role != Role.ADMIN:
        raise Forbidden("only an admin changes the profile sources' precedence",
                        code="profile.precedence_forbidden")
    if sorted(order_) != sorted(sources):
        raise ValidationFailed("list every profile source exactly once", {"order": [field_error(
            "profile.precedence_incomplete", "every source exactly once")]},
            code="profile.precedence_incomplete")
    found = session.get(Setting, KEY, with_for_update=True)
    if found is None:
        session.add(Setting(key=KEY, value={"order": order_}, version=1))
    else:
        found.value = {"order": order_}
        found.version += 1
    session.flush()
    return precedence(session)
