"""RPC entrypoints: projects under construction (在建项目), their milestones, and the sweep that
tells the responsible department about delays."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from nameko.timer import timer
from prometheus_client import Counter

from common.auth import Role
from common.concurrency import expected_version as checked_version
from common.config import seconds_from_env
from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import rpc
from common.errors import field_error, invalid_fields
from common.validation import load
from services.enterprise.api.contracts import parse_day
from services.enterprise.contracts import today_in_shanghai
from services.enterprise.zone import access, projects
from services.enterprise.zone.schemas import (
    MilestoneSetSchema,
    ProjectCreateSchema,
    ProjectQuerySchema,
    ProjectSchema,
    ProjectSweepSchema,
    ProjectUpdateSchema,
)

log = logging.getLogger(__name__)


def sweep_interval(environ: Mapping[str, str] = os.environ) -> float:
    """Seconds between delay sweeps: ``PROJECT_SWEEP_SECONDS``, default 60."""
    return seconds_from_env("PROJECT_SWEEP_SECONDS", 60, dict(environ))


SWEEP_SECONDS = sweep_interval()
DELAYS = Counter("gridsvc_project_delays_total",
                 "Milestones found past their planned day and told to the department")
SWEEP_FAILURES = Counter("gridsvc_project_sweep_failures_total",
                         "Project delay sweeps that failed (retried next tick)")


def _expected(payload_version: Any, header_version: Any) -> int | None:
    expected = checked_version(header_version)
    return payload_version if expected is None else expected


class ProjectsApi:
    db: WorkerDatabase
    caller: CallerContext

    @rpc
    def list_projects(self, query: dict[str, Any]) -> dict[str, Any]:
        access.check_reader(self.caller.principal)
        q = load(ProjectQuerySchema(), query)
        with self.db.transaction() as session:
            page = projects.listing(session, self.caller.principal, q, today_in_shanghai())
        return {**page, "items": ProjectSchema(many=True).dump(page["items"])}

    @rpc
    def get_project(self, project_id: str) -> dict[str, Any]:
        with self.db.transaction() as session:
            return ProjectSchema().dump(projects.show(session, self.caller.principal,
                                                      project_id, today_in_shanghai()))

    @rpc
    def create_project(self, payload: dict[str, Any]) -> dict[str, Any]:
        principal = access.check_editor(self.caller.principal, access.EDITORS |
                                        access.PROJECT_DEPARTMENT_ROLES)
        data = load(ProjectCreateSchema(), payload)
        with self.db.transaction() as session:
            return ProjectSchema().dump(projects.create(
                session, principal, data, today_in_shanghai(), self.caller.call_id,
                self.caller.language))

    @rpc
    def update_project(self, project_id: str, payload: dict[str, Any],
                       expected_version: Any = None) -> dict[str, Any]:
        principal = access.check_editor(self.caller.principal, access.EDITORS |
                                        access.PROJECT_DEPARTMENT_ROLES)
        data = load(ProjectUpdateSchema(), payload)
        expected = _expected(data.pop("version", None), expected_version)
        with self.db.transaction() as session:
            return ProjectSchema().dump(projects.update(
                session, principal, project_id, data, expected, today_in_shanghai()))

    @rpc
    def record_milestone(self, project_id: str, milestone: str, payload: dict[str, Any],
                         expected_version: Any = None) -> dict[str, Any]:
        """Plan or record a milestone; recording production brings the investor into
        scope."""
        principal = access.check_editor(self.caller.principal, access.EDITORS |
                                        access.PROJECT_DEPARTMENT_ROLES)
        data = load(MilestoneSetSchema(), payload)
        expected = _expected(data.pop("version", None), expected_version)
        with self.db.transaction() as session:
            return ProjectSchema().dump(projects.record_milestone(
                session, principal, project_id, milestone, data, today_in_shanghai(),
                expected, self.caller.call_id, self.caller.language))

    @rpc
    def sweep_project_delays(self, today: str | None = None) -> dict[str, Any]:
        """Run the delay sweep now (admins; for tests and operations); ``today`` may not be
        later than today in Asia/Shanghai."""
        self.caller.principal.require(Role.ADMIN)
        actual = today_in_shanghai()
        day = actual if today is None else parse_day(today)
        if day > actual:
            raise invalid_fields({"today": [field_error(
                "zone.date_in_future", "may not lie in the future")]},
                code="zone.date_in_future")
        flagged = projects.sweep(self.db.transaction, day)
        DELAYS.inc(flagged)
        return ProjectSweepSchema().dump({"today": day, "flagged": flagged})

    @timer(interval=SWEEP_SECONDS)
    def project_sweep_tick(self) -> None:
        """Every replica sweeps; SKIP LOCKED keeps each delay told once. Never raises."""
        try:
            flagged = projects.sweep(self.db.transaction, today_in_shanghai())
            if flagged:
                DELAYS.inc(flagged)
                log.info("project sweep: %s delayed milestones told", flagged)
        except Exception:
            SWEEP_FAILURES.inc()
            log.exception("project delay sweep failed; retrying on the next tick")
