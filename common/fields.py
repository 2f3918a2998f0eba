"""marshmallow fields shared by the services' contracts."""

from __future__ import annotations

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
