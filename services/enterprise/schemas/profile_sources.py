"""The registry's contract for the profile sources' precedence (``api/profile_sources.py``)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from common.pagination import PageQuery, page_schema  # noqa: F401 -- re-exported
from services.enterprise.schemas.base import SOURCES


class ProfileSourcePrecedenceSchema(Schema):
    """The profile sources, first wins (企业画像的数据来源优先级): every source once."""

    order = fields.List(fields.String(validate=validate.OneOf(SOURCES)), required=True,
                        validate=validate.Length(len(SOURCES), len(SOURCES)),
                        metadata={"description": "profile_source codes, highest precedence "
                                                 "first; within a source the newer value wins",
                                  "example": ["registration", "third_party", "joint_review",
                                              "project_application", "grid_worker",
                                              "self_report", "import"]})
    version = fields.Integer(dump_only=True)
