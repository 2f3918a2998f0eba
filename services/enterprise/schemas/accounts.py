"""The registry's contract for accounts and sign-in (``api/accounts.py``)."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, fields, post_load, validate

from common.auth import Role
from common.fields import (
    Id,
    JsonBoolean,
    LocalDateTime,
    Pattern,
    Text,
    WholeNumber,
)
from common.i18n import N_
from common.pagination import PageQuery, page_schema  # noqa: F401 -- re-exported
from services.enterprise.schemas.base import PHONE, VERSION_NOTE

STAFF_ROLES = tuple(r.value for r in Role if r not in (Role.SERVICE,))


EXPECTED_NOTE = "the version last read: a stale one is refused (412); like If-Match"


# --- accounts --------------------------------------------------------------------------------

USERNAME = Pattern(r"^[a-z0-9][a-z0-9._-]{2,63}$", flags=re.IGNORECASE,
                   code="account.username_form",
                   error=N_("3-64 letters, digits, dots, dashes or underscores"))


class LoginSchema(Schema):
    username = Text(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 200))

    @post_load
    def lower(self, data: dict, **_: Any) -> dict:
        data["username"] = data["username"].lower()
        return data


class TokenSchema(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_in = fields.Integer(required=True)


class PasswordChangeSchema(Schema):
    """修改密码: the caller's own password, old and new."""

    old_password = fields.String(required=True, validate=validate.Length(1, 200))
    new_password = fields.String(required=True, validate=validate.Length(10, 200))


class AccountCreateSchema(Schema):
    username = Text(required=True, validate=USERNAME)
    password = fields.String(required=True, validate=validate.Length(10, 200))
    role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))
    name = Text(required=True, validate=validate.Length(1, 50))
    title = Text(validate=validate.Length(0, 100), load_default=None)
    phone = Text(validate=PHONE, allow_none=True, load_default=None)
    email = fields.Email(allow_none=True, load_default=None)
    enterprise_id = Id(allow_none=True, load_default=None)
    department_id = fields.String(allow_none=True, load_default=None)

    @post_load
    def lower(self, data: dict, **_: Any) -> dict:
        data["username"] = data["username"].lower()
        return data


class AccountUpdateSchema(Schema):
    disabled = JsonBoolean()
    password = fields.String(validate=validate.Length(10, 200))
    name = Text(validate=validate.Length(1, 50))
    title = Text(validate=validate.Length(0, 100), allow_none=True)
    phone = Text(validate=PHONE, allow_none=True)
    email = fields.Email(allow_none=True)
    version = WholeNumber(validate=validate.Range(1), metadata={"description": EXPECTED_NOTE})


class AccountSchema(Schema):
    id = fields.String(required=True)
    username = fields.String(required=True)
    role = fields.String(required=True, metadata={"x-dictionary": "role"})
    name = fields.String(required=True)
    title = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    enterprise_id = fields.String(allow_none=True)
    department_id = fields.String(allow_none=True)
    grid_ids = fields.List(fields.String(), required=True)
    disabled = fields.Boolean(required=True)
    created_at = LocalDateTime(required=True)
    version = fields.Integer(required=True, metadata={"description": VERSION_NOTE})


class AccountQuerySchema(PageQuery):
    role = fields.String(validate=validate.OneOf(STAFF_ROLES))
    department_id = fields.String()
    enterprise_id = Id()
    disabled = fields.Boolean()


AccountPageSchema = page_schema(AccountSchema, "AccountPage")
