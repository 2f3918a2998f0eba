"""RPC entrypoints of ticketing: the appraisal (考评) of a period and its XLSX export, the
yearly score with the integrity veto (一票否决), the settings admins configure, the leaders'
overview (总览) and the yearly awards of outstanding grids (评优).

The rules live in :mod:`services.ticketing.appraisal` and :mod:`services.ticketing.overview`.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from common import remote, xlsx
from common.auth import Role
from common.concurrency import expected_version as checked_version
from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import rpc
from common.errors import DomainError, NotFound, ValidationFailed, field_error
from common.i18n import label
from common.validation import load
from services.ticketing import appraisal, environment, events, overview, snapshots
from services.ticketing.calendar_years import CalendarCache
from services.ticketing.schemas import (
    APPRAISAL_SUBJECTS,
    AppraisalQuerySchema,
    AppraisalSchema,
    AppraisalSettingsSchema,
    AppraisalYearQuerySchema,
    AwardsQuerySchema,
    AwardsSchema,
    BusinessEnvironmentQuerySchema,
    BusinessEnvironmentSchema,
    OverviewQuerySchema,
    VetoListSchema,
    VetoQuerySchema,
    VetoSchema,
    VetoSetSchema,
    YearlySchema,
)

SETTINGS_EVENT = "appraisal_settings_changed"
VETO_EVENT = "appraisal_veto_changed"
SUBJECT_LABEL = {"grid_workers": "网格员", "grids": "网格", "liaisons": "联络员",
                 "departments": "部门"}
#: (field, header) of the period sheet
PERIOD_COLUMNS: tuple[tuple[str, str], ...] = (
    ("handled", "服务数量"), ("demands", "诉求数"), ("tasks", "任务数"), ("closed", "已销号"),
    ("triage_on_time_rate", "分理及时率"), ("acceptance_on_time_rate", "受理及时率"),
    ("response_rate", "响应率"), ("handling_on_time_rate", "办理及时率"),
    ("resolution_rate", "解决率"), ("satisfaction_rate", "满意率"),
    ("avg_efficiency", "办理效率均分"), ("avg_attitude", "服务态度均分"),
    ("avg_quality", "办理结果均分"), ("unrated_share", "未评价占比"),
    ("reopen_rate", "重新办理率"), ("ratings", "评价数"), ("returned", "退回"),
    ("timed_out", "受理超时"),
)
YEARLY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("rank", "排名"), ("score", "年度得分"), ("quantity_score", "数量得分"),
    ("quality_score", "质量得分"), ("difficulty_score", "难度得分"), ("handled", "服务数量"),
    ("satisfaction_rate", "满意率"), ("avg_difficulty", "平均难度"), ("vetoed", "一票否决"),
    ("veto_reason", "否决原因"),
)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(item) for item in value)
    return value


def _sheet(kind: str, rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]],
           title: str, names: dict[str, dict[str, str]]) -> str:
    """One row per subject, named (its id only when the registry does not know it)."""
    own_grids = kind != "grids"  # (a grid's row is its grid already)
    header = [SUBJECT_LABEL[kind], "所属部门", *(["网格"] if own_grids else []),
              *[label for _, label in columns]]
    departments, grids = names.get("departments", {}), names.get("grids", {})
    body = [[row.get("name") or row["subject_id"],
             departments.get(row.get("department_id") or "", row.get("department_id")),
             *([[grids.get(g, g) for g in row.get("grid_ids") or ()]] if own_grids else []),
             *[row.get(field) for field, _ in columns]] for row in rows]
    content = xlsx.write_xlsx(header, body, title, convert=_cell)
    return base64.b64encode(content).decode("ascii")


def _subject(kind: str) -> str:
    if kind not in APPRAISAL_SUBJECTS:
        raise NotFound("no appraisal of {subject}", code="appraisal.not_found",
                       params={"subject": repr(kind)})
    return kind


class AppraisalApi:
    """Needs ``db``, ``caller``, ``calendar`` and ``enterprise`` (an ``RpcProxy``) from the
    service class."""

    db: WorkerDatabase
    caller: CallerContext
    calendar: CalendarCache
    enterprise: Any

    # ------------------------------------------------------------------ names

    def _named(self, kind: str, rows: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
        """Give each row the ``name`` of its subject (a person, grid or department) from the
        registry, in place; the names asked, for the sheets. Without the registry the rows
        keep ``name: null`` rather than failing the appraisal."""
        people = [r["subject_id"] for r in rows] if kind in ("grid_workers", "liaisons") else []
        grids = {g for r in rows for g in r.get("grid_ids") or ()}
        departments = {r["department_id"] for r in rows if r.get("department_id")}
        if kind == "grids":
            grids |= {r["subject_id"] for r in rows}
        elif kind == "departments":
            departments |= {r["subject_id"] for r in rows}
        try:
            names = remote.call(self.enterprise.names, people, sorted(grids), sorted(departments))
        except DomainError:  # the registry is unavailable: the figures still answer, unnamed
            names = {}
        own = names.get({"grid_workers": "accounts", "liaisons": "accounts", "grids": "grids",
                         "departments": "departments"}[kind], {})
        for row in rows:
            row["name"] = own.get(row["subject_id"])
        return names

    # ------------------------------------------------------------------ a period

    def _period_rows(self, kind: str, query: dict[str, Any]) -> dict[str, Any]:
        principal = self.caller.principal
        appraisal.check_reader(principal, _subject(kind))
        data = load(AppraisalQuerySchema(), query)
        period = appraisal.Period(data["from_"], data["to"])
        with self.db.transaction() as session:
            as_of, rows = snapshots.read_appraisal(session, kind, period, force=data["refresh"])
        items = appraisal.public(appraisal.visible(principal, kind, rows))
        names = self._named(kind, items)
        return {"subject": kind, "from_": period.start, "to": period.end, "as_of": as_of,
                "items": items, "_names": names}

    @rpc
    def appraisal(self, subject: str, query: dict[str, Any]) -> dict[str, Any]:
        """考评 of ``subject`` (grid_workers, grids, liaisons, departments) for the demands
        received in a period (``AppraisalQuerySchema``), scoped to the caller; kept at
        province scale (:func:`services.ticketing.snapshots.read_appraisal`)."""
        return AppraisalSchema().dump(self._period_rows(subject, query))

    @rpc
    def export_appraisal(self, subject: str, query: dict[str, Any]) -> str:
        """The same as a base64 XLSX workbook."""
        result = self._period_rows(subject, query)
        title = f"考评 {result['from_']:%Y%m%d}-{result['to']:%Y%m%d}"
        return _sheet(subject, result["items"], PERIOD_COLUMNS, title, result["_names"])

    # ------------------------------------------------------------------ yearly

    def _yearly(self, query: dict[str, Any]) -> dict[str, Any]:
        principal = self.caller.principal
        data = load(AppraisalYearQuerySchema(), query)
        kind, year = data["subject"], data["year"]
        appraisal.check_reader(principal, kind)
        with self.db.transaction() as session:
            config = appraisal.settings(session)
            as_of, kept = snapshots.read_appraisal(session, kind, appraisal.Period.year(year))
            rows = appraisal.yearly(session, kind, year, config=config, rows=kept)
        items = appraisal.visible(principal, kind, rows)
        names = self._named(kind, items)
        return {"subject": kind, "year": year, "weights": config["weights"], "as_of": as_of,
                "items": items, "_names": names}

    @rpc
    def appraisal_yearly(self, query: dict[str, Any]) -> dict[str, Any]:
        """年度考核得分 and ranking of a kind of subject for a year, scoped to the caller (the
        scores and ranks are computed over every subject of the kind)."""
        return YearlySchema().dump(self._yearly(query))

    @rpc
    def export_appraisal_yearly(self, query: dict[str, Any]) -> str:
        result = self._yearly(query)
        return _sheet(result["subject"], result["items"], YEARLY_COLUMNS,
                      f"年度考核 {result['year']}", result["_names"])

    # ------------------------------------------------------------------ settings

    @rpc
    def get_appraisal_settings(self) -> dict[str, Any]:
        """The settings in force (whoever reads the appraisal)."""
        appraisal.check_reader(self.caller.principal)
        with self.db.transaction() as session:
            return AppraisalSettingsSchema().dump(
                {**appraisal.settings(session), "version": appraisal.settings_version(session)})

    @rpc
    def update_appraisal_settings(self, payload: dict[str, Any],
                                  expected_version: Any = None) -> dict[str, Any]:
        """Replace the settings (admin); announced as ``appraisal_settings_changed``. The
        version last read (``expected_version``, or the body's ``version``) must still be
        current (412); a change bumps it."""
        principal = self.caller.principal.require(Role.ADMIN)
        data = load(AppraisalSettingsSchema(), payload)
        in_body = data.pop("version", None)
        expected = checked_version(expected_version)
        value = AppraisalSettingsSchema().dump(data)
        with self.db.transaction() as session:
            row = appraisal.locked_settings(session, principal.user_id,
                                            in_body if expected is None else expected)
            previous = appraisal.settings(session)
            changed = sorted(k for k in value if previous.get(k) != value[k])
            row.value, row.updated_by, row.updated_at = (value, principal.user_id,
                                                         datetime.now(UTC))
            if changed:
                row.version += 1
                snapshots.forget_appraisals(session)  # their points follow the settings
            version = row.version
            events.publish(session, SETTINGS_EVENT, {
                "actor": principal.user_id, "actor_role": str(principal.role),
                "changed": changed, "previous": {k: previous.get(k) for k in changed},
                "settings": value,
            }, call_id=self.caller.call_id)
        return {**value, "version": version}

    # ------------------------------------------------------------------ 一票否决

    @rpc
    def set_appraisal_veto(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Set or lift the integrity veto of a subject for a year (admin); announced as
        ``appraisal_veto_changed``. Grids and departments must exist in the registry."""
        principal = self.caller.principal.require(Role.ADMIN)
        data = load(VetoSetSchema(), payload)
        self._check_subject(data["subject"], data["subject_id"])
        with self.db.transaction() as session:
            row, changed = appraisal.set_veto(session, principal, data)
            result = VetoSchema().dump(row)
            if changed:
                events.publish(session, VETO_EVENT, {
                    "actor": principal.user_id, "actor_role": str(principal.role), **result,
                }, call_id=self.caller.call_id)
        return result

    def _check_subject(self, kind: str, subject_id: str) -> None:
        if kind == "departments":
            known = {d["id"] for d in remote.call(self.enterprise.list_departments)}
        elif kind == "grids":
            try:
                remote.call(self.enterprise.get_grid, subject_id)
            except NotFound:
                known = set()
            else:
                return
        else:
            return  # accounts: their ids are kept as they were recorded on the demands
        if subject_id not in known:
            raise ValidationFailed("no such subject {subject_id} among the {subject}",
                                   {"subject_id": [field_error("appraisal.unknown_subject",
                                                               "unknown")]},
                                   code="appraisal.unknown_subject",
                                   params={"subject_id": subject_id,
                                           "subject": label("appraisal_subject", kind)})

    @rpc
    def list_appraisal_vetoes(self, query: dict[str, Any]) -> dict[str, Any]:
        """Every veto (active and lifted), optionally of one year: leaders, coordinators,
        admins."""
        self.caller.principal.require(*appraisal.READ_ALL)
        data = load(VetoQuerySchema(), query)
        with self.db.transaction() as session:
            return VetoListSchema().dump({"items": appraisal.vetoes(session, data.get("year"))})

    # ------------------------------------------------------------------ overview, awards

    @rpc
    def overview(self, query: dict[str, Any]) -> dict[str, Any]:
        """领导总览 of a period, scoped to the caller: its kept answer while fresh
        (:mod:`services.ticketing.snapshots`)."""
        principal = self.caller.principal
        overview.scope(principal)  # Forbidden before validation tells anything
        data = load(OverviewQuerySchema(), query)
        with self.db.transaction() as session:
            return snapshots.read(session, principal,
                                  appraisal.Period(data["from_"], data["to"]),
                                  force=data["refresh"])

    @rpc
    def awards(self, query: dict[str, Any]) -> dict[str, Any]:
        """年终优秀奖励: the grids ranked by service score and their enterprises' growth in
        output value and tax (from the registry), the top ones awarded; scoped to the caller
        (the ranking is over every grid)."""
        principal = self.caller.principal
        appraisal.visible_awards(principal, [])  # Forbidden for roles without the right
        year = load(AwardsQuerySchema(), query)["year"]
        grids = remote.call(self.enterprise.grid_growth, year, timeout=15)
        with self.db.transaction() as session:
            config = appraisal.settings(session)
            _, kept = snapshots.read_appraisal(session, "grids", appraisal.Period.year(year))
            scores = appraisal.yearly(session, "grids", year, config=config, rows=kept)
        rows = appraisal.awards(scores, grids, config["awards"])
        return AwardsSchema().dump({"year": year, "criteria": config["awards"],
                                    "items": appraisal.visible_awards(principal, rows)})

    # ------------------------------------------------------------------ 营商环境

    @rpc
    def business_environment(self, query: dict[str, Any]) -> dict[str, Any]:
        """营商环境 of the zone resources module: the appraisal's response, resolution and
        satisfaction rates, average handling working days and escalations, by month of
        receipt, for the zone and (by the caller's reach) each department."""
        principal = self.caller.principal
        environment.check_reader(principal)  # Forbidden before validation tells anything
        data = load(BusinessEnvironmentQuerySchema(), query)
        names = {d["id"]: d["name"] for d in remote.call(self.enterprise.list_departments)}
        last = data["to"]
        with self.db.transaction() as session:
            calendar = self.calendar.get(session)
            result = environment.business_environment(
                session, principal, data["from_"], last, calendar, names, datetime.now(UTC))
        return BusinessEnvironmentSchema().dump(result)
