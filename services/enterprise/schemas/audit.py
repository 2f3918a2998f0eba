"""The registry's contract for the audit log (操作日志) of privileged writes (``api/audit.py``)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from common.auth import Role
from common.fields import (
    LocalDateTime,
)
from common.pagination import PageQuery, page_schema  # noqa: F401 -- re-exported

# --- audit log (操作日志) of privileged writes ------------------------------------------------

AUDITED_ROLES = (Role.ADMIN.value, Role.COORDINATOR.value)


class AuditRecordSchema(Schema):
    """What the gateway reports after a privileged write succeeded. The actor comes from the
    caller's token, never from here."""

    call_id = fields.String(required=True, validate=validate.Length(1, 200))
    method = fields.String(required=True, validate=validate.OneOf(
        ("POST", "PUT", "PATCH", "DELETE")))
    route = fields.String(required=True, validate=validate.Length(1, 200))
    path = fields.String(required=True, validate=validate.Length(1, 500))
    action = fields.String(required=True, validate=validate.Length(1, 200))
    status = fields.Integer(required=True, validate=validate.Range(100, 599))
    subject_ids = fields.Dict(keys=fields.String(validate=validate.Length(1, 50)),
                              values=fields.String(validate=validate.Length(0, 200)),
                              load_default=dict)
    fields_changed = fields.List(fields.String(validate=validate.Length(1, 100)),
                                 load_default=list, validate=validate.Length(0, 100))


class AuditEntrySchema(Schema):
    id = fields.Integer(required=True)
    at = LocalDateTime(required=True)
    actor_id = fields.String(required=True)
    actor_role = fields.String(required=True)
    call_id = fields.String(required=True)
    method = fields.String(required=True)
    route = fields.String(required=True)
    path = fields.String(required=True)
    action = fields.String(required=True)
    status = fields.Integer(required=True)
    subject_ids = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    fields_changed = fields.List(fields.String(), required=True)


class AuditQuerySchema(Schema):
    actor_id = fields.String(validate=validate.Length(1, 64))
    route = fields.String(validate=validate.Length(1, 200))
    since = LocalDateTime(metadata={"description": "ISO time with offset"})
    until = LocalDateTime()
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 200))


AuditPageSchema = page_schema(AuditEntrySchema, "AuditPage")
