"""How a failed service call becomes an HTTP answer."""

from __future__ import annotations

import json

import pytest

from common.errors import Conflict, NotFound, ValidationFailed, exc_path
from gateway.problems import LANGUAGE, from_rpc_error
from gateway.rpc import RemoteError, RpcTimeout, ServiceUnavailable


def body(response) -> dict:
    return json.loads(response.body)


@pytest.mark.parametrize("cls, status", [(NotFound, 404), (Conflict, 409),
                                         (ValidationFailed, 422)])
def test_domain_errors_map_by_exc_path(cls, status):
    # a bare string as a field error (an older service): code field.invalid, text as it is
    err = RemoteError(cls.__name__, exc_path(cls),
                      ["what went wrong", {"title": ["not coded"]}], "what went wrong")
    response = from_rpc_error(err, "/api/v1/x")
    assert response.status_code == status
    assert response.media_type == "application/problem+json"
    problem = body(response)
    assert problem["detail"] == "what went wrong"
    assert problem["instance"] == "/api/v1/x"
    assert problem["errors"] == {"title": [{"code": "field.invalid", "message": "not coded"}]}
    assert problem["code"] == cls.code


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


def test_a_domain_error_keeps_its_code_params_and_field_codes_over_rpc():
    err = RemoteError("Conflict", exc_path(Conflict), [
        "username {username} is already taken",
        {"username": [{"code": "account.username_taken", "message": "already exists"}],
         "tasks": {"0": {"department_id": ["no such department"]}}},
        "account.username_taken", {"username": "wang"}], "x")
    problem = body(from_rpc_error(err, "/x"))  # zh-CN, the default
    assert problem["code"] == "account.username_taken"
    assert problem["detail"] == "用户名 wang 已被占用"
    assert problem["errors"]["username"] == [{"code": "account.username_taken",
                                               "message": "已存在"}]
    # nested field errors are named by their dotted path, as a form names its fields
    assert problem["errors"]["tasks.0.department_id"] == [
        {"code": "field.invalid", "message": "部门不存在"}]
    token = LANGUAGE.set("en")
    try:
        english = body(from_rpc_error(err, "/x"))
    finally:
        LANGUAGE.reset(token)
    assert english["code"] == "account.username_taken"
    assert english["detail"] == "username wang is already taken"
    assert english["errors"]["username"][0]["message"] == "already exists"


def test_titles_and_details_follow_the_request_language():
    err = RemoteError("NotFound", exc_path(NotFound), ["the request could not be completed"],
                      "x")
    token = LANGUAGE.set("en")
    try:
        english = from_rpc_error(err, "/x")
    finally:
        LANGUAGE.reset(token)
    chinese = from_rpc_error(err, "/x")  # zh-CN, the default
    assert body(english)["title"] == "Not found"
    assert english.headers["content-language"] == "en"
    assert body(chinese)["title"] == "未找到"
    assert body(chinese)["detail"] == "请求未能完成，请稍后重试"
    assert chinese.headers["content-language"] == "zh-CN"
    assert body(english)["code"] == body(chinese)["code"] == "not_found"


def test_a_service_error_rebuilt_by_nameko_keeps_every_argument():
    from nameko.exceptions import deserialize, serialize

    import common.remote  # noqa: F401 - registers the domain errors with nameko

    sent = Conflict("username {username} is already taken", {"username": ["taken"]},
                    code="account.username_taken", params={"username": "wang"})
    received = deserialize(serialize(sent))
    assert type(received) is Conflict
    assert (received.code, received.params, received.errors) == (
        "account.username_taken", {"username": "wang"}, {"username": ["taken"]})
    assert str(received) == "username wang is already taken"


def test_an_error_body_lists_at_most_50_fields_and_counts_the_rest():
    from gateway.problems import MAX_FIELD_ERRORS, problem_response

    errors = {"items": {str(i): {"name": [{"code": "field.required",
                                           "message": "Missing data for required field."}]}
                        for i in range(60_000)}}
    answer = problem_response(422, "invalid fields: {fields}", errors=errors,
                              params={"fields": [f"f{i}" for i in range(60_000)]})
    body = json.loads(answer.body)
    assert len(body["errors"]) == MAX_FIELD_ERRORS
    assert body["errors_omitted"] == 60_000 - MAX_FIELD_ERRORS
    assert len(answer.body) < 20_000
    small = json.loads(problem_response(422, "x", errors={"a": ["bad"]}).body)
    assert "errors_omitted" not in small
