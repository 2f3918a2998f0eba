"""``/api/v1/profile-sources/precedence``: which source's value a profile shows."""

from __future__ import annotations

from typing import Any

from common.auth import Role
from gateway.endpoints import ALL_ROLES, Call, Endpoint
from services.enterprise.schemas import ProfileSourcePrecedenceSchema

STAFF = ALL_ROLES - {Role.ENTERPRISE}


async def get_precedence(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "profile_source_precedence")


async def set_precedence(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "set_profile_source_precedence",
                          await call.request.json())


ENDPOINTS = [
    Endpoint("GET", "/api/v1/profile-sources/precedence", get_precedence,
             "Show the profile sources' precedence", "enterprises", roles=STAFF,
             response=ProfileSourcePrecedenceSchema,
             description="The value a profile shows for a year and indicator is the one of "
                         "the first source in `order` that has one; within a source the newer "
                         "wins. Every value stays in the profile's history with its source "
                         "and date."),
    Endpoint("PUT", "/api/v1/profile-sources/precedence", set_precedence,
             "Change the profile sources' precedence", "enterprises",
             roles=frozenset({Role.ADMIN}), body=ProfileSourcePrecedenceSchema,
             response=ProfileSourcePrecedenceSchema, errors=(403, 422),
             description="Every profile source exactly once, highest precedence first; it "
                         "applies at once to profiles, lists, filters, sums and awards."),
]
