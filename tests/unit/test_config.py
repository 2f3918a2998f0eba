"""Configuration: development defaults, and no production start without the signing keys
(nor with the committed development key)."""

from __future__ import annotations

import json

import pytest

from common import keys
from common.auth import Principal, Role, mint_token, verify_token
from common.config import (
    DEV_KEY_RING,
    DEV_SIGNING_KEY,
    ConfigurationError,
    load_settings,
)
from common.errors import Unauthenticated

PEM, JWK = keys.generate("registry-1", keys.REGISTRY)
PROD = {"GRIDSVC_ENV": "production", "JWT_PUBLIC_KEYS": json.dumps({"keys": [JWK]}),
        "JWT_PRIVATE_KEY": PEM, "JWT_KID": "registry-1"}


def test_development_defaults():
    settings = load_settings({})
    assert settings.is_development
    assert settings.jwt_keys is DEV_KEY_RING and settings.jwt_signing_key is DEV_SIGNING_KEY
    assert settings.gateway_port == 8000
    assert settings.metrics_port("ticketing") == 9102


def test_production_requires_the_public_keys():
    with pytest.raises(ConfigurationError, match="JWT_PUBLIC_KEYS is required"):
        load_settings({"GRIDSVC_ENV": "production"})
    with pytest.raises(ConfigurationError, match="JWKS"):
        load_settings({**PROD, "JWT_PUBLIC_KEYS": "{}"})
    with pytest.raises(ConfigurationError, match="not in JWT_PUBLIC_KEYS"):
        load_settings({**PROD, "JWT_KID": "registry-2"})
    settings = load_settings(PROD)
    assert not settings.is_development and settings.signing_key().kid == "registry-1"
    verifier = load_settings({k: v for k, v in PROD.items() if not k.startswith(
        ("JWT_PRIVATE", "JWT_KID"))})  # a process that only verifies
    with pytest.raises(ConfigurationError, match="JWT_PRIVATE_KEY"):
        verifier.signing_key()


def test_the_development_key_is_refused_outside_development():
    dev_jwk = DEV_SIGNING_KEY.public_jwk(keys.REGISTRY)
    with pytest.raises(ConfigurationError, match="development key"):
        load_settings({**PROD, "JWT_PUBLIC_KEYS": json.dumps({"keys": [JWK, dev_jwk]})})
    renamed = {**dev_jwk, "kid": "looks-harmless"}
    with pytest.raises(ConfigurationError, match="development key"):
        load_settings({**PROD, "JWT_PUBLIC_KEYS": json.dumps({"keys": [JWK, renamed]})})
    with pytest.raises(ConfigurationError, match="development key"):
        load_settings({**PROD, "JWT_PRIVATE_KEY": keys.DEV_PRIVATE_KEY_PEM,
                       "JWT_KID": "registry-1"})


def test_a_token_signed_with_the_development_key_is_refused_in_production():
    """What `make token` and the test fixtures sign is worthless against a production
    deployment."""
    dev_token = mint_token(Principal(user_id="x", role=Role.ADMIN), DEV_SIGNING_KEY, 600)
    assert verify_token(dev_token, load_settings({}).jwt_keys).role == Role.ADMIN
    with pytest.raises(Unauthenticated, match="unknown signing key"):
        verify_token(dev_token, load_settings(PROD).jwt_keys)


def test_ports_and_bad_numbers():
    settings = load_settings({"GATEWAY_PORT": "8100", "TICKETING_METRICS_PORT": "9999",
                              "METRICS_PORT": ""})
    assert settings.gateway_port == 8100
    assert settings.metrics_port("ticketing") == 9999
    assert load_settings({"METRICS_PORT": "9200"}).metrics_port("enterprise") == 9200
    with pytest.raises(ConfigurationError):
        load_settings({"GATEWAY_PORT": "eighty"})
