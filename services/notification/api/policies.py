"""RPC entrypoints of policy publishing (政策发布); the rules are in
:mod:`services.notification.policies`.

The registry is asked with the caller's own token (it travels with the call): the issuing
department's name (``enterprise.get_department``) and the audience (目标企业,
``enterprise.resolve_audience``), which the registry validates, normalises and resolves to its
in-scope enterprises.
"""

from __future__ import annotations

from typing import Any

from common import remote
from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import rpc
from common.errors import NotFound, ValidationFailed, field_error
from common.i18n import phrase
from common.validation import load
from services.notification import policies
from services.notification.metrics import PUBLISHED, REACHED, READS
from services.notification.schemas import (
    AudiencePreviewSchema,
    PolicyCreateSchema,
    PolicyPageSchema,
    PolicyQuerySchema,
    PolicyReachSchema,
    PolicyReceiptPageSchema,
    PolicyReceiptQuerySchema,
    PolicySchema,
    PolicyUpdateSchema,
    PolicyWithdrawSchema,
)

#: seconds the registry may take to resolve an audience (1,200 enterprises take well under 1 s)
RESOLVE_TIMEOUT_SECONDS = 30.0

def _invalid_audience(exc: ValidationFailed) -> ValidationFailed:
    """The registry's refusal of an audience, under ``audience`` (audience.grid_ids ...)."""
    return ValidationFailed("invalid audience: {reason}",
                            {"audience": exc.errors or [field_error(exc.code, exc.detail,
                                                                    **exc.params)]},
                            code="audience.invalid",
                            params={"reason": phrase(exc.detail, exc.params)})


class PoliciesApi:
    """Expects ``self.db``, ``self.caller`` and ``self.enterprise`` from the service class."""

    db: WorkerDatabase
    caller: CallerContext
    enterprise: Any

    # registry look-ups (as the caller) ---------------------------------------------------

    def _department_name(self, department_id: str) -> str:
        try:
            return remote.call(self.enterprise.get_department, department_id)["name"]
        except NotFound as exc:
            raise ValidationFailed("no such department", {"department_id": [field_error(
                "department.not_found", "no such department")]},
                code="department.not_found") from exc

    def _resolve(self, audience: dict[str, Any], details: bool = False) -> dict[str, Any]:
        try:
            return remote.call(self.enterprise.resolve_audience, audience, details=details,
                               timeout=RESOLVE_TIMEOUT_SECONDS)
        except ValidationFailed as exc:
            raise _invalid_audience(exc) from exc

    def _dump(self, policy: Any, read_at: Any = None) -> dict[str, Any]:
        return PolicySchema().dump(policies.as_dict(policy) | {"read_at": read_at})

    # writing -------------------------------------------------------------------------------

    @rpc
    def create_policy(self, payload: Any) -> dict[str, Any]:
        """A new draft policy (政策) or notice (通知)."""
        principal = self.caller.principal
        policies.require_writer(principal)
        data = load(PolicyCreateSchema(), payload)
        department_id = policies.issuing_department(principal, data.get("department_id"))
        name = self._department_name(department_id)
        data["audience"] = self._resolve(data["audience"])["audience"]
        with self.db.transaction() as session:
            return self._dump(policies.create(session, principal, data, department_id, name))

    @rpc
    def update_policy(self, policy_id: str, payload: Any) -> dict[str, Any]:
        """Change a draft; ``version`` (If-Match) guards against a stale write (412)."""
        principal = self.caller.principal
        policies.require_writer(principal)
        data = load(PolicyUpdateSchema(), payload)
        with self.db.transaction() as session:  # 404/403/409 before asking the registry
            policies.writable(session, principal, policy_id)
        department = None
        if "department_id" in data:
            department_id = policies.issuing_department(principal, data.pop("department_id"))
            department = (department_id, self._department_name(department_id))
        if "audience" in data:
            data["audience"] = self._resolve(data["audience"])["audience"]
        with self.db.transaction() as session:
            return self._dump(policies.update(session, principal, policy_id, data, department))

    @rpc
    def publish_policy(self, policy_id: str, expected_version: int | None = None
                       ) -> dict[str, Any]:
        """发布: resolve the audience now, keep the snapshot, one inbox message per enterprise.
        Publishing a published policy again answers it unchanged (nothing sent twice)."""
        principal = self.caller.principal
        with self.db.transaction() as session:
            policy = policies.check_publishable(session, principal, policy_id, expected_version)
            if policy.status == "published":
                return self._dump(policy)
            seen_version, audience = policy.version, dict(policy.audience)
        members = self._resolve(audience, details=True)["enterprises"]
        with self.db.transaction() as session:
            policy, delivered = policies.publish(
                session, principal, policy_id, seen_version, members, self.caller.call_id)
            kind, result = policy.kind, self._dump(policy)
        if delivered is not None:
            PUBLISHED.labels(kind).inc()
            REACHED.labels(kind).inc(delivered)
        return result

    @rpc
    def withdraw_policy(self, policy_id: str, payload: Any,
                        expected_version: int | None = None) -> dict[str, Any]:
        """撤回 a published policy; the enterprises that received it are told why."""
        principal = self.caller.principal
        data = load(PolicyWithdrawSchema(), payload)
        with self.db.transaction() as session:
            policy, _ = policies.withdraw(session, principal, policy_id, data["reason"],
                                          expected_version, self.caller.call_id)
            return self._dump(policy)

    # reading -------------------------------------------------------------------------------

    @rpc
    def list_policies(self, query: Any) -> dict[str, Any]:
        """Enterprises: the published policies addressed to them; staff: all they may see."""
        principal = self.caller.principal
        parsed = load(PolicyQuerySchema(), query)
        with self.db.transaction() as session:
            return PolicyPageSchema().dump(policies.page(session, principal, parsed))

    @rpc
    def get_policy(self, policy_id: str) -> dict[str, Any]:
        """One policy; an enterprise user opening it leaves its enterprise's read receipt."""
        principal = self.caller.principal
        with self.db.transaction() as session:
            data, first = policies.get(session, principal, policy_id)
        if first:
            READS.labels(data["kind"]).inc()
        return PolicySchema().dump(data)

    @rpc
    def policy_reach(self, policy_id: str) -> dict[str, Any]:
        """触达统计 (issuing department, coordinators, leaders, admins)."""
        principal = self.caller.principal
        with self.db.transaction() as session:
            return PolicyReachSchema().dump(policies.reach(session, principal, policy_id))

    @rpc
    def policy_receipts(self, policy_id: str, query: Any) -> dict[str, Any]:
        """已读回执 of every enterprise in the audience snapshot."""
        principal = self.caller.principal
        parsed = load(PolicyReceiptQuerySchema(), query)
        with self.db.transaction() as session:
            return PolicyReceiptPageSchema().dump(
                policies.receipts(session, principal, policy_id, parsed))

    @rpc
    def preview_audience(self, spec: Any) -> dict[str, Any]:
        """How many in-scope enterprises an audience names now (before publishing)."""
        policies.require_writer(self.caller.principal)
        if not isinstance(spec, dict):
            raise ValidationFailed("the audience must be a JSON object", {"_schema": [
                field_error("request.not_object", "not an object")]},
                code="audience.not_object")
        try:  # counted by the registry: the members themselves never travel
            found = remote.call(self.enterprise.audience_summary, spec,
                                timeout=RESOLVE_TIMEOUT_SECONDS)
        except ValidationFailed as exc:
            raise ValidationFailed(exc.detail, exc.errors, code=exc.code,
                                   params=exc.params) from exc
        return AudiencePreviewSchema().dump(found)
