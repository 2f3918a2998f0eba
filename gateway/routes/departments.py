"""``/api/v1/departments``, ``/api/v1/categories``, ``/api/v1/leading-group``: who handles what."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from common.auth import Role
from gateway.endpoints import Call, Endpoint
from services.enterprise.schemas import (
    CategoryCreateSchema,
    CategorySchema,
    CategoryUpdateSchema,
    DepartmentSchema,
    DepartmentUpdateSchema,
    LeadingGroupSchema,
)

ADMIN = frozenset({Role.ADMIN})
IF_MATCH = ("Send the ETag last read as If-Match to refuse a stale write (412); a change "
            "bumps `version`.")
DepartmentListSchema = Schema.from_dict(
    {"items": fields.List(fields.Nested(DepartmentSchema), required=True)}, name="DepartmentList")
CategoryListSchema = Schema.from_dict(
    {"items": fields.List(fields.Nested(CategorySchema), required=True)}, name="CategoryList")


async def list_departments(call: Call) -> dict[str, Any]:
    return {"items": await call.rpc("enterprise", "list_departments")}


async def get_department(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "get_department", call.path_params["department_id"])


async def update_department(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "update_department", call.path_params["department_id"],
                          await call.request.json(), **call.expected_version)


async def list_categories(call: Call) -> dict[str, Any]:
    return {"items": await call.rpc("enterprise", "list_categories")}


async def get_category(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "get_category", call.path_params["code"])


async def create_category(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "create_category", await call.request.json())


async def update_category(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "update_category", call.path_params["code"],
                          await call.request.json(), **call.expected_version)


async def get_leading_group(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "leading_group")


ENDPOINTS = [
    Endpoint("GET", "/api/v1/departments", list_departments, "List departments", "departments",
             response=DepartmentListSchema,
             description="部门 and 派驻机构 with their liaison (联络员), head, leader in charge "
             "(分管领导) and the demand categories they handle."),
    Endpoint("GET", "/api/v1/departments/{department_id}", get_department, "Show a department",
             "departments", response=DepartmentSchema, errors=(404,)),
    Endpoint("PATCH", "/api/v1/departments/{department_id}", update_department,
             "Name a department's liaison, head or leader", "departments", roles=ADMIN,
             body=DepartmentUpdateSchema, response=DepartmentSchema, errors=(404, 412, 422),
             versioned=True, description=IF_MATCH),
    Endpoint("GET", "/api/v1/categories", list_categories, "List demand categories",
             "departments", response=CategoryListSchema,
             description="诉求类别 → responsible department; triage suggests departments "
             "from this table."),
    Endpoint("POST", "/api/v1/categories", create_category, "Add a demand category",
             "departments", roles=ADMIN, body=CategoryCreateSchema, response=CategorySchema,
             status=201, errors=(409, 422)),
    Endpoint("GET", "/api/v1/categories/{code}", get_category, "Show a demand category",
             "departments", response=CategorySchema, errors=(404,)),
    Endpoint("PUT", "/api/v1/categories/{code}", update_category,
             "Route a demand category to a department", "departments", roles=ADMIN,
             body=CategoryUpdateSchema, response=CategorySchema, errors=(404, 412, 422),
             versioned=True, description="Moving a category also changes the version of both "
             "departments (their lists of categories). " + IF_MATCH),
    Endpoint("GET", "/api/v1/leading-group", get_leading_group,
             "Show the leading group (领导小组)", "departments", response=LeadingGroupSchema),
]
