"""Supplydemand's tables, all in the ``supplydemand`` schema."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from common.events import processed_events_table
from common.outbox import outbox_table

SCHEMA = "supplydemand"
metadata = MetaData(schema=SCHEMA)


class Base(DeclarativeBase):
    metadata = metadata


outbox = outbox_table(metadata)
processed_events = processed_events_table(metadata)
