"""The board's shared vocabulary: sides, categories, states, the id and code fields and its page
query.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from common.fields import (
    Text,
    normalized,
    refuse,
)
from common.pagination import page_query
from common.validation import is_uuid


class FreeText(Text):
    """Prose as typed (Chinese punctuation kept, no NFKC), trimmed; matching normalises on
    its own. A :class:`Text` for the contract (blank is refused like any Text)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        return fields.String._deserialize(self, value, attr, data, **kwargs).strip()


UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class Uuid(fields.String):
    """An id: a UUID string (checked here, so no query ever sees a malformed id)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {"pattern": UUID_PATTERN, **(kwargs.get("metadata") or {})}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        raw = normalized(super()._deserialize(value, attr, data, **kwargs)).lower()
        if not is_uuid(raw):
            raise refuse("field.not_id", "not a valid id")
        return raw


#: the board's pages: 1-10,000 of 1-100 items (20 by default)
PageQuery = page_query(max_per_page=100, max_page=10_000)
