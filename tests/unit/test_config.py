"""Configuration: development defaults, and no production start without a signing key."""

from __future__ import annotations

import pytest

from common.config import DEV_JWT_SECRET, ConfigurationError, load_settings


def test_development_defaults():
    settings = load_settings({})
    assert settings.is_development
    assert settings.jwt_secret == DEV_JWT_SECRET
    assert settings.gateway_port == 8000
    assert settings.metrics_port("ticketing") == 9102


def test_production_requires_a_signing_key():
    with pytest.raises(ConfigurationError, match="JWT_SECRET is required"):
        load_settings({"GRIDSVC_ENV": "production"})
    with pytest.raises(ConfigurationError, match="at least 32 bytes"):
        load_settings({"GRIDSVC_ENV": "production", "JWT_SECRET": "short"})
    settings = load_settings({"GRIDSVC_ENV": "production", "JWT_SECRET": "k" * 40})
    assert settings.jwt_secret == "k" * 40 and not settings.is_development


def test_ports_and_bad_numbers():
    settings = load_settings({"GATEWAY_PORT": "8100", "TICKETING_METRICS_PORT": "9999",
                              "METRICS_PORT": ""})
    assert settings.gateway_port == 8100
    assert settings.metrics_port("ticketing") == 9999
    assert load_settings({"METRICS_PORT": "9200"}).metrics_port("enterprise") == 9200
    with pytest.raises(ConfigurationError):
        load_settings({"GATEWAY_PORT": "eighty"})
