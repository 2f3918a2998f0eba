"""``/api/v1/zone``: the zone resources module (区域资源模块) — carriers (载体) and their tenants,
projects under construction (在建项目) and milestones, research institutes (科研机构), leading
industries (主导产业) and their chain maps (产业链图谱), served by the enterprise service. The
economic figures and the business environment are in :mod:`gateway.routes.zone_economy`.

Staff read everything here; enterprise users read the carriers' public vacancy information and
the leading-industry list only (the service strips the rest).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from common.auth import Role
from gateway.endpoints import ALL_ROLES, Call, Endpoint
from services.enterprise.schemas import PageQuery
from services.enterprise.zone.schemas import (
    CarrierCreateSchema,
    CarrierPageSchema,
    CarrierQuerySchema,
    CarrierSchema,
    CarrierUpdateSchema,
    ChainMapSchema,
    ChainSetSchema,
    IndustryCreateSchema,
    IndustryListSchema,
    IndustryMemberPageSchema,
    IndustrySchema,
    IndustryUpdateSchema,
    InstituteCreateSchema,
    InstitutePageSchema,
    InstituteQuerySchema,
    InstituteSchema,
    InstituteUpdateSchema,
    MilestoneSetSchema,
    ProjectCreateSchema,
    ProjectPageSchema,
    ProjectQuerySchema,
    ProjectSchema,
    ProjectSweepSchema,
    ProjectUpdateSchema,
    TenancyCreateSchema,
    TenancyEndSchema,
    TenancySchema,
    TenantPageSchema,
    ZoneOverviewSchema,
)

#: the committee's staff (everyone but enterprise users)
STAFF = ALL_ROLES - {Role.ENTERPRISE}
#: keep carriers, tenancies and institutes
EDITORS = frozenset({Role.ADMIN, Role.COORDINATOR})
#: keep projects: the editors, and the liaison and head of the project's department
PROJECT_EDITORS = EDITORS | {Role.LIAISON, Role.DEPARTMENT_HEAD}
ADMIN = frozenset({Role.ADMIN})


def _created(result: dict[str, Any], location: str) -> JSONResponse:
    return JSONResponse(result, status_code=201, headers={
        "Location": location, "ETag": f'"{result["version"]}"'})


def _versioned_body(call: Call) -> tuple[dict[str, Any], int | None]:
    """The body as sent (the service validates it again) and the version the caller read
    (If-Match, or the body's ``version``)."""
    return call.body, (call.if_match if call.if_match is not None
                       else call.body.get("version"))


async def _versioned_update(call: Call, method: str, *ids: str) -> dict[str, Any]:
    """A write of a versioned record: the body without its ``version``, and the version the
    caller read (:func:`_versioned_body`) for the service to check."""
    payload = await call.request.json()
    payload.pop("version", None)
    _, version = _versioned_body(call)
    return await call.rpc("enterprise", method, *ids, payload, expected_version=version)


def _params(call: Call) -> dict[str, Any]:
    return dict(call.request.query_params)


# --- overview -----------------------------------------------------------------------------------

async def zone_overview(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "zone_overview")


# --- carriers ----------------------------------------------------------------------------------

def _carrier(call: Call) -> str:
    return call.path_params["carrier_id"]


async def list_carriers(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "list_carriers", _params(call))


async def create_carrier(call: Call) -> JSONResponse:
    carrier = await call.rpc("enterprise", "create_carrier", await call.request.json())
    return _created(carrier, f"/api/v1/zone/carriers/{carrier['id']}")


async def get_carrier(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "get_carrier", _carrier(call))


async def update_carrier(call: Call) -> dict[str, Any]:
    return await _versioned_update(call, "update_carrier", _carrier(call))


async def list_carrier_tenants(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "list_carrier_tenants", _carrier(call), _params(call))


async def record_tenancy(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "record_tenancy", _carrier(call),
                          await call.request.json())


async def end_tenancy(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "end_tenancy", _carrier(call),
                          call.path_params["enterprise_id"], await call.request.json())


# --- projects -----------------------------------------------------------------------------------

def _project(call: Call) -> str:
    return call.path_params["project_id"]


async def list_projects(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "list_projects", _params(call))


async def create_project(call: Call) -> JSONResponse:
    project = await call.rpc("enterprise", "create_project", await call.request.json())
    return _created(project, f"/api/v1/zone/projects/{project['id']}")


async def get_project(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "get_project", _project(call))


async def update_project(call: Call) -> dict[str, Any]:
    return await _versioned_update(call, "update_project", _project(call))


async def record_milestone(call: Call) -> dict[str, Any]:
    return await _versioned_update(call, "record_milestone", _project(call),
                                   call.path_params["milestone"])


async def sweep_project_delays(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "sweep_project_delays")


# --- institutes ---------------------------------------------------------------------------------

def _institute(call: Call) -> str:
    return call.path_params["institute_id"]


async def list_institutes(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "list_institutes", _params(call))


async def create_institute(call: Call) -> JSONResponse:
    institute = await call.rpc("enterprise", "create_institute", await call.request.json())
    return _created(institute, f"/api/v1/zone/institutes/{institute['id']}")


async def get_institute(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "get_institute", _institute(call))


async def update_institute(call: Call) -> dict[str, Any]:
    return await _versioned_update(call, "update_institute", _institute(call))


# --- leading industries -------------------------------------------------------------------------

def _industry(call: Call) -> str:
    return call.path_params["industry_id"]


async def list_leading_industries(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "list_leading_industries")


async def create_leading_industry(call: Call) -> JSONResponse:
    item = await call.rpc("enterprise", "create_leading_industry", await call.request.json())
    return _created(item, f"/api/v1/zone/industries/{item['id']}")


async def get_leading_industry(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "get_leading_industry", _industry(call))


async def update_leading_industry(call: Call) -> dict[str, Any]:
    return await _versioned_update(call, "update_leading_industry", _industry(call))


async def leading_industry_members(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "leading_industry_members", _industry(call),
                          _params(call))


async def get_chain_map(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "chain_map", _industry(call))


async def set_chain(call: Call) -> dict[str, Any]:
    return await _versioned_update(call, "set_chain", _industry(call))


VERSIONED = ("Send the ETag as If-Match (or `version`) to refuse a stale write (412).")

ENDPOINTS = [
    Endpoint("GET", "/api/v1/zone", zone_overview, "Show the zone resources at a glance",
             "zone", roles=STAFF, response=ZoneOverviewSchema,
             description="区域资源: carriers by kind with their leasable, occupied and vacant "
             "area; projects by stage and how many are delayed; institutes by level; leading "
             "industries; the newest period with economic figures."),
    # carriers
    Endpoint("GET", "/api/v1/zone/carriers", list_carriers, "List carriers", "zone",
             query=CarrierQuerySchema, response=CarrierPageSchema, errors=(422,),
             description="载体: incubators, industrial parks, office and factory buildings, with "
             "tenants, occupied and vacant area. Enterprise users get the public vacancy "
             "information only (name, kind, address, location, leasable and vacant area, "
             "vacancy rate, leasing contact, opening day)."),
    Endpoint("POST", "/api/v1/zone/carriers", create_carrier, "Create a carrier", "zone",
             roles=EDITORS, body=CarrierCreateSchema, response=CarrierSchema, status=201,
             errors=(409, 422),
             description="An incubator may link its incubator grid (`grid_id`): its address "
             "and location default to the grid's, and its tenants include the grid's in-scope "
             "enterprises."),
    Endpoint("GET", "/api/v1/zone/carriers/{carrier_id}", get_carrier, "Show a carrier",
             "zone", response=CarrierSchema, errors=(404,),
             description="Enterprise users: the public vacancy information only."),
    Endpoint("PATCH", "/api/v1/zone/carriers/{carrier_id}", update_carrier, "Change a carrier",
             "zone", roles=EDITORS, body=CarrierUpdateSchema, response=CarrierSchema,
             errors=(404, 409, 412, 422), versioned=True,
             description="The leasable area may not fall below the area already let. "
             + VERSIONED),
    Endpoint("GET", "/api/v1/zone/carriers/{carrier_id}/tenants", list_carrier_tenants,
             "List a carrier's tenants", "zone", roles=STAFF, query=PageQuery,
             response=TenantPageSchema, errors=(404, 422),
             description="The in-scope enterprises located in it (its incubator grid's and "
             "those with an open tenancy), by name, with their area and since when."),
    Endpoint("POST", "/api/v1/zone/carriers/{carrier_id}/tenancies", record_tenancy,
             "Record a tenancy", "zone", roles=EDITORS, body=TenancyCreateSchema,
             response=TenancySchema, errors=(404, 422),
             description="入驻: an enterprise occupies `area` m² from `moved_in_on`; again for "
             "an open tenancy: its area and day change. Refused when the carrier's leasable "
             "area would be exceeded."),
    Endpoint("POST", "/api/v1/zone/carriers/{carrier_id}/tenancies/{enterprise_id}/end",
             end_tenancy, "End a tenancy", "zone", roles=EDITORS, body=TenancyEndSchema,
             response=TenancySchema, errors=(404, 422),
             description="迁出: the open tenancy ends on `moved_out_on` (default today)."),
    # projects
    Endpoint("GET", "/api/v1/zone/projects", list_projects, "List projects under construction",
             "zone", roles=STAFF, query=ProjectQuerySchema, response=ProjectPageSchema,
             errors=(422,),
             description="在建项目 with their milestones, stage (the last milestone done) and "
             "delays (a planned day passed, not done)."),
    Endpoint("POST", "/api/v1/zone/projects", create_project, "Create a project", "zone",
             roles=PROJECT_EDITORS, body=ProjectCreateSchema, response=ProjectSchema,
             status=201, errors=(403, 409, 422),
             description="Responsible department 建设部 unless named; its liaison and head, "
             "coordinators and admins keep the project. The investor is a registered "
             "enterprise or a name (and credit code, linked once it registers)."),
    Endpoint("POST", "/api/v1/zone/projects/sweep", sweep_project_delays,
             "Run the project delay sweep now", "zone", roles=ADMIN,
             response=ProjectSweepSchema,
             description="Tells each responsible department about milestones newly past their "
             "planned day (the sweep also runs on its own every PROJECT_SWEEP_SECONDS)."),
    Endpoint("GET", "/api/v1/zone/projects/{project_id}", get_project, "Show a project", "zone",
             roles=STAFF, response=ProjectSchema, errors=(404,)),
    Endpoint("PATCH", "/api/v1/zone/projects/{project_id}", update_project, "Change a project",
             "zone", roles=PROJECT_EDITORS, body=ProjectUpdateSchema, response=ProjectSchema,
             errors=(403, 404, 409, 412, 422), versioned=True, description=VERSIONED),
    Endpoint("PUT", "/api/v1/zone/projects/{project_id}/milestones/{milestone}",
             record_milestone, "Plan or record a milestone", "zone", roles=PROJECT_EDITORS,
             body=MilestoneSetSchema, response=ProjectSchema,
             errors=(403, 404, 409, 412, 422), versioned=True,
             description="Milestones in order: land, permits, construction_start, "
             "topping_out, completion_acceptance (竣工备案), production (投产). Recording "
             "production brings the investor (a registered enterprise) into scope "
             "(`scope_changed`, reason completion_accepted), gives it the grid of the site "
             "when it had none, and tells its grid staff. " + VERSIONED),
    # institutes
    Endpoint("GET", "/api/v1/zone/institutes", list_institutes, "List research institutes",
             "zone", roles=STAFF, query=InstituteQuerySchema, response=InstitutePageSchema,
             errors=(422,)),
    Endpoint("POST", "/api/v1/zone/institutes", create_institute, "Create a research institute",
             "zone", roles=EDITORS, body=InstituteCreateSchema, response=InstituteSchema,
             status=201, errors=(409, 422)),
    Endpoint("GET", "/api/v1/zone/institutes/{institute_id}", get_institute,
             "Show a research institute", "zone", roles=STAFF, response=InstituteSchema,
             errors=(404,)),
    Endpoint("PATCH", "/api/v1/zone/institutes/{institute_id}", update_institute,
             "Change a research institute", "zone", roles=EDITORS,
             body=InstituteUpdateSchema, response=InstituteSchema,
             errors=(404, 409, 412, 422), versioned=True,
             description="`partner_enterprise_ids` replaces the partners. " + VERSIONED),
    # leading industries
    Endpoint("GET", "/api/v1/zone/industries", list_leading_industries,
             "List leading industries", "zone", response=IndustryListSchema,
             description="主导产业. Enterprise users: the list without member counts."),
    Endpoint("POST", "/api/v1/zone/industries", create_leading_industry,
             "Define a leading industry", "zone", roles=ADMIN, body=IndustryCreateSchema,
             response=IndustrySchema, status=201, errors=(409, 422),
             description="Enterprises fall into it by GB/T 4754 code prefix or by tag."),
    Endpoint("GET", "/api/v1/zone/industries/{industry_id}", get_leading_industry,
             "Show a leading industry", "zone", response=IndustrySchema, errors=(404,)),
    Endpoint("PATCH", "/api/v1/zone/industries/{industry_id}", update_leading_industry,
             "Change a leading industry", "zone", roles=ADMIN, body=IndustryUpdateSchema,
             response=IndustrySchema, errors=(404, 409, 412, 422), versioned=True,
             description=VERSIONED),
    Endpoint("GET", "/api/v1/zone/industries/{industry_id}/enterprises",
             leading_industry_members, "List a leading industry's enterprises", "zone",
             roles=STAFF, query=PageQuery, response=IndustryMemberPageSchema,
             errors=(404, 422)),
    Endpoint("GET", "/api/v1/zone/industries/{industry_id}/chain", get_chain_map,
             "Show a chain map", "zone", roles=STAFF, response=ChainMapSchema, errors=(404,),
             description="产业链图谱: the links by stage with their providers in the zone, the "
             "gaps (补链: links nobody in the zone provides) and the members' upstream and "
             "downstream entries that no link covers."),
    Endpoint("PUT", "/api/v1/zone/industries/{industry_id}/chain", set_chain,
             "Replace a chain", "zone", roles=ADMIN, body=ChainSetSchema,
             response=ChainMapSchema, errors=(404, 412, 422), versioned=True,
             description="The industry's version counts the change. " + VERSIONED),
]
