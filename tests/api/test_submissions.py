"""Coalesced demand submissions (gateway/submissions.py, ticketing.submit_demands): every
submission gets exactly the answer it would get alone, whatever it is batched with."""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import uuid
from typing import Any

import httpx
import pytest
from helpers import SENDS_IF_MATCH, bearer, demand_body, new_enterprise_id
from sqlalchemy import text

from common.auth import Role
from gateway.rpc import NamekoRpcClient, RemoteError, RpcTimeout
from gateway.submissions import SubmissionBatcher

# --- the batcher alone, against a stand-in for the RPC client ----------------------------------


class FakeRpc:
    """Answers ``submit_demands`` after ``release`` is set; records every call."""

    def __init__(self, fail: BaseException | None = None, batched: bool = True) -> None:
        self.calls: list[tuple[str, list[Any], dict[str, Any]]] = []
        self.release = asyncio.Event()
        self.fail = fail
        self.batched = batched

    async def call(self, service: str, method: str, *args: Any, context: dict[str, Any],
                   **_: Any) -> Any:
        self.calls.append((method, list(args), context))
        await self.release.wait()
        if self.fail is not None:
            raise self.fail
        if method == "submit_demands":
            if not self.batched:
                raise RemoteError("MethodNotFound", "nameko.exceptions.MethodNotFound", [],
                                  "submit_demands")
            return [{"result": None, "error": {"exc_type": "ValidationFailed",
                                               "exc_path": "common.errors.ValidationFailed",
                                               "exc_args": ["bad"], "value": "bad"}}
                    if item["payload"] == "bad" else
                    {"result": {"demand": {"title": item["payload"]}, "created": True},
                     "error": None}
                    for item in args[0]]
        return {"demand": {"title": args[0], "by": context.get("auth_token")}, "created": True}


def _run(scenario: Any) -> Any:
    return asyncio.run(scenario())


def test_submissions_that_arrive_while_calls_are_out_go_together_in_order():
    async def scenario() -> list[Any]:
        rpc = FakeRpc()
        batcher = SubmissionBatcher(rpc, max_batch=32, max_in_flight=1)
        first = asyncio.ensure_future(batcher.submit("t0", "c0", "a", None))
        await asyncio.sleep(0)  # the first goes at once, alone
        waiting = [asyncio.ensure_future(batcher.submit(f"t{n}", f"c{n}", payload, None))
                   for n, payload in enumerate(("b", "bad", "c"), 1)]
        await asyncio.sleep(0)
        assert [len(args[0]) for _, args, _ in rpc.calls] == [1]
        rpc.release.set()
        answers = await asyncio.gather(first, *waiting, return_exceptions=True)
        assert [len(args[0]) for _, args, _ in rpc.calls] == [1, 3]
        assert [item["token"] for item in rpc.calls[1][1][0]] == ["t1", "t2", "t3"]
        return answers

    first, b, bad, c = _run(scenario)
    assert first["demand"]["title"] == "a"
    assert (b["demand"]["title"], c["demand"]["title"]) == ("b", "c")
    assert isinstance(bad, RemoteError) and bad.exc_type == "ValidationFailed"


def test_a_failed_call_fails_every_submission_it_carried():
    async def scenario() -> list[Any]:
        rpc = FakeRpc(fail=RpcTimeout("ticketing.submit_demands did not answer"))
        batcher = SubmissionBatcher(rpc, max_in_flight=1)
        futures = [asyncio.ensure_future(batcher.submit("t", f"c{n}", "x", None))
                   for n in range(3)]
        await asyncio.sleep(0)
        rpc.release.set()
        return await asyncio.gather(*futures, return_exceptions=True)

    assert all(isinstance(answer, RpcTimeout) for answer in _run(scenario))


def test_an_older_ticketing_without_batches_gets_one_call_per_submission_with_its_token():
    async def scenario() -> tuple[list[Any], FakeRpc]:
        rpc = FakeRpc(batched=False)
        rpc.release.set()
        batcher = SubmissionBatcher(rpc)
        answers = [await batcher.submit("tok-a", "c1", "a", "k1"),
                   await batcher.submit("tok-b", "c2", "b", None)]
        return answers, rpc

    answers, rpc = _run(scenario)
    assert [a["demand"]["by"] for a in answers] == ["tok-a", "tok-b"]
    assert [method for method, _, _ in rpc.calls] == [
        "submit_demands", "submit_demand", "submit_demand"]


def test_batches_are_tried_again_once_ticketing_may_have_been_upgraded():
    async def scenario() -> FakeRpc:
        rpc = FakeRpc(batched=False)
        rpc.release.set()
        batcher = SubmissionBatcher(rpc, unbatched_seconds=0.2)
        await batcher.submit("t", "c1", "a", None)
        await batcher.submit("t", "c2", "b", None)  # within the interval: one by one
        rpc.batched = True  # the rollout finished
        await asyncio.sleep(0.3)
        await batcher.submit("t", "c3", "c", None)
        return rpc

    rpc = _run(scenario)
    assert [method for method, _, _ in rpc.calls] == [
        "submit_demands", "submit_demand", "submit_demand", "submit_demands"]


# --- through the gateway, against the platform -------------------------------------------------


def _submit(client: httpx.Client, tok: str, body: dict, key: str | None = None
            ) -> httpx.Response:
    headers = bearer(tok) | ({"Idempotency-Key": key} if key else {})
    return client.post("/api/v1/demands", json=body, headers=headers)


def _batches(client: httpx.Client) -> tuple[float, float]:
    """(calls, submissions) of ``ticketing.submit_demands`` so far, from the gateway's metrics."""
    metrics = client.get("/metrics").text
    found = {name: float(value) for name, value in re.findall(
        r"^gridsvc_gateway_submission_batch_size_(count|sum) (\S+)$", metrics, re.M)}
    return found.get("count", 0.0), found.get("sum", 0.0)


def test_concurrent_submissions_each_get_their_own_answer(client, token, db):
    ent = new_enterprise_id(incubator_id="INC01")
    elsewhere = new_enterprise_id(incubator_id="INC02")
    owner = token(Role.ENTERPRISE, enterprise_id=ent, user_id=f"owner-{ent}")
    worker = token(Role.GRID_WORKER, grid_ids=("INC01",))
    run = uuid.uuid4().hex[:8]
    cases: list[tuple[str, str, dict, str | None, int]] = []
    for n in range(30):
        cases.append((f"ok-{n}", owner, demand_body(title=f"批量诉求 {run} {n}"),
                      f"{run}-{n}", 201))
    for n in range(4):  # one key, the same body: one demand, the others answered with it
        cases.append((f"same-{n}", owner, demand_body(title=f"同一诉求 {run}"),
                      f"{run}-same", 0))
    cases.append(("other-body", worker,
                  demand_body(channel="grid_worker", enterprise_id=ent, title=f"代录 {run}"),
                  None, 201))
    cases.append(("no-title", owner, {"channel": "enterprise", "description": "没有标题"},
                  None, 422))
    cases.append(("not-my-grid", worker,
                  demand_body(channel="grid_worker", enterprise_id=elsewhere), None, 422))
    cases.append(("not-mine", owner, demand_body(enterprise_id=elsewhere), None, 403))
    calls_before, items_before = _batches(client)

    def send(case: tuple[str, str, dict, str | None, int]) -> tuple[str, httpx.Response]:
        name, tok, body, key, _ = case
        with httpx.Client(base_url=str(client.base_url), timeout=30, **SENDS_IF_MATCH) as own:
            return name, _submit(own, tok, body, key)

    with concurrent.futures.ThreadPoolExecutor(len(cases)) as pool:
        answers = dict(pool.map(send, cases))

    for name, _, _, _, status in cases:
        if status:
            assert answers[name].status_code == status, (name, answers[name].text)
    assert answers["no-title"].headers["content-type"] == "application/problem+json"
    assert "title" in answers["no-title"].json()["errors"]
    assert "enterprise_id" in answers["not-my-grid"].json()["errors"]
    same = [answers[f"same-{n}"] for n in range(4)]
    assert sorted(r.status_code for r in same) == [200, 200, 200, 201]
    assert len({r.json()["id"] for r in same}) == 1
    numbers = [answers[f"ok-{n}"].json()["number"] for n in range(30)]
    assert len(set(numbers)) == 30
    with db.connect() as conn:
        titles = conn.execute(text(
            "SELECT title FROM ticketing.demands WHERE enterprise_id = :e AND title LIKE :t"),
            {"e": ent, "t": f"%{run}%"}).scalars().all()
    assert sorted(titles) == sorted(
        [f"批量诉求 {run} {n}" for n in range(30)] + [f"同一诉求 {run}", f"代录 {run}"])
    calls, items = _batches(client)
    assert items - items_before == len(cases) - 1  # all but the one the gateway refused
    assert calls - calls_before < items - items_before  # and some went together


# --- the RPC itself ------------------------------------------------------------------------------


@pytest.fixture
def rpc_call(healthy_platform):
    from conftest import AMQP_URI

    def call(method: str, *args: Any) -> Any:
        async def main() -> Any:
            client = NamekoRpcClient(AMQP_URI, default_timeout=15)
            await client.start()
            try:
                await client.wait_connected(5.0)
                return await client.call("ticketing", method, *args,
                                         context={"call_id_stack": ["test-batch"]})
            finally:
                await client.close()
        return asyncio.run(main())
    return call


def test_each_item_is_authorised_by_its_own_token(rpc_call, token):
    ent = new_enterprise_id()
    good = token(Role.ENTERPRISE, enterprise_id=ent)
    answers = rpc_call("submit_demands", [
        {"token": good, "payload": demand_body(), "idempotency_key": None, "call_id": "c1"},
        {"token": "not-a-token", "payload": demand_body(), "idempotency_key": None,
         "call_id": "c2"},
        {"token": None, "payload": demand_body(), "idempotency_key": None, "call_id": "c3"},
        {"token": token(Role.LIAISON, department_id="finance"), "payload": demand_body(),
         "idempotency_key": None, "call_id": "c4"},
        "not an item",
    ])
    assert answers[0]["error"] is None
    assert answers[0]["result"]["demand"]["enterprise_id"] == ent
    assert [a["error"]["exc_type"] for a in answers[1:]] == [
        "Unauthenticated", "Unauthenticated", "Forbidden", "Unauthenticated"]
    assert all(a["result"] is None for a in answers[1:])


def test_a_batch_that_is_not_a_list_of_items_is_refused(rpc_call):
    for items in ([], "x", [{}] * 65):
        with pytest.raises(RemoteError) as refused:
            rpc_call("submit_demands", items)
        assert refused.value.exc_type == "ValidationFailed"


def test_a_key_used_twice_in_one_batch_is_answered_item_by_item(rpc_call, token):
    """The batch's single insert fails on the repeated key; each item is then recorded on
    its own: the first created, its repeat replayed, a different body under it refused."""
    ent = new_enterprise_id()
    owner = token(Role.ENTERPRISE, enterprise_id=ent, user_id=f"owner-{ent}")
    key = f"twice-{uuid.uuid4().hex[:8]}"
    body = demand_body(title="同一批次重复提交")

    def item(payload: dict, idempotency_key: str | None) -> dict:
        return {"token": owner, "payload": payload, "idempotency_key": idempotency_key,
                "call_id": "c"}

    answers = rpc_call("submit_demands", [
        item(body, key), item(demand_body(title="另一条"), None), item(body, key),
        item(demand_body(title="换了内容"), key)])
    first, other, again, changed = answers
    assert first["result"]["created"] is True
    assert other["result"]["created"] is True
    assert again["result"] == {"demand": first["result"]["demand"], "created": False}
    assert changed["result"] is None and changed["error"]["exc_type"] == "Conflict"
    numbers = {first["result"]["demand"]["number"], other["result"]["demand"]["number"]}
    assert len(numbers) == 2
