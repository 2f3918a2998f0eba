"""Audiences (目标企业): the criteria resolved against the registry (in-scope enterprises only),
and the ``enterprise.resolve_audience`` RPC with who may call it."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from conftest import AMQP_URI
from helpers import new_enterprise_id
from sqlalchemy import text
from sqlalchemy.orm import Session

from common.auth import Principal, Role, mint_token
from common.config import DEV_JWT_SECRET
from gateway.rpc import NamekoRpcClient, RemoteError
from services.enterprise import audience

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def zoo(platform) -> dict[str, str]:
    """A few enterprises with known facts (ids registered through the gateway)."""
    return {
        "chip_listed": new_enterprise_id(incubator_id="INC05", industry_code="C3911",
                                         scale="large", tags=["上市企业", "专精特新"],
                                         strengths=["精密模具设计与制造"]),
        "chip_small": new_enterprise_id(incubator_id="INC05", industry_code="C3912",
                                        scale="small", tags=["初创期"]),
        "chip_gone": new_enterprise_id(incubator_id="INC05", industry_code="C3911",
                                       pays_tax=False),
        "machine": new_enterprise_id(incubator_id="INC05", industry_code="C3411",
                                     scale="medium", strengths=["Industrial ROBOTS"]),
        "chip_elsewhere": new_enterprise_id(incubator_id="INC06", industry_code="C39",
                                            scale="small", tags=["专精特新"]),
    }


def resolved(db, spec: dict[str, Any], zoo: dict[str, str]) -> set[str]:
    """The zoo's names among the audience (restricted to the zoo with enterprise_ids)."""
    names = {v: k for k, v in zoo.items()}
    with Session(db) as session:
        ids = audience.resolve(session, {"enterprise_ids": list(zoo.values()), **spec})
    return {names[i] for i in ids}


def test_criteria_combine_with_and_and_values_with_or(db, zoo):
    assert resolved(db, {}, zoo) == {"chip_listed", "chip_small", "machine",
                                     "chip_elsewhere"}  # never the out-of-scope one
    assert resolved(db, {"grid_ids": ["INC05"], "industry_codes": ["C39"]}, zoo) == {
        "chip_listed", "chip_small"}
    assert resolved(db, {"industry_codes": ["C3912", "C34"]}, zoo) == {"chip_small", "machine"}
    assert resolved(db, {"scales": ["small", "medium"]}, zoo) == {
        "chip_small", "machine", "chip_elsewhere"}
    assert resolved(db, {"incubator_ids": ["INC06"]}, zoo) == {"chip_elsewhere"}
    assert resolved(db, {"tags": ["专精特新", "初创期"]}, zoo) == {
        "chip_listed", "chip_small", "chip_elsewhere"}
    assert resolved(db, {"listed": True}, zoo) == {"chip_listed"}
    assert resolved(db, {"listed": False, "industry_codes": ["C39"]}, zoo) == {
        "chip_small", "chip_elsewhere"}
    assert resolved(db, {"strengths": ["模具"]}, zoo) == {"chip_listed"}
    assert resolved(db, {"strengths": ["robot"]}, zoo) == {"machine"}  # any case
    assert resolved(db, {"strengths": ["100%"]}, zoo) == set()  # wildcards are text
    assert resolved(db, {"grid_ids": []}, zoo) == resolved(db, {}, zoo)  # no criterion


def test_a_grid_and_industry_audience_is_that_grids_in_scope_enterprises(db, zoo):
    with Session(db) as session:
        ids = audience.resolve(session, {"grid_ids": ["INC05"], "industry_codes": ["C39"]})
        expected = set(session.execute(text(
            "SELECT id::text FROM enterprise.enterprises WHERE grid_id = 'INC05' "
            "AND industry_code LIKE 'C39%' AND in_scope")).scalars())
        assert set(ids) == expected and ids == sorted(ids)
        assert audience.count(session, {"grid_ids": ["INC05"], "industry_codes": ["C39"]}) \
            == len(expected)
        members = audience.members(session, {"grid_ids": ["INC05"],
                                             "industry_codes": ["C39"]})
        assert [m["id"] for m in members] == ids
        assert {m["grid_id"] for m in members} == {"INC05"}
        assert all(m["industry_code"].startswith("C39") and m["name"] for m in members)
        everyone = audience.count(session, {})
        in_scope = session.execute(text(
            "SELECT count(*) FROM enterprise.enterprises WHERE in_scope")).scalar_one()
        assert everyone == in_scope


# --------------------------------------------------------------------------- the RPC


def call(role: Role, *args: Any, method: str = "resolve_audience", **kwargs: Any) -> Any:
    token = mint_token(Principal(user_id=f"{role}-audience", role=role,
                                 department_id="finance" if role == Role.LIAISON else None),
                       DEV_JWT_SECRET, 300)

    async def run() -> Any:
        client = NamekoRpcClient(AMQP_URI)
        await client.start()
        try:
            assert await client.wait_connected(5)
            return await client.call("enterprise", method, *args,
                                     context={"auth_token": token}, timeout=15, **kwargs)
        finally:
            await client.close()

    return asyncio.run(run())


def test_the_rpc_resolves_normalises_and_details(zoo):
    spec = {"grid_ids": ["INC05"], "industry_codes": ["c39"], "tags": ["专精特新"]}
    answer = call(Role.SERVICE, spec)
    assert answer["enterprise_ids"] == [zoo["chip_listed"]] and answer["count"] == 1
    assert answer["audience"] == {"grid_ids": ["INC05"], "industry_codes": ["C39"],
                                  "tags": ["专精特新"]}
    assert "enterprises" not in answer
    detailed = call(Role.LIAISON, spec, details=True)
    assert detailed["enterprises"] == [{"id": zoo["chip_listed"], "name": "青岛测试科技有限公司",
                                        "grid_id": "INC05", "industry_code": "C3911"}]
    # an id that names no enterprise, grid or incubator is refused, naming its criterion
    for criterion, unknown in (("enterprise_ids", str(uuid.uuid4())), ("grid_ids", "NOPE"),
                               ("incubator_ids", "GEO01")):
        with pytest.raises(RemoteError) as refused:
            call(Role.ADMIN, {criterion: [unknown]})
        assert refused.value.exc_type == "ValidationFailed"
        assert criterion in refused.value.exc_args[1]


def test_the_summary_counts_what_resolving_finds_by_grid_and_division(zoo):
    """The policy editor's live preview: counted by the registry, never the members sent."""
    for spec in ({"grid_ids": ["INC05"]}, {"industry_codes": ["C39"]}, {"tags": ["专精特新"]}):
        resolved = call(Role.SERVICE, spec, details=True)["enterprises"]
        summary = call(Role.LIAISON, spec, method="audience_summary")
        assert summary["count"] == len(resolved) > 0
        by_grid: dict[Any, int] = {}
        by_division: dict[Any, int] = {}
        for e in resolved:
            by_grid[e["grid_id"]] = by_grid.get(e["grid_id"], 0) + 1
            division = e["industry_code"][:3]
            by_division[division] = by_division.get(division, 0) + 1
        assert {g["key"]: g["count"] for g in summary["by_grid"]} == by_grid
        assert {g["key"]: g["count"] for g in summary["by_industry"]} == by_division
        counts = [g["count"] for g in summary["by_grid"]]
        assert counts == sorted(counts, reverse=True)  # largest first
    # an enterprise id that names no enterprise is refused, naming it (issue 22, finding 2)
    with pytest.raises(RemoteError) as refused:
        call(Role.ADMIN, {"enterprise_ids": [str(uuid.uuid4())]}, method="audience_summary")
    assert refused.value.exc_type == "ValidationFailed"
    assert "enterprise_ids" in refused.value.exc_args[1]


@pytest.mark.parametrize("method", ["resolve_audience", "audience_summary"])
@pytest.mark.parametrize("role", [Role.ENTERPRISE, Role.GRID_WORKER, Role.GRID_LEADER])
def test_the_rpc_refuses_callers_who_do_not_read_the_whole_registry(role, method, platform):
    with pytest.raises(RemoteError) as refused:
        call(role, {}, method=method)
    assert refused.value.exc_type == "Forbidden"


@pytest.mark.parametrize("spec", [
    {"industry_codes": ["Z99"]}, {"scales": ["huge"]}, {"enterprise_ids": ["nope"]},
    {"listed": "maybe"}, {"colour": ["red"]}, ["not", "an", "object"],
])
@pytest.mark.parametrize("method", ["resolve_audience", "audience_summary"])
def test_the_rpc_rejects_bad_criteria(spec, method, platform):
    with pytest.raises(RemoteError) as rejected:
        call(Role.SERVICE, spec, method=method)
    assert rejected.value.exc_type == "ValidationFailed"
