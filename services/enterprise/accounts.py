"""People and accounts (人员与账号): passwords, sign-in (登录) with its rate limit, and account
management. Plain functions over a SQLAlchemy session, no broker: the service's entrypoints,
the demo loader and the tests call them directly.

Sign-in rules:

- passwords are stored as argon2id hashes; a hash made with older parameters is replaced on
  the next successful sign-in;
- a wrong username and a wrong password give the same 401 and take about the same time (an
  unknown username is verified against a dummy hash);
- every checked attempt is recorded in ``login_attempts``. An account's consecutive failures
  (since its last success, within :data:`ACCOUNT_MEMORY`) make the next attempt wait: none
  for the first :data:`FREE_FAILURES`, then :data:`FIRST_DELAY` doubling with each further
  failure up to :data:`MAX_DELAY`. :data:`MAX_FAILURES_PER_CLIENT` failures from one client
  address within :data:`FAILURE_WINDOW` make that address wait until the oldest leaves the
  window. An attempt during a wait is refused (429 with Retry-After) without its password
  being checked and **without being counted**, so an attacker cannot extend a wait: the right
  password after the current wait succeeds (issue 22, finding 3: five requests every 15
  minutes used to keep any account locked forever). The client address is the one the
  gateway trusts (``FORWARDED_ALLOW_IPS``: the ingress's range in Kubernetes, so behind it
  each person has their own address and a forged X-Forwarded-For changes nothing);
- attempts on one username are serialised with a transaction-scoped advisory lock, so parallel
  guesses cannot slip past the limit.

A failed attempt must be committed although the caller gets an error: the functions that
record attempts return an :class:`Outcome`; the entrypoint commits, then calls ``result()``.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import false, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.auth import Principal, Role, mint_token
from common.concurrency import expect_version
from common.config import Settings
from common.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthenticated,
    field_error,
    invalid_fields,
)
from common.i18n import N_, label
from common.pagination import paginate
from common.validation import is_uuid, load
from services.enterprise import events
from services.enterprise.models import Account, Department, Enterprise, GridStaff, LoginAttempt
from services.enterprise.schemas import (
    AccountCreateSchema,
    AccountSchema,
    AccountUpdateSchema,
    PasswordChangeSchema,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

#: consecutive failures of one account (since its last success) that cost no wait
FREE_FAILURES = 4
#: the failure after which an account's attempts first wait (kept for the docs and tests)
MAX_FAILURES_PER_USERNAME = FREE_FAILURES + 1
#: the wait after the first failure past FREE_FAILURES; each further failure doubles it
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(minutes=15)
#: an account's failures older than this (and any before its last success) no longer count
ACCOUNT_MEMORY = timedelta(hours=24)
#: failures from one client (IP address) within the window after which attempts are refused
MAX_FAILURES_PER_CLIENT = 20
FAILURE_WINDOW = timedelta(minutes=15)

#: argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): about 25 ms here and
#: a bounded amount of memory per concurrent sign-in. Raising them later is safe: old hashes
#: are rehashed on the next successful sign-in.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

WRONG_CREDENTIALS = N_("wrong username or password")
#: roles whose account must name an existing department (联络员, 部门负责人)
DEPARTMENT_ROLES = frozenset({Role.LIAISON, Role.DEPARTMENT_HEAD})
#: who reads every account
READ_ALL = frozenset({Role.ADMIN, Role.COORDINATOR})
#: advisory lock namespace (first key) for sign-in attempts on one username
_LOCK_NAMESPACE = 0x6C6F67  # "log"

account_schema = AccountSchema()


@dataclass(frozen=True)
class Outcome:
    """What an attempt came to: a value, or the error to raise once the attempt is committed."""

    value: Any = None
    error: DomainError | None = None

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


# --- passwords -------------------------------------------------------------------------------

#: argon2 hashes computed at once in this process (``ARGON2_CONCURRENCY``, default 2): each
#: takes 19 MiB while it runs, and 20 at once (one per worker) grew the enterprise process from
#: 114 to 439 MB (issue 19). More sign-ins wait their turn: a hash takes about 25 ms.
ARGON2_CONCURRENCY = max(1, int(os.environ.get("ARGON2_CONCURRENCY", "2") or 2))
_hashing: threading.BoundedSemaphore | None = None


def _hash_slot() -> threading.BoundedSemaphore:
    """Made on first use: under eventlet (monkey-patched threading) a green semaphore, so a
    waiting worker lets the others run."""
    global _hashing
    if _hashing is None:
        _hashing = threading.BoundedSemaphore(ARGON2_CONCURRENCY)
    return _hashing


def _off_hub(fn: Callable[..., T], *args: Any) -> T:
    """argon2 is CPU work in C: in an eventlet process run it in a real thread, so the other
    green threads (RPC workers, the outbox relay) keep going meanwhile; at most
    ``ARGON2_CONCURRENCY`` at once."""
    with _hash_slot():
        eventlet = sys.modules.get("eventlet")
        if eventlet is not None and eventlet.patcher.is_monkey_patched("thread"):
            from eventlet import tpool

            return tpool.execute(fn, *args)
        return fn(*args)


def hash_password(password: str) -> str:
    """The argon2id hash to store for ``password``."""
    return _off_hub(HASHER.hash, password)


def verify_password(password_hash: str, password: str) -> bool:
    """True if ``password`` matches; a malformed stored hash never matches."""
    try:
        return bool(_off_hub(HASHER.verify, password_hash, password))
    except VerificationError:
        return False
    except InvalidHashError:
        log.warning("an account has a password hash argon2 cannot read")
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@cache
def _dummy_hash() -> str:
    """Verified when the username does not exist, so that case costs the same time."""
    return hash_password(uuid.uuid4().hex)


def check_password_policy(password: str, username: str, field: str = "password") -> None:
    """Length is the schema's business; here: the password is not the username."""
    if password.strip().lower() == username.lower():
        raise invalid_fields({field: [field_error("account.password_is_username",
                                                  "must not be the username")]})


# --- sign-in attempts and the rate limit ------------------------------------------------------

def lock_username(session: Session, username: str) -> None:
    """Serialise sign-in attempts on ``username`` until the transaction ends."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(:ns, hashtext(:username))"),
        {"ns": _LOCK_NAMESPACE, "username": username},
    )


def record_attempt(session: Session, username: str, client: str | None, succeeded: bool,
                   now: datetime) -> None:
    session.add(LoginAttempt(username=username[:64], client=client[:64] if client else None,
                             succeeded=succeeded, attempted_at=now))
    session.flush()


def _blocked_until(session: Session, column: Any, value: str, limit: int,
                   now: datetime) -> datetime | None:
    """When the ``limit``-th most recent failure leaves the window, if there are that many."""
    times = session.execute(
        select(LoginAttempt.attempted_at)
        .where(column == value, LoginAttempt.succeeded.is_(False),
               LoginAttempt.attempted_at > now - FAILURE_WINDOW)
        .order_by(LoginAttempt.attempted_at.desc())
        .limit(limit)
    ).scalars().all()
    if len(times) < limit:
        return None
    return times[-1] + FAILURE_WINDOW


def account_delay(failures: int) -> timedelta:
    """How long an account's next attempt waits after ``failures`` consecutive failures."""
    if failures <= FREE_FAILURES:
        return timedelta(0)
    doublings = min(failures - FREE_FAILURES - 1, 16)
    return min(FIRST_DELAY * 2**doublings, MAX_DELAY)


def _account_blocked_until(session: Session, username: str, now: datetime) -> datetime | None:
    """When the account's current wait ends: its last failure plus the delay its consecutive
    failures earned (only checked attempts are recorded, so refused ones add nothing)."""
    last_success = session.execute(
        select(func.max(LoginAttempt.attempted_at))
        .where(LoginAttempt.username == username, LoginAttempt.succeeded.is_(True))
    ).scalar_one()
    since = now - ACCOUNT_MEMORY
    if last_success is not None and last_success > since:
        since = last_success
    failures, last = session.execute(
        select(func.count(), func.max(LoginAttempt.attempted_at))
        .where(LoginAttempt.username == username, LoginAttempt.succeeded.is_(False),
               LoginAttempt.attempted_at > since)
    ).one()
    if failures <= FREE_FAILURES or last is None:
        return None
    until = last + account_delay(failures)
    return until if until > now else None


def retry_after(session: Session, username: str, client: str | None,
                now: datetime) -> int | None:
    """Seconds until ``username`` from ``client`` may try again, or None if it may now."""
    until = [_account_blocked_until(session, username, now)]
    if client:
        until.append(_blocked_until(session, LoginAttempt.client, client,
                                    MAX_FAILURES_PER_CLIENT, now))
    latest = max((u for u in until if u is not None), default=None)
    if latest is None:
        return None
    return max(1, math.ceil((latest - now).total_seconds()))


def too_many(seconds: int) -> TooManyRequests:
    """The refusal; ``errors["retry_after"]`` carries the seconds for a Retry-After header."""
    minutes = max(1, (seconds + 59) // 60)
    return TooManyRequests(
        "too many failed sign-in attempts; try again in {minutes} min",
        {"retry_after": [str(seconds)]}, code="auth.too_many_attempts",
        params={"minutes": minutes},
    )


# --- tokens ----------------------------------------------------------------------------------

def grid_ids_of(session: Session, account_ids: list[str]) -> dict[str, list[str]]:
    """account id -> the grids it staffs (网格长 or 网格员), sorted."""
    result: dict[str, list[str]] = {a: [] for a in account_ids}
    if account_ids:
        rows = session.execute(
            select(GridStaff.account_id, GridStaff.grid_id)
            .where(GridStaff.account_id.in_(account_ids))
            .order_by(GridStaff.grid_id)
        ).all()
        for account_id, grid_id in rows:
            result[account_id].append(grid_id)
    return result


def principal_for(session: Session, account: Account) -> Principal:
    """The identity a token for ``account`` carries."""
    role = Role(account.role)
    return Principal(
        user_id=account.id,
        role=role,
        enterprise_id=account.enterprise_id if role == Role.ENTERPRISE else None,
        grid_ids=tuple(grid_ids_of(session, [account.id])[account.id]),
        department_id=account.department_id if role != Role.ENTERPRISE else None,
        name=account.name,
    )


def issue_token(session: Session, account: Account, settings: Settings,
                now: datetime) -> dict[str, Any]:
    """``TokenSchema``: a bearer JWT for ``account``."""
    token = mint_token(principal_for(session, account), settings.signing_key(),
                       settings.token_ttl_seconds, settings.jwt_issuer, now=now.timestamp())
    return {"access_token": token, "token_type": "bearer",
            "expires_in": settings.token_ttl_seconds}


def login(session: Session, username: str, password: str, client: str | None,
          settings: Settings, now: datetime | None = None) -> Outcome:
    """登录: a token for the right username and password; commit, then ``result()``.

    ``username`` is as ``LoginSchema`` loads it (normalised, lower case).
    """
    now = now or datetime.now(UTC)
    lock_username(session, username)
    wait = retry_after(session, username, client, now)
    if wait is not None:  # refused unchecked and not counted: a wait cannot be extended
        log.info("sign-in refused for %s seconds more", wait)
        return Outcome(error=too_many(wait))
    account = find_by_username(session, username)
    stored = account.password_hash if account is not None else _dummy_hash()
    if not verify_password(stored, password) or account is None:
        record_attempt(session, username, client, False, now)
        return Outcome(error=Unauthenticated(WRONG_CREDENTIALS, code="auth.wrong_credentials"))
    if account.disabled:
        record_attempt(session, username, client, False, now)
        return Outcome(error=Forbidden("this account is disabled; ask the platform "
                                       "administrator", code="account.disabled"))
    if needs_rehash(stored):
        account.password_hash = hash_password(password)
    record_attempt(session, username, client, True, now)
    return Outcome(value=issue_token(session, account, settings, now))


# --- accounts --------------------------------------------------------------------------------

def find_by_username(session: Session, username: str) -> Account | None:
    return session.execute(
        select(Account).where(Account.username == username)
    ).scalar_one_or_none()


def _is_uuid(value: str | None) -> bool:
    return is_uuid(value)


def _check_links(session: Session, role: Role, enterprise_id: str | None,
                 department_id: str | None) -> None:
    """Enterprise users (企业用户) belong to an existing enterprise and no department; liaisons
    and department heads to an existing department; other staff optionally to one."""
    errors: dict[str, list[Any]] = {}
    if role == Role.ENTERPRISE:
        if not enterprise_id:
            errors["enterprise_id"] = [field_error("account.enterprise_required",
                                                   "required for an enterprise user")]
        elif not _is_uuid(enterprise_id) or session.get(Enterprise, enterprise_id) is None:
            errors["enterprise_id"] = [field_error("enterprise.not_found",
                                                   "no such enterprise")]
        if department_id:
            errors["department_id"] = [field_error(
                "account.department_refused", "an enterprise user belongs to no department")]
    else:
        if enterprise_id:
            errors["enterprise_id"] = [field_error(
                "account.enterprise_refused", "only enterprise users belong to an enterprise")]
        if role in DEPARTMENT_ROLES and not department_id:
            errors["department_id"] = [field_error("account.department_required",
                                                   "required for the role {role}",
                                                   role=label("role", role))]
        elif department_id and session.get(Department, department_id) is None:
            errors["department_id"] = [field_error("department.not_found",
                                                   "no such department")]
    if errors:
        raise invalid_fields(errors)


def _audit(session: Session, account: Account, action: str, actor: str,
           call_id: str | None = None, **extra: Any) -> None:
    """账号变更记录: an ``account_changed`` event; never a password or its hash."""
    events.publish(session, "account_changed", {
        "account_id": account.id, "username": account.username, "role": account.role,
        "action": action, "actor": actor, **extra,
    }, call_id=call_id)


def create_account(session: Session, data: dict[str, Any], actor: str, *,
                   password_hash: str | None = None, call_id: str | None = None) -> Account:
    """Create an account from ``AccountCreateSchema`` fields (validated here again).

    ``actor`` is who creates it (a user id, or e.g. ``"demo-loader"``). A caller seeding many
    accounts may hash one password once with :func:`hash_password` and pass ``password_hash``
    (then ``data`` needs no ``password``).
    """
    values = load(AccountCreateSchema(partial=("password",) if password_hash else ()), data)
    role = Role(values["role"])
    _check_links(session, role, values.get("enterprise_id"), values.get("department_id"))
    if find_by_username(session, values["username"]) is not None:
        raise Conflict("username {username} is already taken", code="account.username_taken",
                       params={"username": values["username"]})
    if password_hash is None:
        check_password_policy(values["password"], values["username"])
        password_hash = hash_password(values["password"])
    account = Account(
        id=str(uuid.uuid4()),
        username=values["username"],
        password_hash=password_hash,
        role=str(role),
        name=values["name"],
        title=values.get("title"),
        phone=values.get("phone"),
        email=values.get("email"),
        enterprise_id=values.get("enterprise_id"),
        department_id=values.get("department_id"),
        disabled=False,
        created_at=datetime.now(UTC),
        created_by=actor[:64],
    )
    try:
        with session.begin_nested():
            session.add(account)
            session.flush()
    except IntegrityError as exc:  # a concurrent creation took the username first
        raise Conflict("username {username} is already taken", code="account.username_taken",
                       params={"username": values["username"]}) from exc
    _audit(session, account, "created", actor, call_id)
    return account


def get_visible(session: Session, principal: Principal, account_id: str) -> Account:
    """Admins and coordinators read every account, everyone their own; otherwise NotFound."""
    if principal.role not in READ_ALL and principal.user_id != account_id:
        raise NotFound("no such account", code="account.not_found")
    account = session.get(Account, account_id) if _is_uuid(account_id) else None
    if account is None:
        raise NotFound("no such account", code="account.not_found")
    return account


def list_accounts(session: Session, principal: Principal,
                  filters: dict[str, Any]) -> tuple[list[Account], int]:
    """``AccountQuerySchema`` filters, ordered by username."""
    principal.require(*READ_ALL)
    query = select(Account)
    for field in ("role", "department_id", "disabled"):
        if filters.get(field) is not None:
            query = query.where(getattr(Account, field) == filters[field])
    if filters.get("enterprise_id") is not None:
        wanted = filters["enterprise_id"]
        query = query.where(Account.enterprise_id == wanted if _is_uuid(wanted) else false())
    found = paginate(session, query, filters, order_by=[Account.username], scalars=True)
    return found.items, found.total


def update_account(session: Session, principal: Principal, account_id: str,
                   payload: dict[str, Any], call_id: str | None = None) -> Account:
    """管理员修改账号: ``AccountUpdateSchema`` (enable/disable, reset password, contact data)."""
    principal.require(Role.ADMIN)
    data = load(AccountUpdateSchema(), payload)
    account = get_visible(session, principal, account_id)
    lock_username(session, account.username)  # before the row, in the order login takes them
    session.refresh(account, with_for_update=True)  # as committed; locked until the end
    # If-Match (or the body's version): refused with 412 unless still at that version
    expect_version(session, Account, account.id, data.pop("version", None), "account")
    was_disabled = account.disabled
    actor = principal.user_id
    if "disabled" in data and data["disabled"] != account.disabled:
        if data["disabled"] and account.id == principal.user_id:
            raise Conflict("an administrator may not disable their own account",
                           code="account.disable_self")
        account.disabled = data["disabled"]
        _audit(session, account, "disabled" if account.disabled else "enabled", actor, call_id)
        if account.disabled:  # re-enabling revives no old token
            revoke_tokens(session, account, "disabled", call_id)
    if "password" in data:
        check_password_policy(data["password"], account.username)
        account.password_hash = hash_password(data["password"])
        _audit(session, account, "password_reset", actor, call_id)
        revoke_tokens(session, account, "password_reset", call_id)
    changed = sorted(f for f in ("name", "title", "phone", "email")
                     if f in data and data[f] != getattr(account, f))
    for field in changed:
        setattr(account, field, data[field])
    if changed:
        _audit(session, account, "updated", actor, call_id, fields=changed)
    if changed or "password" in data or account.disabled != was_disabled:
        account.version += 1
    session.flush()
    return account


def change_password(session: Session, principal: Principal, payload: dict[str, Any],
                    client: str | None, call_id: str | None = None,
                    now: datetime | None = None) -> Outcome:
    """修改密码: the caller changes their own password. The old one is checked under the same
    rate limit as sign-in (it is a password guess too); commit, then ``result()``."""
    data = load(PasswordChangeSchema(), payload)
    if data["new_password"] == data["old_password"]:
        raise invalid_fields({"new_password": [field_error(
            "account.password_unchanged", "must differ from the old password")]})
    now = now or datetime.now(UTC)
    account = session.get(Account, principal.user_id) if _is_uuid(principal.user_id) else None
    if account is None:
        raise NotFound("this token belongs to no account", code="account.not_found")
    if account.disabled:
        raise Forbidden("this account is disabled; ask the platform administrator",
                        code="account.disabled")
    check_password_policy(data["new_password"], account.username, "new_password")
    lock_username(session, account.username)
    wait = retry_after(session, account.username, client, now)
    if wait is not None:  # not counted, like a refused sign-in
        return Outcome(error=too_many(wait))
    if not verify_password(account.password_hash, data["old_password"]):
        record_attempt(session, account.username, client, False, now)
        return Outcome(error=invalid_fields({"old_password": [field_error(
            "account.wrong_password", "wrong password")]}))
    record_attempt(session, account.username, client, True, now)
    account.password_hash = hash_password(data["new_password"])
    _audit(session, account, "password_changed", principal.user_id, call_id)
    revoke_tokens(session, account, "password_changed", call_id)
    return Outcome()


# --- token revocation ------------------------------------------------------------------------

def revoke_tokens(session: Session, account: Account, reason: str,
                  call_id: str | None = None) -> datetime:
    """Refuse every token of ``account`` issued before now (disabled, password changed, or
    a change of what its token claims: role, enterprise, department, grids); returns the moment.

    The gateway refuses them once it has the ``account_tokens_revoked`` event (or, after its
    start, from :func:`token_revocations`). The username's sign-in lock is taken first, so a
    sign-in in progress finishes before the moment is taken and its token is refused too."""
    lock_username(session, account.username)
    moment = datetime.now(UTC)
    if account.tokens_valid_after is None or account.tokens_valid_after < moment:
        account.tokens_valid_after = moment
    events.publish(session, "account_tokens_revoked", {
        "account_id": account.id, "valid_after": account.tokens_valid_after.isoformat(),
        "reason": reason,
    }, call_id=call_id)
    return account.tokens_valid_after


def token_revocations(session: Session, lifetime: timedelta,
                      now: datetime | None = None) -> list[dict[str, str]]:
    """Every account whose tokens of the last ``lifetime`` (the token TTL) are partly
    refused: ``{"account_id", "valid_after"}`` (ISO 8601), oldest first."""
    since = (now or datetime.now(UTC)) - lifetime
    rows = session.execute(
        select(Account.id, Account.tokens_valid_after)
        .where(Account.tokens_valid_after > since)
        .order_by(Account.tokens_valid_after)
    ).all()
    return [{"account_id": r.id, "valid_after": r.tokens_valid_after.isoformat()} for r in rows]


def dump(session: Session, accounts: list[Account]) -> list[dict[str, Any]]:
    """``AccountSchema`` dumps with each account's grids; never the password hash."""
    grids = grid_ids_of(session, [a.id for a in accounts])
    views = [
        {
            "id": a.id, "username": a.username, "role": a.role, "name": a.name,
            "title": a.title, "phone": a.phone, "email": a.email,
            "enterprise_id": a.enterprise_id, "department_id": a.department_id,
            "grid_ids": grids[a.id], "disabled": a.disabled, "created_at": a.created_at,
            "version": a.version,
        }
        for a in accounts
    ]
    return account_schema.dump(views, many=True)


def dump_one(session: Session, account: Account) -> dict[str, Any]:
    return dump(session, [account])[0]
