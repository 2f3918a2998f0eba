"""Search (检索) through the gateway: keywords over demands, the ledger lists and enterprises,
the filters beside them, and the scoping that search shares with the lists."""

from __future__ import annotations

import uuid

import pytest
from helpers import bearer, demand_body, enterprise_body, new_enterprise_id

from common.auth import Role

pytestmark = pytest.mark.timeout(120)


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def submit(client, tok: str, **body) -> dict:
    response = client.post("/api/v1/demands", headers=bearer(tok), json=demand_body(**body))
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def laser(client, token):
    """An enterprise of INC01 whose strength is 激光加工, with a demand whose description
    says 激光切割; another enterprise of INC02 with a demand of the same words."""
    tag = uuid.uuid4().hex[:6]
    name = f"青岛光刃{tag}科技有限公司"
    body = enterprise_body(name=name, incubator_id="INC01",
                           strengths=["激光加工", "精密钣金"], tags=["专精特新"])
    admin = token(Role.ADMIN)
    created = client.post("/api/v1/enterprises", json=body, headers=bearer(admin))
    assert created.status_code == 201, created.text
    ent = created.json()
    other = new_enterprise_id(incubator_id="INC02", name=f"青岛别家{tag}有限公司")
    mine = submit(client, token(Role.ENTERPRISE, enterprise_id=ent["id"]),
                  title=f"激光切割加工合作{tag}",
                  description="我司需要激光切割不锈钢板材，每月约二十吨。")
    theirs = submit(client, token(Role.ENTERPRISE, enterprise_id=other),
                    title=f"设备采购{tag}", description="采购一台激光切割机。")
    return {"enterprise": ent, "other": other, "demand": mine, "other_demand": theirs,
            "tag": tag}


def test_q_laser_finds_the_demand_and_the_enterprise(client, token, laser):
    coordinator = token(Role.COORDINATOR)
    found = ids(client.get("/api/v1/demands", params={"q": "激光", "per_page": 200},
                           headers=bearer(coordinator)))
    assert laser["demand"]["id"] in found and laser["other_demand"]["id"] in found
    # every word must be there; a longer word is cut into the words a document holds
    both = ids(client.get("/api/v1/demands", params={"q": "激光切割 不锈钢"},
                          headers=bearer(coordinator)))
    assert laser["demand"]["id"] in both and laser["other_demand"]["id"] not in both
    assert ids(client.get("/api/v1/demands", params={"q": "激光切割不锈钢"},
                          headers=bearer(coordinator))).count(laser["demand"]["id"]) == 1
    assert laser["demand"]["id"] not in ids(client.get(
        "/api/v1/demands", params={"q": "人才公寓"}, headers=bearer(coordinator)))

    enterprises = ids(client.get("/api/v1/enterprises", params={"q": "激光", "per_page": 200},
                                 headers=bearer(coordinator)))
    assert laser["enterprise"]["id"] in enterprises
    for q in ("专精特新", "钣金", laser["enterprise"]["credit_code"][:10],
              f"光刃{laser['tag']}"):
        assert laser["enterprise"]["id"] in ids(client.get(
            "/api/v1/enterprises", params={"q": q, "per_page": 200},
            headers=bearer(coordinator))), q


def test_ledger_lists_search_and_filter(client, token, laser):
    coordinator = token(Role.COORDINATOR)
    mine = laser["demand"]

    def problems(**params):
        return ids(client.get("/api/v1/ledger/problems", params={"per_page": 200, **params},
                              headers=bearer(coordinator)))

    assert mine["id"] in problems(q="激光")
    assert mine["id"] in problems(q=mine["number"])  # a number in the box finds it
    assert problems(number=mine["number"]) == [mine["id"]]
    assert problems(enterprise=laser["enterprise"]["name"][2:8]) == [mine["id"]]
    assert problems(enterprise=laser["enterprise"]["credit_code"]) == [mine["id"]]
    assert problems(q="激光", enterprise="没有这家企业的名字") == []
    assert mine["id"] in problems(q="激光", channel="enterprise", state="received",
                                  escalated="false", grid_id="INC01")
    assert mine["id"] not in problems(q="激光", channel="grid_worker")
    assert mine["id"] not in problems(q="激光", escalated="true")
    assert mine["id"] not in problems(q="激光", received_to="2020-01-01")
    # the best match first: the words in the title before the words in the description
    ranked = problems(q="激光切割", sort="relevance")
    assert ranked.index(mine["id"]) < ranked.index(laser["other_demand"]["id"])
    by_date = problems(q="激光切割", sort="date")
    assert by_date.index(mine["id"]) > by_date.index(laser["other_demand"]["id"])
    assert problems(q="的") == []  # only words that say nothing: nothing to look for
    refused = client.get("/api/v1/ledger/problems", params={"sort": "size", "number": "SQ 1"},
                         headers=bearer(coordinator))
    assert refused.status_code == 422
    assert set(refused.json()["errors"]) == {"sort", "number"}
    assert client.get("/api/v1/ledger/tasks", params={"q": "激光"},
                      headers=bearer(coordinator)).status_code == 200
    assert client.get("/api/v1/ledger/done", params={"q": "激光"},
                      headers=bearer(coordinator)).json()["total"] >= 0


def test_search_never_returns_what_the_caller_may_not_see(client, token, laser):
    mine, theirs = laser["demand"]["id"], laser["other_demand"]["id"]
    q = {"q": "激光", "per_page": 200}
    owner = token(Role.ENTERPRISE, enterprise_id=laser["enterprise"]["id"])
    found = ids(client.get("/api/v1/demands", params=q, headers=bearer(owner)))
    assert mine in found and theirs not in found
    # by the other enterprise's name: still nothing of it
    assert ids(client.get("/api/v1/demands", params={**q, "enterprise": laser["other"]},
                          headers=bearer(owner))) == []
    worker = token(Role.GRID_WORKER, grid_ids=("INC02",))
    found = ids(client.get("/api/v1/demands", params=q, headers=bearer(worker)))
    assert theirs in found and mine not in found
    assert laser["enterprise"]["id"] not in ids(client.get(
        "/api/v1/enterprises", params=q, headers=bearer(worker)))
    # a department without a task of it: neither the demand list nor the ledger shows it
    liaison = token(Role.LIAISON, department_id="finance")
    assert mine not in ids(client.get("/api/v1/demands", params=q, headers=bearer(liaison)))
    assert mine not in ids(client.get("/api/v1/ledger/problems", params=q,
                                      headers=bearer(liaison)))
    # an enterprise user reads no ledger at all, with or without keywords
    assert client.get("/api/v1/ledger/problems", params=q,
                      headers=bearer(owner)).status_code == 403
    assert client.get("/api/v1/demands", params=q).status_code == 401


def test_results_and_public_notes_are_found_internal_notes_are_not(client, token, laser):
    coordinator = token(Role.COORDINATOR, department_id="economic_development")
    did = laser["demand"]["id"]
    triaged = client.post(f"/api/v1/demands/{did}/triage", headers=bearer(coordinator), json={
        "category": "fire", "difficulty": "normal", "proposed_opinion": "消防指导",
        "departments": [{"department_id": "fire_rescue", "opinion": "现场指导"}]})
    assert triaged.status_code == 200, triaged.text
    task = triaged.json()["tasks"][0]["id"]
    fire = token(Role.LIAISON, department_id="fire_rescue")
    assert client.post(f"/api/v1/tasks/{task}/accept", headers=bearer(fire)).status_code == 200
    tag = laser["tag"]
    for visibility, body in (("public", f"已安排喷淋检测{tag}"),
                             ("internal", f"法人脾气暴躁{tag}")):
        noted = client.post(f"/api/v1/tasks/{task}/notes", headers=bearer(fire),
                            json={"body": body, "visibility": visibility})
        assert noted.status_code in (200, 201), noted.text
    # the longest note there may be, one unbroken "word" of 5,000 characters: kept, not a 503
    long = client.post(f"/api/v1/tasks/{task}/notes", headers=bearer(fire),
                       json={"body": "0" * 5000, "visibility": "public"})
    assert long.status_code in (200, 201), long.text
    done = client.post(f"/api/v1/tasks/{task}/complete", headers=bearer(fire),
                       json={"result": "已完成防火门整改验收"})
    assert done.status_code == 200, done.text

    def found(q: str, **params) -> list[str]:
        return ids(client.get("/api/v1/demands", params={"q": q, "per_page": 200, **params},
                              headers=bearer(coordinator)))

    assert did in found("喷淋检测") and did in found("防火门整改")
    assert did not in found("脾气暴躁")
    assert did in found("防火门", department_id="fire_rescue")
    assert did not in found("防火门", department_id="finance")
    # the fire liaison finds it now, on its task list too
    tasks = client.get("/api/v1/ledger/tasks", params={"q": "防火门"}, headers=bearer(fire))
    assert task in ids(tasks)


@pytest.fixture
def common_word(client, token):
    """A word of five demands: three of one enterprise (INC01), two of another (INC02), the
    last submitted the newest; each title starts with its rank (1 the best match: the word
    twice in its title)."""
    tag = "词" + uuid.uuid4().hex[:8]
    mine = new_enterprise_id(incubator_id="INC01", name=f"青岛常见{tag}有限公司")
    theirs = new_enterprise_id(incubator_id="INC02", name=f"青岛别家{tag}有限公司")
    made = []
    for n, owner in enumerate((mine, theirs, mine, theirs, mine)):
        title = f"{tag} {tag} 办理" if n == 0 else f"办理 {n}"
        made.append(submit(client, token(Role.ENTERPRISE, enterprise_id=owner), title=title,
                           description=f"反映的问题 {tag}")["id"])
    return {"tag": tag, "ids": made, "mine": mine, "theirs": theirs}


def test_a_common_word_counts_to_the_cap_a_rare_word_exactly(client, token, db, common_word,
                                                             monkeypatch):
    """More matches than the cap: total is the cap, total_capped, and a page newest first
    (no match is ranked); fewer: the exact count, the best match first. Run in-process
    against the test database with a cap of 3 (the service's is 10,000)."""
    from sqlalchemy.orm import Session

    from common.auth import Principal
    from services.ticketing import intake, search, views

    tag, made = common_word["tag"], common_word["ids"]
    coordinator = Principal("c", Role.COORDINATOR, department_id="economic_development")
    monkeypatch.setattr(search, "COUNT_CAP", 3)
    with Session(db) as session:
        rows, total, capped = intake.list_visible(session, coordinator,
                                                  {"q": tag, "page": 1, "per_page": 2})
        assert (total, capped) == (3, True)
        assert [d.id for d in rows] == made[::-1][:2]  # newest first, a page of them
        page = views.problems(session, coordinator, {"q": tag, "page": 1, "per_page": 20})
        assert (page["total"], page["total_capped"]) == (3, True)
        assert [d["id"] for d in page["items"]] == made[::-1]  # the whole page, not the cap
        # one enterprise's: three of its own, as many as the cap, counted exactly
        owner = Principal("e", Role.ENTERPRISE, enterprise_id=common_word["mine"])
        rows, total, capped = intake.list_visible(session, owner, {"q": tag, "page": 1,
                                                                   "per_page": 20})
        assert (total, capped) == (3, False)
        assert {d.id for d in rows} == {made[0], made[2], made[4]}
        assert rows[0].id == made[0]  # ranked: the word twice in the title first
        # the other enterprise's two, never more, whatever the cap
        other = Principal("o", Role.ENTERPRISE, enterprise_id=common_word["theirs"])
        rows, total, capped = intake.list_visible(session, other, {"q": tag, "page": 1,
                                                                   "per_page": 20})
        assert ({d.id for d in rows}, total, capped) == ({made[1], made[3]}, 2, False)


def test_totals_say_whether_they_are_capped(client, token, common_word):
    coordinator = token(Role.COORDINATOR)
    tag, made = common_word["tag"], common_word["ids"]
    for path in ("/api/v1/demands", "/api/v1/ledger/problems"):
        answer = client.get(path, params={"q": tag}, headers=bearer(coordinator))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["total"], body["total_capped"]) == (5, False), path
        assert body["items"][0]["id"] == made[0]  # the best match first
    # a word of one demand, by its owner's grid worker: exact, and only what the grid holds
    worker = token(Role.GRID_WORKER, grid_ids=("INC02",))
    body = client.get("/api/v1/demands", params={"q": tag}, headers=bearer(worker)).json()
    assert ({i["id"] for i in body["items"]}, body["total"], body["total_capped"]) == (
        {made[1], made[3]}, 2, False)
