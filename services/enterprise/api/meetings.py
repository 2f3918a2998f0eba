"""RPC entrypoints of government-enterprise meetings (政企座谈). Thin: the rules are in
:mod:`services.enterprise.meetings`."""

from __future__ import annotations

from typing import Any

from common.concurrency import expected_version as checked_version
from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import rpc
from common.errors import NotFound
from common.validation import is_uuid, load
from services.enterprise import meetings
from services.enterprise.schemas import (
    AudienceResultSchema,
    MeetingAttendanceCreateSchema,
    MeetingCancelSchema,
    MeetingCreateSchema,
    MeetingFeedbackCreateSchema,
    MeetingFeedbackSchema,
    MeetingInvitationQuerySchema,
    MeetingInvitationSchema,
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

meeting_schema = MeetingSchema()


def _meeting_id(value: Any) -> str:
    if not isinstance(value, str) or not is_uuid(value):
        raise NotFound("no such meeting", code="meeting.not_found")
    return value


class MeetingsApi:
    """Expects ``self.db`` and ``self.caller`` from the service class."""

    db: WorkerDatabase
    caller: CallerContext

    def _view(self, session: Any, meeting: Any) -> dict[str, Any]:
        return meeting_schema.dump(meetings.views(session, self.caller.principal, [meeting])[0])

    @rpc
    def plan_meeting(self, payload: Any) -> dict[str, Any]:
        """Plan a 政企座谈 (state planned)."""
        principal = self.caller.principal
        data = load(MeetingCreateSchema(), payload)
        with self.db.transaction() as session:
            return self._view(session, meetings.plan(session, principal, data))

    @rpc
    def list_meetings(self, query: Any) -> dict[str, Any]:
        principal = self.caller.principal
        filters = load(MeetingQuerySchema(), query)
        with self.db.transaction() as session:
            rows, total = meetings.list_visible(session, principal, filters)
            items = meeting_schema.dump(meetings.views(session, principal, rows), many=True)
            return {"items": items, "total": total, "page": filters["page"],
                    "per_page": filters["per_page"]}

    @rpc
    def get_meeting(self, meeting_id: Any) -> dict[str, Any]:
        principal = self.caller.principal
        with self.db.transaction() as session:
            meeting = meetings.get_visible(session, principal, _meeting_id(meeting_id))
            return self._view(session, meeting)

    @rpc
    def update_meeting(self, meeting_id: Any, payload: Any,
                       expected_version: Any = None) -> dict[str, Any]:
        principal = self.caller.principal
        expected = checked_version(expected_version)
        data = load(MeetingUpdateSchema(), payload)
        with self.db.transaction() as session:
            meeting = meetings.update(session, principal, _meeting_id(meeting_id), data,
                                      expected)
            return self._view(session, meeting)

    @rpc
    def preview_meeting_audience(self, meeting_id: Any) -> dict[str, Any]:
        """Who the audience names now (before invitations); the invitees after."""
        principal = self.caller.principal
        with self.db.transaction() as session:
            ids = meetings.preview_audience(session, principal, _meeting_id(meeting_id))
        return AudienceResultSchema().dump({"enterprise_ids": ids, "count": len(ids)})

    @rpc
    def invite_to_meeting(self, meeting_id: Any, expected_version: Any = None
                          ) -> dict[str, Any]:
        """Send the invitations: the audience resolved now, ``meeting_invited`` published."""
        principal = self.caller.principal
        expected = checked_version(expected_version)
        with self.db.transaction() as session:
            meeting, _ids = meetings.invite(session, principal, _meeting_id(meeting_id),
                                            expected, call_id=self.caller.call_id)
            return self._view(session, meeting)

    @rpc
    def list_meeting_invitations(self, meeting_id: Any, query: Any) -> dict[str, Any]:
        principal = self.caller.principal
        filters = load(MeetingInvitationQuerySchema(), query)
        with self.db.transaction() as session:
            rows, total = meetings.invitations(session, principal, _meeting_id(meeting_id),
                                               filters)
            return {"items": MeetingInvitationSchema(many=True).dump(rows), "total": total,
                    "page": filters["page"], "per_page": filters["per_page"]}

    @rpc
    def register_for_meeting(self, meeting_id: Any, payload: Any) -> dict[str, Any]:
        """报名 or decline (an invited enterprise, before the start)."""
        principal = self.caller.principal
        data = load(MeetingRegistrationCreateSchema(), payload)
        with self.db.transaction() as session:
            registration = meetings.register(session, principal, _meeting_id(meeting_id), data)
            return MeetingRegistrationSchema().dump(registration)

    @rpc
    def record_meeting_attendance(self, meeting_id: Any, payload: Any,
                                  expected_version: Any = None) -> dict[str, Any]:
        """签到: the invitees that attended; the meeting becomes held."""
        principal = self.caller.principal
        expected = checked_version(expected_version)
        data = load(MeetingAttendanceCreateSchema(), payload)
        with self.db.transaction() as session:
            meeting = meetings.record_attendance(session, principal, _meeting_id(meeting_id),
                                                 data, expected)
            return self._view(session, meeting)

    @rpc
    def give_meeting_feedback(self, meeting_id: Any, payload: Any) -> dict[str, Any]:
        principal = self.caller.principal
        data = load(MeetingFeedbackCreateSchema(), payload)
        with self.db.transaction() as session:
            feedback = meetings.give_feedback(session, principal, _meeting_id(meeting_id), data)
            return MeetingFeedbackSchema().dump(feedback)

    @rpc
    def cancel_meeting(self, meeting_id: Any, payload: Any,
                       expected_version: Any = None) -> dict[str, Any]:
        principal = self.caller.principal
        expected = checked_version(expected_version)
        data = load(MeetingCancelSchema(), payload)
        with self.db.transaction() as session:
            meeting = meetings.cancel(session, principal, _meeting_id(meeting_id),
                                      data["reason"], expected, call_id=self.caller.call_id)
            return self._view(session, meeting)

    @rpc
    def list_meeting_themes(self, query: Any) -> dict[str, Any]:
        principal = self.caller.principal
        filters = load(MeetingThemeQuerySchema(), query)
        year = filters.get("year") or meetings.this_year()
        with self.db.transaction() as session:
            rows = meetings.list_themes(session, principal, year)
            return MeetingThemeListSchema().dump({"year": year, "items": rows})

    @rpc
    def set_meeting_theme(self, payload: Any) -> dict[str, Any]:
        """季季有主题: set the theme of a quarter."""
        principal = self.caller.principal
        data = load(MeetingThemeSetSchema(), payload)
        with self.db.transaction() as session:
            return MeetingThemeSchema().dump(meetings.set_theme(session, principal, data))

    @rpc
    def get_meeting_settings(self) -> dict[str, Any]:
        principal = self.caller.principal
        with self.db.transaction() as session:
            return MeetingSettingsSchema().dump({**meetings.settings(session, principal),
                                                 "version": meetings.settings_version(session)})

    @rpc
    def update_meeting_settings(self, payload: Any, expected_version: Any = None
                                ) -> dict[str, Any]:
        """Admins change the settings; the version last read (``expected_version``, or the
        body's ``version``) must still be current (412)."""
        principal = self.caller.principal
        data = load(MeetingSettingsSchema(), payload)
        in_body = data.pop("version", None)
        expected = checked_version(expected_version)
        with self.db.transaction() as session:
            value = meetings.update_settings(
                session, principal, data, in_body if expected is None else expected)
            return MeetingSettingsSchema().dump(
                {**value, "version": meetings.settings_version(session)})

    @rpc
    def meeting_report(self, query: Any) -> dict[str, Any]:
        """The year against the plan: 全年不少于12次, 月月有活动, 季季有主题."""
        principal = self.caller.principal
        filters = load(MeetingReportQuerySchema(), query)
        with self.db.transaction() as session:
            return MeetingReportSchema().dump(meetings.report(session, principal, filters))
