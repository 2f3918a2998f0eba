"""How a failed service call becomes an HTTP answer."""

from __future__ import annotations

import json

import pytest

from common.errors import Conflict, NotFound, ValidationFailed, exc_path
from gateway.problems import from_rpc_error
from gateway.rpc import RemoteError, RpcTimeout, ServiceUnavailable


def body(response) -> dict:
    return json.loads(response.body)


@pytest.mark.parametrize("cls, status", [(NotFound, 404), (Conflict, 409),
                                         (ValidationFailed, 422)])
def test_domain_errors_map_by_exc_path(cls, status):
    err = RemoteError(cls.__name__, exc_path(cls), ["what went wrong", {"title": ["required"]}],
                      "what went wrong")
    response = from_rpc_error(err, "/api/v1/x")
    assert response.status_code == status
    assert response.media_type == "application/problem+json"
    problem = body(response)
    assert problem["detail"] == "what went wrong"
    assert problem["instance"] == "/api/v1/x"
    assert problem["errors"] == {"title": ["required"]}


def test_unknown_remote_error_is_500_without_internals():
    err = RemoteError("KeyError", "builtins.KeyError", ["secret_column"], "'secret_column'")
    response = from_rpc_error(err, "/x")
    assert response.status_code == 500
    assert "secret_column" not in response.body.decode()


def test_broker_troubles():
    assert from_rpc_error(RpcTimeout("slow"), "/x").status_code == 504
    unavailable = from_rpc_error(ServiceUnavailable("broker unavailable"), "/x")
    assert unavailable.status_code == 503
    assert unavailable.headers["retry-after"] == "1"
    assert "broker unavailable" in body(unavailable)["detail"]
