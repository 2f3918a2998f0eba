"""RPC entrypoints of intake (信息收集): a demand submitted, read or listed
(:mod:`services.ticketing.intake`), and batched intake: the gateway coalesces demand
submissions that arrive while others are in flight into one call, answered item by item.

One batched call does the work of many: one nameko round trip, one registry call, one transaction (a
savepoint per demand, so one refused demand does not take the others with it) and one commit.
Each item carries its caller's token and is authorised on its own, exactly as
``submit_demand`` would authorise it; the call itself carries no identity.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nameko.exceptions import serialize

from common import remote
from common.auth import Principal, Role
from common.calendar import SHANGHAI
from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import rpc
from common.errors import DomainError, NotFound, ValidationFailed, field_error
from common.validation import load
from services.ticketing import intake, sla
from services.ticketing.api import lookup
from services.ticketing.calendar_years import CalendarCache
from services.ticketing.schemas import (
    DemandCreateSchema,
    DemandListQuerySchema,
    DemandSchema,
    PendingDeadlineSchema,
)

log = logging.getLogger(__name__)

demand_schema = DemandSchema()
create_schema = DemandCreateSchema()
#: the most submissions one call may carry
MAX_BATCH = 64


@dataclass
class Submission:
    """One item of a batch, as it moves through the steps."""

    token: Any
    payload: Any
    idempotency_key: str | None
    call_id: str | None
    principal: Principal | None = None
    data: dict[str, Any] = field(default_factory=dict)
    enterprise: dict[str, Any] | None = None
    answer: dict[str, Any] | None = None  # {"result": ...} or {"error": ...} once settled

    def fail(self, exc: BaseException) -> None:
        self.answer = {"result": None, "error": serialize(exc)}

    def succeed(self, result: Any) -> None:
        self.answer = {"result": result, "error": None}


def _submission(item: Any) -> Submission:
    if not isinstance(item, dict):
        item = {}
    key, call_id = item.get("idempotency_key"), item.get("call_id")
    return Submission(
        token=item.get("token"), payload=item.get("payload"),
        idempotency_key=key if isinstance(key, str) and key else None,
        call_id=call_id if isinstance(call_id, str) else None,
    )


def _name_kinds(principal: Principal) -> frozenset[str] | None:
    """Enterprises read departments, grids and enterprises by name, staff people too."""
    return lookup.PUBLIC_KINDS if principal.role == Role.ENTERPRISE else None


class IntakeApi:
    """Expects ``self.db``, ``self.caller``, ``self.calendar`` and ``self.enterprise`` (an
    ``RpcProxy("enterprise")``) from the service class."""

    db: WorkerDatabase
    caller: CallerContext
    calendar: CalendarCache
    enterprise: Any

    @rpc
    def submit_demand(self, payload: dict[str, Any], idempotency_key: str | None = None) -> dict:
        principal = self.caller.principal
        data = load(DemandCreateSchema(), payload)
        enterprise_id = intake.resolve_enterprise(principal, data.get("enterprise_id"),
                                                  data.get("channel"))
        data["enterprise_id"] = enterprise_id
        if idempotency_key:  # a retry is answered even while the registry is unreachable
            with self.db.transaction() as session:
                existing = intake.find_by_key(session, principal, idempotency_key)
                if existing is not None:
                    same = intake.same_request(existing, intake.request_hash(data))
                    return {"demand": demand_schema.dump(same), "created": False}
        enterprise = intake.check_enterprise(self._enterprise_seen_by_caller(enterprise_id))
        with self.db.transaction() as session:
            calendar = self.calendar.get(session, lock=True)
            demand, created = intake.submit(
                session, principal, data, idempotency_key, calendar, self.caller.call_id,
                enterprise=enterprise,
            )
            result = demand_schema.dump(demand)
        return {"demand": result, "created": created}

    def _enterprise_seen_by_caller(self, enterprise_id: str) -> dict | None:
        """The registry's record, looked up with the caller's own token (its scope)."""
        try:
            return remote.call(self.enterprise.get_enterprise, enterprise_id)
        except NotFound:
            return None

    @rpc
    def get_demand(self, demand_id: str) -> dict:
        principal = self.caller.principal
        with self.db.transaction() as session:
            found = intake.get_visible(session, principal, demand_id)
            demand = demand_schema.dump(found)
            demand["deadlines"] = PendingDeadlineSchema(many=True).dump(
                sla.pending(session, found.id))
        return lookup.named(self, [demand], kinds=_name_kinds(principal))[0]

    @rpc
    def list_demands(self, query: dict[str, Any]) -> dict:
        principal = self.caller.principal
        filters = load(DemandListQuerySchema(), query)
        ids = lookup.enterprise_ids(self, filters)
        with self.db.transaction() as session:
            rows, total, capped = intake.list_visible(session, principal, filters,
                                                      enterprise_ids=ids)
            items = demand_schema.dump(rows, many=True)
        return {
            "items": lookup.named(self, items, kinds=_name_kinds(principal)),
            "total": total,
            "total_capped": capped,
            "page": filters["page"],
            "per_page": filters["per_page"],
        }

    @rpc
    def submit_demands(self, items: list[Any]) -> list[dict[str, Any]]:
        """Several ``submit_demand`` calls in one: ``items`` of ``{token, payload,
        idempotency_key, call_id}``; the answers in the same order, each ``{"result":
        {"demand", "created"}, "error": null}`` or ``{"result": null, "error": {exc_type,
        exc_path, exc_args, value}}`` (nameko's error shape)."""
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
            raise ValidationFailed(
                "items must be a list of 1 to {max} submissions",
                {"items": [field_error("demand.batch_size", "1 to {max} submissions",
                                       max=MAX_BATCH)]},
                code="demand.batch_size", params={"max": MAX_BATCH})
        batch = [_submission(item) for item in items]
        for submission in batch:
            self._check(submission)
        self._answer_replays([s for s in batch if s.answer is None and s.idempotency_key])
        self._look_up_enterprises([s for s in batch if s.answer is None])
        self._record([s for s in batch if s.answer is None])
        return [s.answer for s in batch if s.answer is not None]

    def _check(self, submission: Submission) -> None:
        try:
            submission.principal = self.caller.principal_of(submission.token)
            data = load(create_schema, submission.payload)
            data["enterprise_id"] = intake.resolve_enterprise(
                submission.principal, data.get("enterprise_id"), data.get("channel"))
            submission.data = data
        except DomainError as exc:
            submission.fail(exc)

    def _answer_replays(self, keyed: list[Submission]) -> None:
        """A retry is answered even while the registry is unreachable."""
        if not keyed:
            return
        with self.db.transaction() as session:
            found = intake.find_by_keys(session, [(s.principal.user_id, s.idempotency_key)
                                                  for s in keyed if s.principal is not None])
            for submission in keyed:
                assert submission.principal is not None and submission.idempotency_key
                existing = found.get((submission.principal.user_id, submission.idempotency_key))
                if existing is None:
                    continue
                try:
                    same = intake.same_request(existing, intake.request_hash(submission.data))
                except DomainError as exc:
                    submission.fail(exc)
                    continue
                submission.succeed({"demand": demand_schema.dump(same), "created": False})

    def _look_up_enterprises(self, pending: list[Submission]) -> None:
        """One registry call for the batch, each enterprise looked up with its caller's token
        (the registry applies that caller's scope)."""
        if not pending:
            return
        requests = [{"token": s.token, "enterprise_id": s.data["enterprise_id"]}
                    for s in pending]
        try:
            found = remote.call(self.enterprise.intake_enterprises, requests)
        except DomainError as exc:  # the registry is unreachable: these demands cannot be taken
            for submission in pending:
                submission.fail(exc)
            return
        for submission, enterprise in zip(pending, found, strict=True):
            try:
                submission.enterprise = intake.check_enterprise(enterprise)
            except DomainError as exc:
                submission.fail(exc)

    def _record(self, pending: list[Submission]) -> None:
        if not pending:
            return
        now = datetime.now(UTC)  # the batch is received at one moment
        with self.db.transaction() as session:
            calendar = self.calendar.get(session, lock=True)
            numbers = intake.next_numbers(session, now.astimezone(SHANGHAI), len(pending))
            batch = []
            for submission, number in zip(pending, numbers, strict=True):
                assert submission.principal is not None
                batch.append(intake.NewDemand(submission.principal, submission.data,
                                              submission.idempotency_key,
                                              submission.enterprise, number))
            # the events carry this worker's call id, as submit_demand's do
            recorded = intake.submit_batch(session, batch, calendar, self.caller.call_id, now)
        for submission, answer in zip(pending, recorded, strict=True):
            if isinstance(answer, DomainError):
                submission.fail(answer)
                continue
            demand, created = answer
            submission.succeed({"demand": demand_schema.dump(demand), "created": created})
            # the gateway's id of each request, tied to this worker's (its lines and events)
            log.info("demand %s recorded", demand.number,
                     extra={"request_call_id": submission.call_id, "demand_id": demand.id,
                            "new_demand": created})
