"""marshmallow fields shared by the services' contracts."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from marshmallow import fields

from common.calendar import SHANGHAI


class LocalDateTime(fields.AwareDateTime):
    """An aware ISO 8601 time, written out in Asia/Shanghai (+08:00), the zone users live in."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any):
        if value is None:
            return None
        return super()._serialize(value.astimezone(SHANGHAI), attr, obj, **kwargs)


def normalized(value: str) -> str:
    """Full-width to half-width and trimmed: what users type is compared as what they mean."""
    return unicodedata.normalize("NFKC", value).strip()


class Text(fields.String):
    """A string normalised with NFKC and stripped before validation: for names, codes and
    identifiers that are compared (ｆｉｎａｎｃｅ␠ is finance)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        return normalized(super()._deserialize(value, attr, data, **kwargs))
