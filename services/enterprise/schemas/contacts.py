"""The registry's contract for the grid service contacts (网格化服务联系方式,
``api/contacts.py``).
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from common.fields import (
    JsonBoolean,
    Text,
)
from common.pagination import PageQuery, page_schema  # noqa: F401 -- re-exported
from services.enterprise.schemas.base import GRID_KINDS

# --- grid service contacts (网格化服务联系方式) ---------------------------------------------


class GridContactSchema(Schema):
    name = fields.String(required=True)
    duty = fields.String(required=True, metadata={"x-dictionary": "grid_duty"})
    phone = fields.String(allow_none=True, metadata={"description": "work phone"})


class GridCardSchema(Schema):
    """A grid with its service contacts: for its enterprises every leader and worker with
    their work phones; in the public list only those who agreed to publish theirs."""

    grid_id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, metadata={"x-dictionary": "grid_kind"})
    department_name = fields.String(allow_none=True, metadata={"description": "the owner"})
    address = fields.String(allow_none=True)
    leader = fields.Nested(GridContactSchema, allow_none=True, metadata={"description": "网格长"})
    workers = fields.List(fields.Nested(GridContactSchema), required=True,
                          metadata={"description": "网格员"})


class GridCardListSchema(Schema):
    items = fields.List(fields.Nested(GridCardSchema), required=True)
    total = fields.Integer(required=True)


class GridContactQuerySchema(Schema):
    q = Text(validate=validate.Length(1, 50), metadata={
        "description": "words of the grid's name or address"})
    kind = fields.String(validate=validate.OneOf(GRID_KINDS))


class ContactPublicationSchema(Schema):
    publish_contact = JsonBoolean(required=True, metadata={
        "description": "publish my name and work phone in the public grid service contacts"})
    phone = fields.String(allow_none=True, dump_only=True, metadata={
        "description": "the work phone that is published"})
