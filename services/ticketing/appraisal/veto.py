"""一票否决: the integrity veto of a subject for a year (set or lifted by the leaders), and
the vetoes in force."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from common.errors import NotFound
from common.i18n import label
from services.ticketing.models import (
    AppraisalVeto,
)

# =========================================================================== 一票否决


def set_veto(session: Session, principal: Principal, data: Mapping[str, Any],
             now: datetime | None = None) -> tuple[AppraisalVeto, bool]:
    """Set (``vetoed``) or lift the integrity veto of a subject for a year (admins); returns
    (the row, whether it changed). Lifting keeps the row with who lifted it, when and why;
    lifting a veto that was never set is NotFound."""
    principal.require(Role.ADMIN)
    moment = now or datetime.now(UTC)
    key = (data["subject"], data["subject_id"], data["year"])
    row = session.get(AppraisalVeto, key, with_for_update=True)
    if data["vetoed"]:
        if row is None:
            row = AppraisalVeto(subject=key[0], subject_id=key[1], year=key[2])
            session.add(row)
        row.active, row.reason = True, data["reason"]
        row.recorded_by, row.recorded_at = principal.user_id, moment
        row.lifted_by = row.lifted_at = row.lift_reason = None
        session.flush()
        return row, True
    if row is None:
        raise NotFound("no veto of {subject} {subject_id} for {year}", code="veto.not_found",
                       params={"subject": label("appraisal_subject", key[0]),
                               "subject_id": key[1], "year": key[2]})
    if not row.active:
        return row, False
    row.active = False
    row.lifted_by, row.lifted_at, row.lift_reason = principal.user_id, moment, data["reason"]
    session.flush()
    return row, True


def vetoes(session: Session, year: int | None = None) -> list[AppraisalVeto]:
    query = select(AppraisalVeto)
    if year is not None:
        query = query.where(AppraisalVeto.year == year)
    return list(session.execute(query.order_by(
        AppraisalVeto.year.desc(), AppraisalVeto.subject, AppraisalVeto.subject_id)).scalars())
