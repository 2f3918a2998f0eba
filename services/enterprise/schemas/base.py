"""The registry's shared vocabulary: scales, sources, codes, contacts and the version notes more
than one area's contract uses.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from common.fields import (
    Pattern,
    Text,
    normalized,
)
from common.i18n import N_
from common.pagination import PageQuery, page_schema  # noqa: F401 -- re-exported
from services.enterprise import industry

SCALES = ("micro", "small", "medium", "large")  # 微型 小型 中型 大型
GRID_KINDS = ("incubator", "geographic")


#: where a profile value came from (企业画像来源)
SOURCES = ("grid_worker", "self_report", "joint_review", "registration", "third_party",
           "project_application", "import")


class IndustryCode(fields.String):
    """GB/T 4754-2017 code such as C39 or C3911."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        raw = normalized(super()._deserialize(value, attr, data, **kwargs)).upper()
        try:
            return industry.parse(raw).code
        except industry.InvalidIndustryCode as exc:
            raise ValidationError([exc.item()]) from exc


PHONE = Pattern(r"^\+?[0-9][0-9\- ]{5,19}$", code="field.not_phone",
                error=N_("not a phone number"))


class ContactSchema(Schema):
    name = Text(required=True, validate=validate.Length(1, 50))
    title = Text(validate=validate.Length(0, 50), load_default="")
    phone = Text(validate=PHONE, allow_none=True, load_default=None)
    email = fields.Email(allow_none=True, load_default=None)


#: optimistic concurrency (If-Match): what ``version`` means on a resource and on a write
VERSION_NOTE = "1 when created, +1 with every change (the ETag; send it as If-Match)"


SETTINGS_NOTE = ("in an answer: 1 until first changed, +1 with every change (the ETag); in a "
                 "change: the version last read, a stale one is refused (412), like If-Match")
