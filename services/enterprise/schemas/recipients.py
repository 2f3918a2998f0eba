"""The registry's contract for audiences (目标企业) of policies, notices and meetings
(``api/recipients.py``).
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, fields, post_load, validate

from common.fields import (
    Id,
    JsonBoolean,
    SearchText,
    refuse,
)
from common.pagination import PageQuery, page_schema  # noqa: F401 -- re-exported
from services.enterprise import industry
from services.enterprise.schemas.base import SCALES, IndustryCode

# --- audiences (目标企业) of policies, notices and meetings --------------------------------------

def _audience_industry_pattern() -> str:
    """What :func:`industry.parse` accepts: the section letter (either case) with one of its own
    divisions (大类), then up to two more digits (中类, 小类): C39, c391, C3911, not A39."""
    by_section: dict[str, list[str]] = {}
    for division in industry.DIVISIONS.values():
        by_section.setdefault(division.section, []).append(division.code)
    sections = "|".join(f"[{letter}{letter.lower()}](?:{'|'.join(codes)})"
                        for letter, codes in sorted(by_section.items()))
    return f"^(?:{sections})[0-9]{{0,2}}$"


AUDIENCE_INDUSTRY_PATTERN = _audience_industry_pattern()
_AUDIENCE_INDUSTRY = re.compile(AUDIENCE_INDUSTRY_PATTERN, re.ASCII)


class AudienceIndustryCode(IndustryCode):
    """A GB/T 4754 code an audience names as a prefix (C39, C391, C3911); the OpenAPI document
    carries the exact pattern (each division with its own section letter)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {"pattern": AUDIENCE_INDUSTRY_PATTERN,
                              **(kwargs.get("metadata") or {})}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        code = super()._deserialize(value, attr, data, **kwargs)
        if not _AUDIENCE_INDUSTRY.fullmatch(code):  # ASCII digits only
            raise refuse("enterprise.industry_code_form", "industry code {code} must be a "
                         "section letter A-T and 2 to 4 digits, e.g. C39 or C3911",
                         code=repr(code))
        return code


class AudienceSchema(Schema):
    """Who a policy, notice or meeting is for: AND across criteria, OR within one; empty means
    every in-scope enterprise. Resolved against the registry (``services.enterprise.audience``)."""

    grid_ids = fields.List(SearchText(length=(1, 20)), validate=validate.Length(0, 100),
                           metadata={"description": "网格"})
    industry_codes = fields.List(AudienceIndustryCode(), validate=validate.Length(0, 50),
                                 metadata={"description": "GB/T 4754 prefixes: C39, C391, C3911"})
    scales = fields.List(fields.String(validate=validate.OneOf(SCALES)),
                         validate=validate.Length(0, 4))
    incubator_ids = fields.List(SearchText(length=(1, 20)),
                                validate=validate.Length(0, 100),
                                metadata={"description": "孵化器"})
    tags = fields.List(SearchText(length=(1, 40)), validate=validate.Length(0, 30),
                       metadata={"description": "any of these tags (e.g. 专精特新, 初创期)"})
    listed = JsonBoolean(allow_none=True, metadata={"description": "上市企业 or not"})
    strengths = fields.List(SearchText(length=(1, 50)), validate=validate.Length(0, 20),
                            metadata={"description": "keywords in the enterprise's strengths"})
    enterprise_ids = fields.List(Id(), validate=validate.Length(0, 2000))

    @post_load
    def _ids_as_text(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if "enterprise_ids" in data:
            data["enterprise_ids"] = [i.lower() for i in data["enterprise_ids"]]
        return data


class AudienceResultSchema(Schema):
    enterprise_ids = fields.List(fields.String(), required=True)
    count = fields.Integer(required=True)
