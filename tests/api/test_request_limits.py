"""One request must not hold the gateway's event loop (issue 22, finding 1): list lengths
are checked before any item, JSON nesting before parsing, and error bodies are capped. The
probe's requests, each answered with a small 422 naming what was refused."""

from __future__ import annotations

import json

import pytest
from helpers import bearer, demand_body, new_enterprise_id

from common.auth import Role
from common.validation import MAX_NESTING
from gateway.problems import MAX_FIELD_ERRORS

#: an answer to a refused request stays small, however large the request
SMALL = 20_000


@pytest.fixture(scope="module")
def enterprise(platform) -> str:
    return new_enterprise_id()


def post(client, path: str, raw: bytes, headers: dict[str, str] | None = None):
    return client.post(path, content=raw,
                       headers={"Content-Type": "application/json", **(headers or {})})


def test_330000_attachments_are_refused_by_their_count(client, token, enterprise):
    """The probe: 330,000 attachments (990 KB) took 9.6 s and answered 14.7 MB."""
    body = demand_body(attachments=[1, 2, 3] * 110_000)
    raw = json.dumps(body, separators=(",", ":")).encode()
    assert len(raw) > 600_000
    tok = token(Role.ENTERPRISE, enterprise_id=enterprise)
    refused = post(client, "/api/v1/demands", raw, bearer(tok))
    assert refused.status_code == 422, refused.text[:500]
    assert len(refused.content) < SMALL
    problem = refused.json()
    assert list(problem["errors"]) == ["attachments"]
    assert problem["errors"]["attachments"][0]["code"] == "field.too_long"


def test_60000_empty_objects_are_refused_by_their_count(client, token, enterprise):
    """The probe: ``[{}]*60000`` (240 KB) answered 11.6 MB."""
    tok = token(Role.ENTERPRISE, enterprise_id=enterprise)
    raw = json.dumps(demand_body(attachments=[{}] * 60_000)).encode()
    refused = post(client, "/api/v1/demands", raw, bearer(tok))
    assert refused.status_code == 422 and len(refused.content) < SMALL
    assert list(refused.json()["errors"]) == ["attachments"]


@pytest.mark.parametrize("path, authorised", [("/api/v1/auth/token", False),
                                              ("/api/v1/demands", True)])
def test_1000_levels_of_nesting_are_a_422_not_a_500(client, token, enterprise, path, authorised):
    """The probe: 1,000 levels of nesting gave a 500 with two 55-line tracebacks, even on
    ``POST /auth/token`` without a token."""
    headers = bearer(token(Role.ENTERPRISE, enterprise_id=enterprise)) if authorised else {}
    for raw in (b"[" * 1000 + b"]" * 1000,
                b'{"title":' + b"[" * 1000 + b"]" * 1000 + b"}",
                b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
                b"[" * 500_000):  # deep and unbalanced: the parser's recursion decides
        refused = post(client, path, raw, headers)
        assert refused.status_code == 422, (raw[:20], refused.text[:300])
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "request.too_deep"
        assert len(refused.content) < SMALL
    # as deep as allowed is not refused for its depth (it is not a sign-in, though)
    allowed = b'{"username":' + b"[" * (MAX_NESTING - 1) + b"]" * (MAX_NESTING - 1) + b"}"
    answer = post(client, path, allowed, headers)
    assert answer.status_code == 422 and answer.json()["code"] != "request.too_deep"
    # brackets inside strings are text, not nesting
    text = json.dumps({"username": "[" * 5000, "password": "{" * 100}).encode()
    assert post(client, path, text, headers).json()["code"] != "request.too_deep"
    # malformed text is still a 400, however many brackets it has
    assert post(client, path, b"]" * 100 + b"[" * 100, headers).status_code == 400


def test_an_error_body_lists_the_first_50_fields_and_counts_the_rest(client, token):
    """2,000 ids refused one by one: the answer names the first 50 and counts the rest."""
    coordinator = token(Role.COORDINATOR, department_id="economic_development")
    raw = json.dumps({"enterprise_ids": [f"not-an-id-{i}" for i in range(2000)]}).encode()
    refused = post(client, "/api/v1/policies/audience/preview", raw, bearer(coordinator))
    assert refused.status_code == 422
    problem = refused.json()
    assert len(problem["errors"]) == MAX_FIELD_ERRORS
    assert problem["errors_omitted"] == 2000 - MAX_FIELD_ERRORS
    assert "enterprise_ids.0" in problem["errors"]
    assert len(refused.content) < SMALL


def test_many_unknown_fields_are_one_error(client, token, enterprise):
    tok = token(Role.ENTERPRISE, enterprise_id=enterprise)
    body = demand_body(**{f"x{i}": i for i in range(20_000)})
    refused = post(client, "/api/v1/demands", json.dumps(body).encode(), bearer(tok))
    assert refused.status_code == 422 and len(refused.content) < SMALL
    assert refused.json()["errors"]["_schema"][0]["code"] == "request.too_many_fields"
