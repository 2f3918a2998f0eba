"""``GET /api/v1/dictionaries`` (字典) on the real platform: labels in the request's language,
the registry's departments and categories by name, the ETag and 304, every role, never
without a token."""

from __future__ import annotations

import pytest
from helpers import bearer

from common.auth import Role
from common.dictionaries import DICTIONARIES

URL = "/api/v1/dictionaries"


def test_the_dictionaries_endpoint(client, token):
    enterprise = bearer(token(Role.ENTERPRISE, enterprise_id="e-dictionaries"))
    answer = client.get(URL, headers=enterprise)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "private, max-age=300"
    etag = answer.headers["etag"]
    body = answer.json()
    dictionaries = body["dictionaries"]
    assert set(DICTIONARIES) | {"department", "category", "industry_division"} == set(
        dictionaries)
    divisions = {e["code"]: e["label"] for e in dictionaries["industry_division"]}
    assert len(divisions) == 97 and divisions["C39"] == "计算机、通信和其他电子设备制造业"
    received = dictionaries["demand_status"][0]
    assert received == {"code": "received", "label": "待分理",
                        "labels": {"zh-CN": "待分理", "en": "Received"}}
    assert [e["code"] for e in dictionaries["role"]] == list(DICTIONARIES["role"].codes)
    departments = {e["code"]: e for e in dictionaries["department"]}
    assert departments["fire_rescue"]["label"] == "消防大队"
    assert departments["fire_rescue"]["labels"] == {"zh-CN": "消防大队", "en": "Fire rescue"}
    categories = {e["code"]: e["label"] for e in dictionaries["category"]}
    assert categories["fire"] == "消防" and categories["talent"] == "人才"

    # cached by its ETag: the same answer is 304 without a body
    again = client.get(URL, headers=enterprise | {"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    weak = client.get(URL, headers=enterprise | {"If-None-Match": f'"x", W/{etag}'})
    assert weak.status_code == 304
    assert client.get(URL, headers=enterprise | {"If-None-Match": '"x"'}).status_code == 200
    garbled = client.get(URL, headers=enterprise | {"If-None-Match": b'"\xe9"'})
    assert garbled.status_code == 400
    assert garbled.json()["code"] == "request.if_none_match_invalid"

    # in English: other labels, another ETag, the same codes and version
    english = client.get(URL, headers=enterprise | {"Accept-Language": "en",
                                                    "If-None-Match": etag})
    assert english.status_code == 200
    assert english.headers["etag"] != etag
    assert english.json()["version"] == body["version"]
    assert english.json()["dictionaries"]["demand_status"][0]["label"] == "Received"
    assert english.json()["dictionaries"]["department"] == [
        {**e, "label": e["labels"]["en"]} for e in dictionaries["department"]]


@pytest.mark.parametrize("role, claims", [
    (Role.GRID_WORKER, {"grid_ids": ("GEO01",)}), (Role.LIAISON, {"department_id": "finance"}),
    (Role.COORDINATOR, {}), (Role.LEADER, {}), (Role.ADMIN, {}),
    (Role.DEPARTMENT_HEAD, {"department_id": "finance"}), (Role.GRID_LEADER, {"grid_ids": ()}),
])
def test_every_role_reads_the_dictionaries(client, token, role, claims):
    assert client.get(URL, headers=bearer(token(role, **claims))).status_code == 200


def test_the_dictionaries_need_a_token(client):
    answer = client.get(URL)
    assert answer.status_code == 401
    assert answer.json()["code"] == "auth.token_missing"
    assert answer.json()["detail"] == "请先登录（需要 Bearer 令牌）"


def test_how_long_the_dictionaries_take(client, token):
    """A figure, not a pass/fail: the whole answer (two registry calls) and a 304."""
    import statistics
    import time

    headers = bearer(token(Role.COORDINATOR))
    etag = client.get(URL, headers=headers).headers["etag"]
    timings: dict[str, list[float]] = {"200": [], "304": []}
    for _ in range(20):
        for status, extra in (("200", {}), ("304", {"If-None-Match": etag})):
            started = time.perf_counter()
            answer = client.get(URL, headers=headers | extra)
            timings[status].append((time.perf_counter() - started) * 1000)
            assert answer.status_code == int(status)
    print("dictionaries: median "
          + ", ".join(f"{s} {statistics.median(t):.1f} ms" for s, t in timings.items())
          + f", {len(client.get(URL, headers=headers).content)} bytes")
