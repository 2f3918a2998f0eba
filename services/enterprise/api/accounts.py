"""RPC entrypoints of the registry: accounts (账号) and sign-in (登录).

The rules live in :mod:`services.enterprise.accounts`; here: who calls, validation, and the
transaction. Sign-in and password changes commit the recorded attempt before raising, so a
failed attempt counts even though the caller gets an error.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from common.auth import Role
from common.config import load_settings
from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import rpc
from common.validation import load
from services.enterprise import accounts
from services.enterprise.schemas import AccountQuerySchema, LoginSchema


def _client(client: Any) -> str | None:
    """The caller's address as the gateway saw it; anything else is ignored."""
    return client[:64] if isinstance(client, str) and client else None


class AccountsApi:
    """Expects ``self.db`` and ``self.caller`` from the service class."""

    db: WorkerDatabase
    caller: CallerContext

    @rpc
    def login(self, username: Any, password: Any, client: Any = None) -> dict[str, Any]:
        """登录: ``TokenSchema`` for the right username and password; no token needed."""
        data = load(LoginSchema(), {"username": username, "password": password})
        with self.db.transaction() as session:
            outcome = accounts.login(session, data["username"], data["password"],
                                     _client(client), load_settings())
        return outcome.result()

    @rpc
    def change_password(self, payload: Any, client: Any = None) -> None:
        """修改密码: the caller's own, old password required."""
        principal = self.caller.principal
        with self.db.transaction() as session:
            outcome = accounts.change_password(session, principal, payload, _client(client),
                                               self.caller.call_id)
        return outcome.result()

    @rpc
    def create_account(self, payload: Any) -> dict[str, Any]:
        """管理员创建账号 (``AccountCreateSchema``)."""
        principal = self.caller.principal.require(Role.ADMIN)
        with self.db.transaction() as session:
            account = accounts.create_account(session, payload, principal.user_id,
                                              call_id=self.caller.call_id)
            return accounts.dump_one(session, account)

    @rpc
    def list_accounts(self, query: Any) -> dict[str, Any]:
        principal = self.caller.principal
        filters = load(AccountQuerySchema(), query)
        with self.db.transaction() as session:
            rows, total = accounts.list_accounts(session, principal, filters)
            return {"items": accounts.dump(session, rows), "total": total,
                    "page": filters["page"], "per_page": filters["per_page"]}

    @rpc
    def get_account(self, account_id: Any) -> dict[str, Any]:
        principal = self.caller.principal
        with self.db.transaction() as session:
            account = accounts.get_visible(session, principal, str(account_id))
            return accounts.dump_one(session, account)

    @rpc
    def update_account(self, account_id: Any, payload: Any) -> dict[str, Any]:
        principal = self.caller.principal.require(Role.ADMIN)
        with self.db.transaction() as session:
            account = accounts.update_account(session, principal, str(account_id), payload,
                                              self.caller.call_id)
            return accounts.dump_one(session, account)

    @rpc
    def token_revocations(self) -> list[dict[str, str]]:
        """For the gateway (its service identity): every account whose tokens issued before
        ``valid_after`` are refused, for the revocations within one token lifetime (older
        tokens have expired anyway). ``[{"account_id", "valid_after"}]``, ISO 8601."""
        self.caller.principal.require(Role.SERVICE)
        lifetime = timedelta(seconds=load_settings().token_ttl_seconds)
        with self.db.transaction() as session:
            return accounts.token_revocations(session, lifetime)
