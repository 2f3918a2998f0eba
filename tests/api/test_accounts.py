"""Accounts and sign-in (登录) as plain functions against the real test database: hashing, the
rate limit, disabled accounts, account rules and the audit events. Every test works in one
transaction that is rolled back, so nothing is left behind."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from common.auth import Principal, Role, verify_token
from common.config import Settings
from common.errors import (
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthenticated,
    ValidationFailed,
)
from services.enterprise import accounts
from services.enterprise.models import (
    Account,
    Department,
    Enterprise,
    Grid,
    GridStaff,
    LoginAttempt,
    outbox,
)

SETTINGS = Settings()
PASSWORD = "correct horse battery"
NOW = datetime.now(UTC).replace(microsecond=0)  # tokens minted "now" must verify
ADMIN = Principal(user_id=str(uuid.uuid4()), role=Role.ADMIN, name="管理员")


@pytest.fixture
def session(db: Engine) -> Iterator[Session]:
    with Session(db) as s:
        try:
            yield s
        finally:
            s.rollback()


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@pytest.fixture
def department(session: Session) -> Department:
    dept = Department(id=unique("dept-"), name=unique("经济发展部-"), kind="management")
    session.add(dept)
    session.flush()
    return dept


@pytest.fixture
def enterprise(session: Session) -> Enterprise:
    ent = Enterprise(
        id=str(uuid.uuid4()), credit_code=uuid.uuid4().hex[:18].upper(),
        name="青岛测试科技有限公司", address="高新区测试路1号",
        industry_code="I65", scale="small", grid_source="unassigned", in_scope=True,
        contacts=[], tags=[], strengths=[], upstream=[], downstream=[], version=1,
    )
    session.add(ent)
    session.flush()
    return ent


def new_account(session: Session, role: str = "grid_worker", **data: Any) -> Account:
    body = {"username": unique("user."), "password": PASSWORD, "role": role, "name": "张三",
            **data}
    return accounts.create_account(session, body, ADMIN.user_id)


def sign_in(session: Session, username: str, password: str = PASSWORD,
            client: str | None = "10.0.0.1", now: datetime = NOW) -> dict:
    return accounts.login(session, username, password, client, SETTINGS, now).result()


def attempts(session: Session, username: str) -> list[bool]:
    return list(session.execute(
        select(LoginAttempt.succeeded).where(LoginAttempt.username == username)
        .order_by(LoginAttempt.id)
    ).scalars())


def events_for(session: Session, account_id: str) -> list[dict]:
    rows = session.execute(
        select(outbox.c.payload).where(outbox.c.event_type == "account_changed")
        .order_by(outbox.c.id)
    ).scalars()
    return [p["data"] for p in rows if p["data"]["account_id"] == account_id]


# --- passwords -------------------------------------------------------------------------------

def test_hash_and_verify():
    stored = accounts.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert stored != accounts.hash_password(PASSWORD)  # salted
    assert accounts.verify_password(stored, PASSWORD)
    assert not accounts.verify_password(stored, PASSWORD + "!")
    assert not accounts.verify_password("not-a-hash", PASSWORD)
    assert not accounts.needs_rehash(stored)
    weaker = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    assert accounts.needs_rehash(weaker)


def test_sign_in_issues_a_token_with_the_accounts_scope(session, department):
    grid = Grid(id=unique("T-"), name="测试网格", kind="geographic",
                owner_department_id=department.id)
    session.add(grid)
    session.flush()
    account = new_account(session, "grid_worker", department_id=department.id)
    session.add(GridStaff(grid_id=grid.id, account_id=account.id, duty="worker"))
    session.flush()
    token = sign_in(session, account.username)
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == SETTINGS.token_ttl_seconds
    principal = verify_token(token["access_token"], SETTINGS.jwt_keys, SETTINGS.jwt_issuer)
    assert principal.user_id == account.id
    assert principal.role == Role.GRID_WORKER
    assert principal.grid_ids == (grid.id,)
    assert principal.department_id == department.id
    assert principal.enterprise_id is None
    assert principal.name == "张三"
    assert attempts(session, account.username) == [True]


def test_an_enterprise_users_token_names_its_enterprise(session, enterprise):
    account = new_account(session, "enterprise", enterprise_id=enterprise.id)
    token = sign_in(session, account.username)["access_token"]
    principal = verify_token(token, SETTINGS.jwt_keys, SETTINGS.jwt_issuer)
    assert (principal.role, principal.enterprise_id) == (Role.ENTERPRISE, enterprise.id)
    assert principal.department_id is None and principal.grid_ids == ()


def test_unknown_user_and_wrong_password_look_the_same(session, monkeypatch):
    account = new_account(session)
    verified: list[str] = []
    real_verify = accounts.verify_password

    def spy(stored: str, password: str) -> bool:
        verified.append(stored)
        return real_verify(stored, password)

    monkeypatch.setattr(accounts, "verify_password", spy)
    errors = []
    for username, password in ((account.username, "wrong password"), ("nobody.here", PASSWORD)):
        with pytest.raises(Unauthenticated) as caught:
            sign_in(session, username, password)
        errors.append(caught.value.detail)
    assert errors == [accounts.WRONG_CREDENTIALS] * 2
    # the unknown user costs a hash verification too (against the dummy hash)
    assert verified == [account.password_hash, accounts._dummy_hash()]
    assert attempts(session, account.username) == [False]
    assert attempts(session, "nobody.here") == [False]


def test_a_hash_with_old_parameters_is_replaced_on_sign_in(session):
    account = new_account(session)
    account.password_hash = PasswordHasher(time_cost=1, memory_cost=8 * 1024,
                                           parallelism=1).hash(PASSWORD)
    session.flush()
    sign_in(session, account.username)
    assert not accounts.needs_rehash(account.password_hash)
    assert accounts.verify_password(account.password_hash, PASSWORD)


# --- the rate limit ----------------------------------------------------------------------------

def test_sixth_attempt_after_five_failures_waits_and_the_wait_is_not_counted(session):
    account = new_account(session)
    client = f"10.1.0.{uuid.uuid4().int % 250}"
    for i in range(accounts.MAX_FAILURES_PER_USERNAME):
        with pytest.raises(Unauthenticated):
            sign_in(session, account.username, "wrong password", client,
                    NOW + timedelta(seconds=i))
    last = NOW + timedelta(seconds=accounts.MAX_FAILURES_PER_USERNAME - 1)
    outcome = accounts.login(session, account.username, PASSWORD, client, SETTINGS,
                             last + timedelta(seconds=10))
    assert isinstance(outcome.error, TooManyRequests)
    assert outcome.error.status == 429
    # the fifth failure earned the first delay (30 s): 20 s are left
    assert outcome.error.errors == {"retry_after": ["20"]}
    assert outcome.error.code == "auth.too_many_attempts"
    assert outcome.error.params == {"minutes": 1}
    assert attempts(session, account.username) == [False] * 5  # the refusal is not counted
    # after the wait the right password works, and a success starts the count again
    assert sign_in(session, account.username, PASSWORD, client,
                   last + accounts.FIRST_DELAY)["access_token"]
    for i in range(accounts.FREE_FAILURES):
        with pytest.raises(Unauthenticated):
            sign_in(session, account.username, "wrong", client,
                    last + accounts.FIRST_DELAY + timedelta(seconds=1 + i))
    assert accounts.retry_after(session, account.username, None,
                                last + accounts.FIRST_DELAY + timedelta(seconds=10)) is None


def test_delays_grow_with_consecutive_failures_up_to_15_minutes():
    assert [accounts.account_delay(n).total_seconds() for n in range(1, 12)] == \
        [0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900]
    assert accounts.account_delay(10_000) == accounts.MAX_DELAY


def test_the_lock_forever_attack_cannot_extend_a_wait(session):
    """Issue 22, finding 3, attack 1: five wrong passwords every 15 minutes used to keep any
    account (the admin's too) locked for good, every correct password during the lock
    counting as another failure. Now the attempts during a wait are refused unchecked and
    uncounted: two hours of the probe's pattern count one failure per wait, and the right
    password after the current wait succeeds."""
    account = new_account(session)
    attacker, owner = "203.0.113.66", "198.51.100.7"
    moment = NOW
    for burst in range(8):  # two hours of "5 requests every 15 minutes"
        for i in range(5):
            when = NOW + timedelta(minutes=15 * burst, seconds=i)
            outcome = accounts.login(session, account.username, "guess", attacker, SETTINGS,
                                     when)
            assert outcome.error is not None
            session.commit()
            moment = when
        # the owner tries the right password in the middle of the attacker's wait: refused,
        # and not counted either
        during = accounts.login(session, account.username, PASSWORD, owner, SETTINGS,
                                NOW + timedelta(minutes=15 * burst, seconds=20))
        assert isinstance(during.error, TooManyRequests) or during.value is not None
        if during.value is not None:
            break  # the owner got in: the attack failed outright
        session.commit()
    failures = attempts(session, account.username).count(False)
    assert failures < 5 + 8  # the probe's pattern made 40; refusals no longer count
    wait = accounts.retry_after(session, account.username, owner, moment) or 0
    assert 0 <= wait <= accounts.MAX_DELAY.total_seconds()
    assert sign_in(session, account.username, PASSWORD, owner,
                   moment + timedelta(seconds=wait))["access_token"]


def test_too_many_failures_from_one_client_block_it_for_every_username(session):
    account = new_account(session)
    client = f"192.0.2.{uuid.uuid4().int % 250}"
    for i in range(accounts.MAX_FAILURES_PER_CLIENT):
        with pytest.raises(Unauthenticated):
            sign_in(session, f"guess{i}", "wrong", client=client, now=NOW)
    with pytest.raises(TooManyRequests) as caught:
        sign_in(session, account.username, client=client, now=NOW + timedelta(minutes=1))
    assert caught.value.errors == {"retry_after": ["840"]}
    # refused attempts from the address do not extend its wait
    for second in range(30):
        with pytest.raises(TooManyRequests):
            sign_in(session, f"guess{second}", "wrong", client=client,
                    now=NOW + timedelta(minutes=2, seconds=second))
    assert accounts.retry_after(session, "anyone", client, NOW + timedelta(minutes=2)) == 780
    assert sign_in(session, account.username, client="198.51.100.7",
                   now=NOW + timedelta(minutes=1))["access_token"]


# --- disabled accounts -------------------------------------------------------------------------

def test_a_disabled_account_cannot_sign_in(session):
    account = new_account(session)
    accounts.update_account(session, ADMIN, account.id, {"disabled": True})
    with pytest.raises(Forbidden):
        sign_in(session, account.username)
    with pytest.raises(Unauthenticated):  # a wrong password says nothing about the account
        sign_in(session, account.username, "wrong password")
    assert attempts(session, account.username) == [False, False]
    accounts.update_account(session, ADMIN, account.id, {"disabled": False})
    assert sign_in(session, account.username)["access_token"]
    assert [e["action"] for e in events_for(session, account.id)] == [
        "created", "disabled", "enabled"]


def test_an_admin_cannot_disable_their_own_account(session):
    admin_account = new_account(session, "admin")
    me = Principal(user_id=admin_account.id, role=Role.ADMIN)
    with pytest.raises(Conflict):
        accounts.update_account(session, me, admin_account.id, {"disabled": True})


# --- account rules -----------------------------------------------------------------------------

def test_account_links_are_checked(session, department, enterprise):
    with pytest.raises(ValidationFailed) as caught:
        new_account(session, "enterprise")
    assert set(caught.value.errors) == {"enterprise_id"}
    with pytest.raises(ValidationFailed) as caught:
        new_account(session, "enterprise", enterprise_id=str(uuid.uuid4()))
    assert caught.value.errors == {"enterprise_id": [
        {"code": "enterprise.not_found", "message": "no such enterprise"}]}
    with pytest.raises(ValidationFailed) as caught:
        new_account(session, "enterprise", enterprise_id="not-a-uuid")
    assert caught.value.errors == {"enterprise_id": [
        {"code": "field.not_id", "message": "not a valid id"}]}
    for role in ("liaison", "department_head"):
        with pytest.raises(ValidationFailed) as caught:
            new_account(session, role)
        assert set(caught.value.errors) == {"department_id"}
        with pytest.raises(ValidationFailed):
            new_account(session, role, department_id="no-such-dept")
        assert new_account(session, role, department_id=department.id).department_id
    with pytest.raises(ValidationFailed) as caught:
        new_account(session, "grid_worker", enterprise_id=enterprise.id)
    assert set(caught.value.errors) == {"enterprise_id"}
    with pytest.raises(ValidationFailed) as caught:
        new_account(session, "enterprise", enterprise_id=enterprise.id,
                    department_id=department.id)
    assert set(caught.value.errors) == {"department_id"}


def test_usernames_are_unique(session):
    account = new_account(session)
    with pytest.raises(Conflict):
        new_account(session, username=account.username)


def test_passwords_are_checked(session):
    with pytest.raises(ValidationFailed) as caught:
        new_account(session, password="short")
    assert set(caught.value.errors) == {"password"}
    with pytest.raises(ValidationFailed) as caught:
        new_account(session, username="li.si.long", password="li.si.long")
    assert caught.value.errors == {"password": [
        {"code": "account.password_is_username", "message": "must not be the username"}]}


def test_seeding_with_a_prepared_hash(session):
    """What the demo loader does: hash the shared demo password once, create many accounts."""
    prepared = accounts.hash_password(PASSWORD)
    made = [accounts.create_account(
        session, {"username": unique("seed."), "role": "coordinator", "name": "李四"},
        "demo-loader", password_hash=prepared) for _ in range(3)]
    assert {a.password_hash for a in made} == {prepared}
    assert {a.created_by for a in made} == {"demo-loader"}
    assert sign_in(session, made[0].username)["access_token"]


def test_dumps_and_events_never_contain_the_password(session):
    account = new_account(session, phone="13800001234")
    accounts.update_account(session, ADMIN, account.id,
                            {"password": "another long secret", "name": "张三丰"})
    dumped = accounts.dump_one(session, account)
    assert "password_hash" not in dumped and "password" not in dumped
    assert dumped["name"] == "张三丰"
    assert dumped["created_at"].endswith("+08:00")
    recorded = events_for(session, account.id)
    assert [(e["action"], e["actor"]) for e in recorded] == [
        ("created", ADMIN.user_id), ("password_reset", ADMIN.user_id),
        ("updated", ADMIN.user_id)]
    assert recorded[-1]["fields"] == ["name"]
    text = repr(recorded)
    assert PASSWORD not in text and "another long secret" not in text
    assert "$argon2" not in text


def test_who_reads_which_account(session):
    account = new_account(session)
    own = Principal(user_id=account.id, role=Role.GRID_WORKER)
    other = Principal(user_id=str(uuid.uuid4()), role=Role.GRID_WORKER)
    coordinator = Principal(user_id="c-1", role=Role.COORDINATOR)
    assert accounts.get_visible(session, own, account.id) is account
    assert accounts.get_visible(session, coordinator, account.id) is account
    with pytest.raises(NotFound):
        accounts.get_visible(session, other, account.id)
    with pytest.raises(NotFound):
        accounts.get_visible(session, coordinator, "not-a-uuid")
    with pytest.raises(Forbidden):
        accounts.list_accounts(session, own, {"page": 1, "per_page": 20})
    rows, total = accounts.list_accounts(
        session, coordinator, {"page": 1, "per_page": 200, "role": "grid_worker",
                               "disabled": False})
    assert account in rows and total >= 1
    rows, total = accounts.list_accounts(
        session, coordinator, {"page": 1, "per_page": 20, "enterprise_id": "not-a-uuid"})
    assert (rows, total) == ([], 0)


# --- changing one's own password ----------------------------------------------------------------

def test_changing_my_password(session):
    account = new_account(session)
    me = Principal(user_id=account.id, role=Role.GRID_WORKER)
    wrong = accounts.change_password(
        session, me, {"old_password": "not it", "new_password": "a brand new secret"},
        "10.0.0.9", now=NOW)
    with pytest.raises(ValidationFailed) as caught:
        wrong.result()
    assert caught.value.errors == {"old_password": [
        {"code": "account.wrong_password", "message": "wrong password"}]}
    with pytest.raises(ValidationFailed):
        accounts.change_password(session, me, {"old_password": PASSWORD,
                                               "new_password": PASSWORD}, None)
    accounts.change_password(
        session, me, {"old_password": PASSWORD, "new_password": "a brand new secret"},
        "10.0.0.9", now=NOW).result()
    assert accounts.verify_password(account.password_hash, "a brand new secret")
    assert attempts(session, account.username) == [False, True]
    assert events_for(session, account.id)[-1]["action"] == "password_changed"
    nobody = Principal(user_id="grid_worker-1234", role=Role.GRID_WORKER)
    with pytest.raises(NotFound):
        accounts.change_password(session, nobody, {"old_password": "x",
                                                   "new_password": "a brand new secret"}, None)


def test_guessing_the_old_password_hits_the_rate_limit(session):
    account = new_account(session)
    me = Principal(user_id=account.id, role=Role.GRID_WORKER)
    body = {"old_password": "guess", "new_password": "a brand new secret"}
    for _ in range(accounts.MAX_FAILURES_PER_USERNAME):
        assert isinstance(accounts.change_password(session, me, body, None, now=NOW).error,
                          ValidationFailed)
    body["old_password"] = PASSWORD
    assert isinstance(accounts.change_password(session, me, body, None, now=NOW).error,
                      TooManyRequests)
