"""``/api/v1/meetings``: government-enterprise meetings (政企座谈): planning, invitations to a
targeted audience, registration (报名), attendance (签到), feedback (反馈), the quarterly themes
(季季有主题) and the yearly report against the plan, served by the enterprise service."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from common.auth import Role
from gateway.endpoints import Call, Endpoint
from services.enterprise.schemas import (
    AudienceResultSchema,
    MeetingAttendanceCreateSchema,
    MeetingCancelSchema,
    MeetingCreateSchema,
    MeetingFeedbackCreateSchema,
    MeetingFeedbackSchema,
    MeetingInvitationPageSchema,
    MeetingInvitationQuerySchema,
    MeetingPageSchema,
    MeetingQuerySchema,
    MeetingRegistrationCreateSchema,
    MeetingRegistrationSchema,
    MeetingReportQuerySchema,
    MeetingReportSchema,
    MeetingSchema,
    MeetingSettingsSchema,
    MeetingThemeListSchema,
    MeetingThemeQuerySchema,
    MeetingThemeSchema,
    MeetingThemeSetSchema,
    MeetingUpdateSchema,
)

#: plan and manage every meeting, see all, set the quarterly themes
MANAGE_ALL = frozenset({Role.COORDINATOR, Role.LEADER, Role.ADMIN})
#: plan and manage meetings (department heads: their department's)
MANAGERS = MANAGE_ALL | {Role.DEPARTMENT_HEAD}
#: staff who see meetings (grid leaders and workers: those concerning their grids, read only)
STAFF = MANAGERS | {Role.GRID_LEADER, Role.GRID_WORKER}
#: everyone who sees meetings (an enterprise: those it is invited to)
VIEWERS = STAFF | {Role.ENTERPRISE}
ENTERPRISE = frozenset({Role.ENTERPRISE})


def _id(call: Call) -> str:
    return call.path_params["meeting_id"]


async def plan_meeting(call: Call) -> JSONResponse:
    """Plan a meeting."""
    meeting = await call.rpc("enterprise", "plan_meeting", await call.request.json())
    return JSONResponse(meeting, status_code=201, headers={
        "Location": f"/api/v1/meetings/{meeting['id']}", "ETag": f'"{meeting["version"]}"'})


async def list_meetings(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "list_meetings", dict(call.request.query_params))


async def get_meeting(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "get_meeting", _id(call))


async def update_meeting(call: Call) -> dict[str, Any]:
    payload = await call.request.json()
    payload.pop("version", None)  # already checked against If-Match; passed on below
    version = call.if_match if call.if_match is not None else call.body.get("version")
    return await call.rpc("enterprise", "update_meeting", _id(call), payload,
                          expected_version=version)


async def preview_meeting_audience(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "preview_meeting_audience", _id(call))


async def invite_to_meeting(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "invite_to_meeting", _id(call),
                          **call.expected_version)


async def list_meeting_invitations(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "list_meeting_invitations", _id(call),
                          dict(call.request.query_params))


async def register_for_meeting(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "register_for_meeting", _id(call),
                          await call.request.json())


async def record_meeting_attendance(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "record_meeting_attendance", _id(call),
                          await call.request.json(), **call.expected_version)


async def give_meeting_feedback(call: Call) -> JSONResponse:
    feedback = await call.rpc("enterprise", "give_meeting_feedback", _id(call),
                              await call.request.json())
    return JSONResponse(feedback, status_code=201)


async def cancel_meeting(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "cancel_meeting", _id(call), await call.request.json(),
                          **call.expected_version)


async def list_meeting_themes(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "list_meeting_themes", dict(call.request.query_params))


async def set_meeting_theme(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "set_meeting_theme", await call.request.json())


async def get_meeting_settings(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "get_meeting_settings")


async def update_meeting_settings(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "update_meeting_settings", await call.request.json(),
                          **call.expected_version)


async def meeting_report(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "meeting_report", dict(call.request.query_params))


SCOPE = ("Coordinators, leaders and admins see every meeting; a department head the meetings "
         "their department organises; a grid leader or grid worker those whose audience "
         "names one of their grids, whose invitees include an enterprise of their grids, or "
         "(before invitations) whose audience names no grid; an enterprise those it is "
         "invited to. Others: 404.")

ENDPOINTS = [
    Endpoint(
        "POST", "/api/v1/meetings", plan_meeting, "Plan a meeting", "meetings",
        roles=MANAGERS, body=MeetingCreateSchema, response=MeetingSchema, status=201,
        errors=(400, 403, 415, 422),
        description="政企座谈: theme, time (in the future), place, organiser department and the "
        "audience (目标企业: grid_ids, industry_codes prefixes, scales, incubator_ids, tags for a "
        "stage such as 初创期 or a core demand, listed, strengths keywords, enterprise_ids; AND "
        "across criteria, OR within one; empty = every in-scope enterprise). Department heads "
        "plan for their own department only.",
    ),
    Endpoint(
        "GET", "/api/v1/meetings", list_meetings, "List meetings", "meetings",
        roles=VIEWERS, query=MeetingQuerySchema, response=MeetingPageSchema, errors=(422,),
        description=SCOPE + " Latest start first.",
    ),
    # before /meetings/{meeting_id}: these are not ids
    Endpoint(
        "GET", "/api/v1/meetings/report", meeting_report, "Show the yearly meeting report",
        "meetings", roles=MANAGERS, query=MeetingReportQuerySchema,
        response=MeetingReportSchema, errors=(403, 422),
        description="Held meetings of the year (Asia/Shanghai) against the plan: `held` vs "
        "`minimum` (全年不少于12次, a setting); per month the held meetings, an ended month "
        "without one is missed (月月有活动); per quarter its theme and the held meetings that "
        "follow it (the theme occurs in the meeting's theme or topics), an ended quarter "
        "without one is missed (季季有主题); attendance_rate = attended / invited, "
        "show_up_rate = registered that attended / registered, average_rating of the "
        "feedback. Department heads: their department's meetings only.",
    ),
    Endpoint(
        "GET", "/api/v1/meetings/themes", list_meeting_themes, "List the quarterly themes",
        "meetings", roles=STAFF, query=MeetingThemeQuerySchema,
        response=MeetingThemeListSchema, errors=(422,),
    ),
    Endpoint(
        "PUT", "/api/v1/meetings/themes", set_meeting_theme, "Set a quarterly theme",
        "meetings", roles=MANAGE_ALL, body=MeetingThemeSetSchema, response=MeetingThemeSchema,
        errors=(400, 415, 422),
        description="季季有主题: the theme of one quarter; setting it again replaces it.",
    ),
    Endpoint(
        "GET", "/api/v1/meetings/settings", get_meeting_settings,
        "Show the meeting settings", "meetings", roles=STAFF, response=MeetingSettingsSchema,
    ),
    Endpoint(
        "PUT", "/api/v1/meetings/settings", update_meeting_settings,
        "Change the meeting settings", "meetings", roles=frozenset({Role.ADMIN}),
        body=MeetingSettingsSchema, response=MeetingSettingsSchema,
        errors=(400, 412, 415, 422), versioned=True,
        description="yearly_minimum: the meetings a year the report measures against "
        "(default 12). Send the ETag as If-Match (or `version`) to refuse a stale write "
        "(412); a change bumps `version`.",
    ),
    Endpoint(
        "GET", "/api/v1/meetings/{meeting_id}", get_meeting, "Show a meeting", "meetings",
        roles=VIEWERS, response=MeetingSchema, errors=(404,),
        description=SCOPE + " Staff see the audience and the counts; an enterprise its own "
        "invitation (response, attended, feedback).",
    ),
    Endpoint(
        "PATCH", "/api/v1/meetings/{meeting_id}", update_meeting, "Change a meeting",
        "meetings", roles=MANAGERS, body=MeetingUpdateSchema, response=MeetingSchema,
        versioned=True, errors=(400, 403, 404, 409, 415, 422),
        description="Any field while planned; once invitations were sent only description "
        "and organiser_contact (409 otherwise: cancel and plan again).",
    ),
    Endpoint(
        "GET", "/api/v1/meetings/{meeting_id}/audience", preview_meeting_audience,
        "Preview a meeting's audience", "meetings", roles=MANAGERS,
        response=AudienceResultSchema, errors=(403, 404),
        description="The in-scope enterprises the audience names right now; after the "
        "invitations, the invitees.",
    ),
    Endpoint(
        "POST", "/api/v1/meetings/{meeting_id}/invite", invite_to_meeting,
        "Send a meeting's invitations", "meetings", roles=MANAGERS, response=MeetingSchema,
        versioned=True, errors=(403, 404, 409, 422),
        description="The audience is resolved now against the registry (in-scope enterprises "
        "only) and the invitees are kept; event `meeting_invited` {meeting_id, theme, "
        "starts_at, place, enterprise_ids}. Once only, before the start (409); an audience "
        "matching nobody is 422.",
    ),
    Endpoint(
        "GET", "/api/v1/meetings/{meeting_id}/invitations", list_meeting_invitations,
        "List a meeting's invitees", "meetings", roles=STAFF,
        query=MeetingInvitationQuerySchema, response=MeetingInvitationPageSchema,
        errors=(404, 422),
        description="Each invitee with its registration, attendance and feedback; grid "
        "leaders see their grids' invitees only. response=none: not answered yet.",
    ),
    Endpoint(
        "PUT", "/api/v1/meetings/{meeting_id}/registration", register_for_meeting,
        "Register for a meeting", "meetings", roles=ENTERPRISE,
        body=MeetingRegistrationCreateSchema, response=MeetingRegistrationSchema,
        errors=(400, 404, 409, 415, 422),
        description="报名 (response registered) or decline (declined) by an invited "
        "enterprise; may change until the meeting starts. After the start, or when cancelled "
        "or full (capacity), 409; a meeting the enterprise is not invited to is 404.",
    ),
    Endpoint(
        "PUT", "/api/v1/meetings/{meeting_id}/attendance", record_meeting_attendance,
        "Record a meeting's attendance", "meetings", roles=MANAGERS,
        body=MeetingAttendanceCreateSchema, response=MeetingSchema, versioned=True,
        errors=(400, 403, 404, 409, 415, 422),
        description="签到, once the meeting has started: the invitees that attended (the "
        "others are absent); the meeting becomes held. Again: replaces the list. A "
        "non-invitee is 422.",
    ),
    Endpoint(
        "POST", "/api/v1/meetings/{meeting_id}/feedback", give_meeting_feedback,
        "Give feedback on a meeting", "meetings", roles=ENTERPRISE,
        body=MeetingFeedbackCreateSchema, response=MeetingFeedbackSchema, status=201,
        errors=(400, 403, 404, 409, 415, 422),
        description="反馈 by an enterprise that attended the held meeting: rating 1-5 and a "
        "comment, once (409 again). Not attended: 403.",
    ),
    Endpoint(
        "POST", "/api/v1/meetings/{meeting_id}/cancel", cancel_meeting, "Cancel a meeting",
        "meetings", roles=MANAGERS, body=MeetingCancelSchema, response=MeetingSchema,
        versioned=True, errors=(400, 403, 404, 409, 415, 422),
        description="With a reason, before it is held; invitees hear of it (event "
        "`meeting_cancelled`).",
    ),
]
