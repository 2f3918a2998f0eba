"""Tokens: what they carry, and every way a token is refused."""

from __future__ import annotations

import time

import jwt
import pytest

from common.auth import Principal, Role, mint_token, verify_token
from common.errors import Forbidden, Unauthenticated

KEY = "a-test-signing-key-that-is-long-enough"


def test_round_trip_keeps_scope():
    p = Principal(user_id="u1", role=Role.GRID_WORKER, grid_ids=("g1", "g2"), name="张三")
    back = verify_token(mint_token(p, KEY, 60), KEY)
    assert (back.user_id, back.role, back.grid_ids, back.name) == ("u1", Role.GRID_WORKER,
                                                                  ("g1", "g2"), "张三")
    assert back.enterprise_id is None and back.department_id is None


@pytest.mark.parametrize("mutate, reason", [
    (lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), "invalid token"),
    (lambda t: "not.a.token", "invalid token"),
])
def test_tampered_tokens_are_refused(mutate, reason):
    tok = mint_token(Principal(user_id="u", role=Role.ADMIN), KEY, 60)
    with pytest.raises(Unauthenticated, match=reason):
        verify_token(mutate(tok), KEY)


def test_expired_wrong_key_wrong_issuer_unknown_role():
    p = Principal(user_id="u", role=Role.ADMIN)
    with pytest.raises(Unauthenticated, match="expired"):
        verify_token(mint_token(p, KEY, -1), KEY)
    with pytest.raises(Unauthenticated):
        verify_token(mint_token(p, KEY, 60), KEY + "x")
    with pytest.raises(Unauthenticated):
        verify_token(mint_token(p, KEY, 60, issuer="elsewhere"), KEY)
    bogus = jwt.encode({"sub": "u", "role": "superuser", "iss": "gridsvc", "iat": 1,
                        "exp": 2**40}, KEY, algorithm="HS256")
    with pytest.raises(Unauthenticated, match="role"):
        verify_token(bogus, KEY)
    unsigned = jwt.encode({"sub": "u", "role": "admin", "iss": "gridsvc", "iat": 1,
                           "exp": 2**40}, None, algorithm="none")
    with pytest.raises(Unauthenticated):
        verify_token(unsigned, KEY)


def test_require_role():
    p = Principal(user_id="u", role=Role.LIAISON)
    assert p.require(Role.LIAISON, Role.ADMIN) is p
    with pytest.raises(Forbidden):
        p.require(Role.ADMIN)


def test_a_token_checked_once_is_still_refused_once_expired():
    """Signatures are checked once per token (remembered); the expiry at every use."""
    token = mint_token(Principal(user_id="u-exp", role=Role.ENTERPRISE, enterprise_id="e"),
                       KEY, ttl_seconds=1)
    assert verify_token(token, KEY).user_id == "u-exp"
    assert verify_token(token, KEY).user_id == "u-exp"  # from the cache
    time.sleep(1.1)
    with pytest.raises(Unauthenticated, match="expired"):
        verify_token(token, KEY)
    fresh = mint_token(Principal(user_id="u2", role=Role.ADMIN), KEY, ttl_seconds=60)
    assert verify_token(fresh, KEY).user_id == "u2"
    with pytest.raises(Unauthenticated):  # another key is never answered from the cache
        verify_token(fresh, "another-key-that-is-long-enough-too")
