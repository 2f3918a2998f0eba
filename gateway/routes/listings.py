"""``/api/v1/listings`` and ``/api/v1/dockings``: the supply/demand board (供求信息互通平台),
served by the supplydemand service.

Enterprises publish what they offer and need (点对面发布) and dock one to one (点对点对接);
grid staff act for the enterprises of their grids; coordinators and admins moderate; other
staff read. Contacts are never on a listing: they are exchanged by an accepted docking.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from common.auth import STAFF_ROLES, Role
from gateway.endpoints import Call, Endpoint
from services.supplydemand.schemas import (
    BoardStatsSchema,
    DockingCreateSchema,
    DockingDecisionSchema,
    DockingPageSchema,
    DockingQuerySchema,
    DockingSchema,
    ListingCreateSchema,
    ListingPageSchema,
    ListingQuerySchema,
    ListingSchema,
    ListingUpdateSchema,
    MatchPageSchema,
    MatchQuerySchema,
    ModerationSchema,
    SearchQuerySchema,
)

GRID_ROLES = frozenset({Role.GRID_WORKER, Role.GRID_LEADER})
#: who publishes and docks: an enterprise for itself, grid staff for their grids' enterprises
PUBLISHERS = frozenset({Role.ENTERPRISE}) | GRID_ROLES
MODERATORS = frozenset({Role.COORDINATOR, Role.ADMIN})
#: staff who read every listing and docking (and the board's figures)
READERS = frozenset(STAFF_ROLES) - GRID_ROLES
SERVICE = "supplydemand"


def _listing(call: Call) -> str:
    return call.path_params["listing_id"]


def _docking(call: Call) -> str:
    return call.path_params["docking_id"]


async def publish_listing(call: Call) -> JSONResponse:
    created = await call.rpc(SERVICE, "publish_listing", await call.request.json())
    return JSONResponse(created, status_code=201,
                        headers={"Location": f"/api/v1/listings/{created['id']}",
                                 "ETag": f'"{created["version"]}"'})


async def list_listings(call: Call) -> dict[str, Any]:
    return await call.rpc(SERVICE, "list_listings", dict(call.request.query_params))


async def search_listings(call: Call) -> dict[str, Any]:
    return await call.rpc(SERVICE, "search_listings", dict(call.request.query_params))


async def board_stats(call: Call) -> dict[str, Any]:
    return await call.rpc(SERVICE, "board_stats")


async def get_listing(call: Call) -> dict[str, Any]:
    return await call.rpc(SERVICE, "get_listing", _listing(call))


async def update_listing(call: Call) -> dict[str, Any]:
    payload = await call.request.json()
    if call.if_match is not None:
        payload["version"] = call.if_match
    return await call.rpc(SERVICE, "update_listing", _listing(call), payload)


async def close_listing(call: Call) -> dict[str, Any]:
    return await call.rpc(SERVICE, "close_listing", _listing(call), **call.expected_version)


async def hide_listing(call: Call) -> dict[str, Any]:
    return await call.rpc(SERVICE, "hide_listing", _listing(call), await call.request.json(),
                          **call.expected_version)


async def restore_listing(call: Call) -> dict[str, Any]:
    return await call.rpc(SERVICE, "restore_listing", _listing(call),
                          await call.request.json(), **call.expected_version)


async def listing_matches(call: Call) -> dict[str, Any]:
    return await call.rpc(SERVICE, "listing_matches", _listing(call),
                          dict(call.request.query_params))


async def request_docking(call: Call) -> JSONResponse:
    created = await call.rpc(SERVICE, "request_docking", await call.request.json())
    return JSONResponse(created, status_code=201,
                        headers={"Location": f"/api/v1/dockings/{created['id']}",
                                 "ETag": f'"{created["version"]}"'})


async def list_dockings(call: Call) -> dict[str, Any]:
    return await call.rpc(SERVICE, "list_dockings", dict(call.request.query_params))


async def get_docking(call: Call) -> dict[str, Any]:
    return await call.rpc(SERVICE, "get_docking", _docking(call))


async def accept_docking(call: Call) -> dict[str, Any]:
    return await call.rpc(SERVICE, "accept_docking", _docking(call), await call.request.json(),
                          **call.expected_version)


async def decline_docking(call: Call) -> dict[str, Any]:
    return await call.rpc(SERVICE, "decline_docking", _docking(call),
                          await call.request.json(), **call.expected_version)


ENDPOINTS = [
    Endpoint("POST", "/api/v1/listings", publish_listing, "Publish a listing", "listings",
             roles=PUBLISHERS, body=ListingCreateSchema, response=ListingSchema, status=201,
             errors=(400, 413, 415, 422, 503),
             description="点对面发布. An enterprise publishes for itself; grid staff name an "
             "enterprise of their grids (`enterprise_id`). The enterprise must be in scope. "
             "Live listings of the other side that score at or above the threshold are "
             "notified to both enterprises (event `listing_matched`, once per pair)."),
    Endpoint("GET", "/api/v1/listings", list_listings, "List the listings you manage",
             "listings", query=ListingQuerySchema, response=ListingPageSchema, errors=(422,),
             description="An enterprise sees its own listings in every status; grid staff "
             "those of their grids' enterprises; other staff all. Browse the board with "
             "`/api/v1/listings/search`."),
    Endpoint("GET", "/api/v1/listings/search", search_listings, "Search the board",
             "listings", query=SearchQuerySchema, response=MatchPageSchema, errors=(422,),
             description="Live listings only (published, within their validity, enterprise "
             "in scope), ranked like matches: shared words (jieba segmentation, full-text "
             "index), industry proximity, category, region, freshness; each result explains "
             "its score."),
    Endpoint("GET", "/api/v1/listings/stats", board_stats, "Show the board's figures",
             "listings", roles=READERS, response=BoardStatsSchema,
             description="Listings by side and status, pairs notified, dockings by outcome."),
    Endpoint("GET", "/api/v1/listings/{listing_id}", get_listing, "Show a listing",
             "listings", response=ListingSchema, errors=(404,),
             description="A live listing to anyone; any other only to its enterprise, its grid "
             "staff and platform staff. Never carries contacts."),
    Endpoint("PATCH", "/api/v1/listings/{listing_id}", update_listing, "Change a listing",
             "listings", roles=PUBLISHERS, body=ListingUpdateSchema, response=ListingSchema,
             errors=(400, 403, 404, 409, 412, 413, 415, 422), versioned=True,
             description="Its enterprise or grid staff. Send the ETag as If-Match (or "
             "`version`) to refuse a stale write (412). A closed or hidden listing cannot "
             "change (409); an expired one is back on the board when `valid_until` moves on."),
    Endpoint("POST", "/api/v1/listings/{listing_id}/close", close_listing, "Close a listing",
             "listings", roles=PUBLISHERS, response=ListingSchema,
             errors=(400, 403, 404, 409, 412), versioned=True,
             description="撤回: off the board for good."),
    Endpoint("POST", "/api/v1/listings/{listing_id}/hide", hide_listing, "Hide a listing",
             "listings", roles=MODERATORS, body=ModerationSchema, response=ListingSchema,
             errors=(400, 404, 409, 412, 413, 415, 422), versioned=True,
             description="屏蔽 by platform staff, with a reason shown to its enterprise."),
    Endpoint("POST", "/api/v1/listings/{listing_id}/restore", restore_listing,
             "Restore a hidden listing", "listings", roles=MODERATORS, body=ModerationSchema,
             response=ListingSchema, errors=(400, 404, 409, 412, 413, 415, 422),
             versioned=True,
             description="恢复: back as it was, or expired if its end date passed."),
    Endpoint("GET", "/api/v1/listings/{listing_id}/matches", listing_matches,
             "Show a listing's matches", "listings", query=MatchQuerySchema,
             response=MatchPageSchema, errors=(404, 422),
             description="点对点: the other side's live listings (not the same enterprise's) "
             "ranked for this one, best first, each with its score and explanation."),
    Endpoint("POST", "/api/v1/dockings", request_docking, "Ask to dock about a listing",
             "dockings", roles=PUBLISHERS, body=DockingCreateSchema, response=DockingSchema,
             status=201, errors=(400, 409, 413, 415, 422, 503),
             description="对接: enterprise A asks B about B's live listing, with a message "
             "(event `docking_requested`). One open request per listing and enterprise (409)."),
    Endpoint("GET", "/api/v1/dockings", list_dockings, "List dockings", "dockings",
             query=DockingQuerySchema, response=DockingPageSchema, errors=(422,),
             description="An enterprise its own (sent and received); grid staff those of "
             "their grids' enterprises; other staff all."),
    Endpoint("GET", "/api/v1/dockings/{docking_id}", get_docking, "Show a docking",
             "dockings", response=DockingSchema, errors=(404,),
             description="To its two parties and platform staff, with its history; contacts "
             "once accepted."),
    Endpoint("POST", "/api/v1/dockings/{docking_id}/accept", accept_docking,
             "Accept a docking request", "dockings", roles=PUBLISHERS,
             body=DockingDecisionSchema, response=DockingSchema,
             errors=(400, 403, 404, 409, 412, 413, 415, 422, 503), versioned=True,
             description="The listing's enterprise (or its grid staff) accepts: each party "
             "gets the other's contacts (event `docking_accepted`). Of two concurrent "
             "decisions exactly one wins; the other is 409."),
    Endpoint("POST", "/api/v1/dockings/{docking_id}/decline", decline_docking,
             "Decline a docking request", "dockings", roles=PUBLISHERS,
             body=DockingDecisionSchema, response=DockingSchema,
             errors=(400, 403, 404, 409, 412, 413, 415, 422), versioned=True,
             description="No contact is exchanged (event `docking_declined`)."),
]
