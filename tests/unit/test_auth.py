"""Tokens: what they carry, and every way a token is refused; EdDSA keys by ``kid``, where
only the registry's key signs people's tokens (issue 19)."""

from __future__ import annotations

import json
import time

import jwt
import pytest

from common import keys
from common.auth import (
    CLOCK_SKEW_SECONDS,
    Principal,
    Role,
    mint_token,
    service_principal,
    verify_token,
)
from common.errors import Forbidden, Unauthenticated
from common.keys import KeyRing, SigningKey


def key_pair(kid: str, signer: str) -> tuple[SigningKey, dict]:
    pem, jwk = keys.generate(kid, signer)
    return SigningKey.from_pem(kid, pem), jwk


SIGNER, SIGNER_JWK = key_pair("registry-test", keys.REGISTRY)
TICKETING, TICKETING_JWK = key_pair("ticketing-test", "ticketing")
OTHER, OTHER_JWK = key_pair("registry-other", keys.REGISTRY)
RING = KeyRing.from_jwks(json.dumps({"keys": [SIGNER_JWK, TICKETING_JWK]}))
#: what the old tests called the key: mint with KEY, verify with RING
KEY = SIGNER


def test_round_trip_keeps_scope():
    p = Principal(user_id="u1", role=Role.GRID_WORKER, grid_ids=("g1", "g2"), name="张三")
    back = verify_token(mint_token(p, KEY, 60), RING)
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
        verify_token(mutate(tok), RING)


def test_expired_wrong_key_wrong_issuer_unknown_role():
    p = Principal(user_id="u", role=Role.ADMIN)
    with pytest.raises(Unauthenticated, match="expired"):
        verify_token(mint_token(p, KEY, -1), RING)
    with pytest.raises(Unauthenticated):
        verify_token(mint_token(p, OTHER, 60), RING)  # a key not in the ring
    with pytest.raises(Unauthenticated):
        verify_token(mint_token(p, KEY, 60, issuer="elsewhere"), RING)
    now = int(time.time())
    bogus = jwt.encode({"sub": "u", "role": "superuser", "iss": "gridsvc", "iat": now,
                        "exp": now + 60}, KEY.private_key, algorithm="EdDSA",
                       headers={"kid": KEY.kid})
    with pytest.raises(Unauthenticated, match="role"):
        verify_token(bogus, RING)
    unsigned = jwt.encode({"sub": "u", "role": "admin", "iss": "gridsvc", "iat": 1,
                           "exp": 2**40}, None, algorithm="none")
    with pytest.raises(Unauthenticated):
        verify_token(unsigned, RING)


def token_with(iat: float, exp: float) -> str:
    return jwt.encode({"sub": "u", "role": "admin", "iss": "gridsvc", "iat": iat, "exp": exp},
                      KEY.private_key, algorithm="EdDSA", headers={"kid": KEY.kid})


def test_a_token_living_longer_than_the_configured_lifetime_is_refused():
    """Issue 22, finding 6: a token whose ``exp - iat`` exceeds the configured lifetime (plus
    the clock skew) is refused, however well signed; the probe's token expired in 2100."""
    now = time.time()
    year_2100 = 4102444800
    with pytest.raises(Unauthenticated) as refused:
        verify_token(token_with(now, year_2100), RING)
    assert refused.value.code == "auth.token_lifetime_too_long"
    eight_hours = 8 * 3600
    # the configured lifetime, and a little clock skew over it, are accepted
    assert verify_token(token_with(now, now + eight_hours), RING).user_id == "u"
    assert verify_token(token_with(now, now + eight_hours + CLOCK_SKEW_SECONDS), RING)
    with pytest.raises(Unauthenticated, match="lives longer"):
        verify_token(token_with(now, now + eight_hours + CLOCK_SKEW_SECONDS + 1), RING)
    # the lifetime the checker is configured with (TOKEN_TTL_SECONDS) decides
    with pytest.raises(Unauthenticated, match="lives longer"):
        verify_token(token_with(now, now + 3600), RING, max_lifetime=600)
    assert verify_token(token_with(now, now + 600), RING, max_lifetime=600)
    # nor may a token be issued in the future (which would stretch its lifetime from now)
    with pytest.raises(Unauthenticated, match="iat"):
        verify_token(token_with(now + 3600, now + 3700), RING)


def test_require_role():
    p = Principal(user_id="u", role=Role.LIAISON)
    assert p.require(Role.LIAISON, Role.ADMIN) is p
    with pytest.raises(Forbidden):
        p.require(Role.ADMIN)


def test_a_token_checked_once_is_still_refused_once_expired(monkeypatch):
    """Signatures are checked once per token (remembered); the expiry at every use."""
    token = mint_token(Principal(user_id="u-exp", role=Role.ENTERPRISE, enterprise_id="e"),
                       KEY, ttl_seconds=60)
    assert verify_token(token, RING).user_id == "u-exp"
    assert verify_token(token, RING).user_id == "u-exp"  # from the cache
    later = time.time() + 61  # the clock moves past the token's expiry
    monkeypatch.setattr("common.auth.time.time", lambda: later)
    with pytest.raises(Unauthenticated, match="expired"):
        verify_token(token, RING)
    monkeypatch.undo()
    fresh = mint_token(Principal(user_id="u2", role=Role.ADMIN), KEY, ttl_seconds=60)
    assert verify_token(fresh, RING).user_id == "u2"
    with pytest.raises(Unauthenticated):  # another key set is never answered from the cache
        verify_token(fresh, KeyRing.from_jwks(json.dumps({"keys": [OTHER_JWK]})))


def test_tokens_are_signed_with_eddsa_and_name_their_key():
    token = mint_token(Principal(user_id="u", role=Role.ADMIN), KEY, 60)
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": "registry-test",
                                                "typ": "JWT"}


def test_a_token_signed_with_a_shared_secret_is_refused():
    """HS256 with any secret, the old development secret included: the algorithm is EdDSA
    and the kid must name a known public key."""
    claims = {"sub": "u", "role": "admin", "iss": "gridsvc", "iat": 1, "exp": 2**40}
    old = "development-only-signing-key-not-for-production"
    for headers in (None, {"kid": "registry-test"}):
        forged = jwt.encode(claims, old, algorithm="HS256", headers=headers)
        with pytest.raises(Unauthenticated):
            verify_token(forged, RING)


def test_a_service_key_signs_only_its_own_service_identity():
    """Only the registry's key signs people's tokens: a ticketing pod cannot mint an admin."""
    own = verify_token(mint_token(service_principal("ticketing"), TICKETING, 60), RING)
    assert own.user_id == "service:ticketing" and own.role == Role.SERVICE
    for principal in (Principal(user_id="admin-1", role=Role.ADMIN),
                      service_principal("enterprise"),
                      Principal(user_id="service:ticketing", role=Role.ADMIN)):
        with pytest.raises(Unauthenticated, match="may not sign"):
            verify_token(mint_token(principal, TICKETING, 60), RING)


def test_rotation_by_kid():
    """A new key is published beside the old one; tokens of both verify until the old one
    is removed."""
    new, new_jwk = key_pair("registry-2027", keys.REGISTRY)
    both = KeyRing.from_jwks(json.dumps({"keys": [SIGNER_JWK, new_jwk]}))
    old_token = mint_token(Principal(user_id="old", role=Role.ADMIN), SIGNER, 60)
    new_token = mint_token(Principal(user_id="new", role=Role.ADMIN), new, 60)
    assert verify_token(old_token, both).user_id == "old"
    assert verify_token(new_token, both).user_id == "new"
    only_new = KeyRing.from_jwks(json.dumps({"keys": [new_jwk]}))
    with pytest.raises(Unauthenticated, match="unknown signing key"):
        verify_token(old_token, only_new)
