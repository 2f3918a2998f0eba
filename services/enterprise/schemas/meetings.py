"""The registry's contract for meetings (政企座谈) and their yearly plan (``api/meetings.py``)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate

from common.fields import (
    Id,
    LocalDateTime,
    SearchText,
    Text,
    WholeNumber,
)
from common.pagination import PageQuery, page_schema  # noqa: F401 -- re-exported
from services.enterprise.schemas.base import SETTINGS_NOTE, ContactSchema
from services.enterprise.schemas.recipients import AudienceSchema

# --- meetings (政企座谈) -------------------------------------------------------------------------

MEETING_STATES = ("planned", "invited", "held", "cancelled")
MEETING_RESPONSES = ("registered", "declined")  # 报名 / 不参加
#: a month or a quarter of the yearly report: ok, missed (ended without), open (not ended yet)
MEETING_PERIOD_STATUSES = ("ok", "missed", "open")


class MeetingCreateSchema(Schema):
    """政企座谈 planned by a department: theme, time, place, organiser and the audience (目标企业)
    invited when invitations are sent."""

    theme = Text(required=True, validate=validate.Length(1, 200), metadata={"description": "主题"})
    description = Text(validate=validate.Length(0, 2000), allow_none=True, load_default=None)
    topics = fields.List(Text(validate=validate.Length(1, 50)), load_default=list,
                         validate=validate.Length(0, 10),
                         metadata={"description": "keywords; a held meeting follows its "
                                   "quarter's theme (季季有主题) when that theme occurs in its "
                                   "theme or in one of these"})
    starts_at = LocalDateTime(required=True, metadata={"description": "in the future; ISO "
                                                       "8601 with offset"})
    ends_at = LocalDateTime(allow_none=True, load_default=None)
    place = Text(required=True, validate=validate.Length(1, 200), metadata={"description": "地点"})
    organiser_department_id = Text(required=True, validate=validate.Length(1, 40),
                                   metadata={"description": "主办部门"})
    organiser_contact = Text(validate=validate.Length(0, 100), allow_none=True,
                             load_default=None, metadata={"description": "联系人"})
    capacity = WholeNumber(validate=validate.Range(1, 10_000), allow_none=True,
                           load_default=None,
                           metadata={"description": "most enterprises that may register"})
    audience = fields.Nested(AudienceSchema, load_default=dict,
                             metadata={"description": "who is invited; resolved against the "
                                       "registry when invitations are sent"})


class MeetingUpdateSchema(Schema):
    """Changes while planned; once invited only description and organiser_contact.
    ``version`` (or If-Match) guards against lost updates."""

    theme = Text(validate=validate.Length(1, 200))
    description = Text(validate=validate.Length(0, 2000), allow_none=True)
    topics = fields.List(Text(validate=validate.Length(1, 50)), validate=validate.Length(0, 10))
    starts_at = LocalDateTime()
    ends_at = LocalDateTime(allow_none=True)
    place = Text(validate=validate.Length(1, 200))
    organiser_department_id = Text(validate=validate.Length(1, 40))
    organiser_contact = Text(validate=validate.Length(0, 100), allow_none=True)
    capacity = WholeNumber(validate=validate.Range(1, 10_000), allow_none=True)
    audience = fields.Nested(AudienceSchema)
    version = WholeNumber(validate=validate.Range(1))


class MeetingCountsSchema(Schema):
    invited = fields.Integer(required=True)
    registered = fields.Integer(required=True)
    declined = fields.Integer(required=True)
    attended = fields.Integer(required=True)
    feedback = fields.Integer(required=True)
    average_rating = fields.Float(allow_none=True)


class MeetingFeedbackSchema(Schema):
    meeting_id = fields.String(required=True)
    enterprise_id = fields.String(required=True)
    rating = fields.Integer(required=True)
    comment = fields.String(allow_none=True)
    submitted_at = LocalDateTime(required=True)


class MeetingMyInvitationSchema(Schema):
    """What an invited enterprise sees of its own invitation."""

    invited_at = LocalDateTime(required=True)
    response = fields.String(allow_none=True, validate=validate.OneOf(MEETING_RESPONSES),
                             metadata={"description": "null: not answered yet"})
    attendees = fields.List(fields.Nested(ContactSchema), required=True)
    attended = fields.Boolean(allow_none=True, metadata={"description": "null: not recorded"})
    feedback = fields.Nested(MeetingFeedbackSchema, allow_none=True)


class MeetingSchema(Schema):
    id = fields.String(required=True)
    theme = fields.String(required=True)
    description = fields.String(allow_none=True)
    topics = fields.List(fields.String(), required=True)
    starts_at = LocalDateTime(required=True)
    ends_at = LocalDateTime(allow_none=True)
    place = fields.String(required=True)
    organiser_department_id = fields.String(required=True)
    organiser_contact = fields.String(allow_none=True)
    capacity = fields.Integer(allow_none=True)
    audience = fields.Dict(allow_none=True, metadata={"description": "null for enterprises"})
    state = fields.String(required=True, validate=validate.OneOf(MEETING_STATES))
    quarter_theme = fields.String(allow_none=True, metadata={"description": "the theme of the "
                                                              "meeting's quarter"})
    on_quarter_theme = fields.Boolean(allow_none=True, metadata={
        "description": "null when the quarter has no theme"})
    invited_at = LocalDateTime(allow_none=True)
    held_at = LocalDateTime(allow_none=True)
    minutes = fields.String(allow_none=True, metadata={"description": "会议纪要"})
    cancelled_at = LocalDateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    counts = fields.Nested(MeetingCountsSchema, allow_none=True,
                           metadata={"description": "staff only"})
    my_invitation = fields.Nested(MeetingMyInvitationSchema, allow_none=True,
                                  metadata={"description": "enterprises only"})
    created_by = fields.String(required=True)
    created_at = LocalDateTime(required=True)
    updated_at = LocalDateTime(required=True)
    version = fields.Integer(required=True)


class MeetingQuerySchema(PageQuery):
    year = fields.Integer(validate=validate.Range(2000, 2100),
                          metadata={"description": "starting in this year (Asia/Shanghai)"})
    state = fields.String(validate=validate.OneOf(MEETING_STATES))
    department_id = SearchText(length=(1, 40))


MeetingPageSchema = page_schema(MeetingSchema, "MeetingPage")


class MeetingInvitationSchema(Schema):
    enterprise_id = fields.String(required=True)
    enterprise_name = fields.String(required=True)
    grid_id = fields.String(allow_none=True, metadata={"description": "when invited"})
    invited_at = LocalDateTime(required=True)
    response = fields.String(allow_none=True)
    attendees = fields.List(fields.Nested(ContactSchema), required=True)
    responded_at = LocalDateTime(allow_none=True)
    attended = fields.Boolean(allow_none=True)
    rating = fields.Integer(allow_none=True)
    comment = fields.String(allow_none=True)


class MeetingInvitationQuerySchema(PageQuery):
    response = fields.String(validate=validate.OneOf((*MEETING_RESPONSES, "none")))
    attended = fields.Boolean()
    per_page = fields.Integer(load_default=100, validate=validate.Range(1, 500))


MeetingInvitationPageSchema = page_schema(MeetingInvitationSchema, "MeetingInvitationPage")


class MeetingRegistrationCreateSchema(Schema):
    """报名 (or decline) before the meeting starts; may be changed until then."""

    response = fields.String(load_default="registered",
                             validate=validate.OneOf(MEETING_RESPONSES))
    attendees = fields.List(fields.Nested(ContactSchema), load_default=list,
                            validate=validate.Length(0, 10),
                            metadata={"description": "who will come"})
    note = Text(validate=validate.Length(0, 500), allow_none=True, load_default=None)


class MeetingRegistrationSchema(Schema):
    meeting_id = fields.String(required=True)
    enterprise_id = fields.String(required=True)
    response = fields.String(required=True, validate=validate.OneOf(MEETING_RESPONSES))
    attendees = fields.List(fields.Nested(ContactSchema), required=True)
    note = fields.String(allow_none=True)
    responded_at = LocalDateTime(required=True)


class MeetingAttendanceCreateSchema(Schema):
    """签到: the invited enterprises that attended (every other invitee: absent)."""

    attended = fields.List(Id(), required=True, validate=validate.Length(0, 5000),
                           metadata={"description": "enterprise ids"})
    minutes = Text(validate=validate.Length(0, 5000), allow_none=True,
                   metadata={"description": "会议纪要"})

    @post_load
    def _ids_as_text(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["attended"] = [i.lower() for i in data["attended"]]
        return data


class MeetingFeedbackCreateSchema(Schema):
    rating = WholeNumber(required=True, validate=validate.Range(1, 5),
                         metadata={"description": "1 (poor) to 5 (excellent)"})
    comment = Text(validate=validate.Length(0, 2000), allow_none=True, load_default=None)


class MeetingCancelSchema(Schema):
    reason = Text(required=True, validate=validate.Length(1, 500))


class MeetingThemeSetSchema(Schema):
    """季季有主题: the theme of one quarter; setting it again replaces it."""

    year = WholeNumber(required=True, validate=validate.Range(2000, 2100))
    quarter = WholeNumber(required=True, validate=validate.Range(1, 4))
    theme = Text(required=True, validate=validate.Length(1, 100))


class MeetingThemeSchema(Schema):
    year = fields.Integer(required=True)
    quarter = fields.Integer(required=True)
    theme = fields.String(required=True)
    set_by = fields.String(required=True)
    set_at = LocalDateTime(required=True)


class MeetingThemeQuerySchema(Schema):
    year = fields.Integer(validate=validate.Range(2000, 2100),
                          metadata={"description": "default: this year (Asia/Shanghai)"})


class MeetingThemeListSchema(Schema):
    year = fields.Integer(required=True)
    items = fields.List(fields.Nested(MeetingThemeSchema), required=True)


class MeetingSettingsSchema(Schema):
    yearly_minimum = WholeNumber(required=True, validate=validate.Range(1, 366),
                                 metadata={"description": "meetings a year (全年不少于12次)"})
    version = WholeNumber(validate=validate.Range(1), metadata={"description": SETTINGS_NOTE})


class MeetingReportQuerySchema(Schema):
    year = fields.Integer(validate=validate.Range(2000, 2100),
                          metadata={"description": "default: this year (Asia/Shanghai)"})
    department_id = SearchText(length=(1, 40),
                         metadata={"description": "only this organiser's meetings"})


class MeetingReportMonthSchema(Schema):
    month = fields.Integer(required=True)
    held = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(MEETING_PERIOD_STATUSES))


class MeetingReportQuarterSchema(Schema):
    quarter = fields.Integer(required=True)
    theme = fields.String(allow_none=True)
    held = fields.Integer(required=True)
    on_theme = fields.Integer(required=True, metadata={"description": "held meetings that "
                                                        "follow the theme"})
    status = fields.String(required=True, validate=validate.OneOf(MEETING_PERIOD_STATUSES))


class MeetingReportRowSchema(Schema):
    id = fields.String(required=True)
    theme = fields.String(required=True)
    starts_at = LocalDateTime(required=True)
    organiser_department_id = fields.String(required=True)
    quarter = fields.Integer(required=True)
    on_quarter_theme = fields.Boolean(allow_none=True)
    invited = fields.Integer(required=True)
    registered = fields.Integer(required=True)
    attended = fields.Integer(required=True)
    feedback = fields.Integer(required=True)
    average_rating = fields.Float(allow_none=True)


class MeetingReportSchema(Schema):
    """The year against the plan: 全年不少于12次, 月月有活动, 季季有主题."""

    year = fields.Integer(required=True)
    department_id = fields.String(allow_none=True)
    as_of = fields.Date(required=True)
    minimum = fields.Integer(required=True)
    held = fields.Integer(required=True)
    meets_minimum = fields.Boolean(required=True)
    shortfall = fields.Integer(required=True)
    upcoming = fields.Integer(required=True, metadata={"description": "planned or invited"})
    cancelled = fields.Integer(required=True)
    months = fields.List(fields.Nested(MeetingReportMonthSchema), required=True)
    months_without_meeting = fields.List(fields.Integer(), required=True)
    quarters = fields.List(fields.Nested(MeetingReportQuarterSchema), required=True)
    quarters_off_theme = fields.List(fields.Integer(), required=True)
    invited = fields.Integer(required=True)
    registered = fields.Integer(required=True)
    attended = fields.Integer(required=True)
    attendance_rate = fields.Float(allow_none=True, metadata={"description": "attended / "
                                                              "invited"})
    show_up_rate = fields.Float(allow_none=True, metadata={"description": "registered that "
                                                           "attended / registered"})
    feedback = fields.Integer(required=True)
    average_rating = fields.Float(allow_none=True)
    meetings = fields.List(fields.Nested(MeetingReportRowSchema), required=True)
