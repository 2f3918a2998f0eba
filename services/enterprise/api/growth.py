"""RPC entrypoint for the yearly awards (年终优秀奖励): each grid's enterprise growth.

Ticketing ranks the grids and asks :meth:`GrowthApi.grid_growth` for the output value (产值)
and tax (税收) of each grid's in-scope enterprises; the rule and its query are in
:mod:`services.enterprise.growth`.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import rpc
from common.validation import load
from services.enterprise import growth


class GridGrowthQuerySchema(Schema):
    year = fields.Integer(required=True, strict=True, validate=validate.Range(2000, 2100))


class GridGrowthSchema(Schema):
    """One grid's sums over its in-scope enterprises (万元), the latest value of each year."""

    grid_id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    department_id = fields.String(required=True, metadata={"description": "the owner"})
    enterprises = fields.Integer(required=True)
    output_value = fields.Float(required=True, allow_none=True,
                                metadata={"description": "null: no enterprise reported one"})
    output_value_previous = fields.Float(required=True, allow_none=True)
    tax = fields.Float(required=True, allow_none=True)
    tax_previous = fields.Float(required=True, allow_none=True)


class GrowthApi:
    """Needs ``db`` and ``caller`` from the service class."""

    db: WorkerDatabase
    caller: CallerContext

    @rpc
    def grid_growth(self, year: Any) -> list[dict[str, Any]]:
        """Per grid: output value and tax of its in-scope enterprises, ``year`` and the year
        before (``GridGrowthSchema``), for the yearly awards."""
        number = load(GridGrowthQuerySchema(), {"year": year})["year"]
        with self.db.transaction() as session:
            return GridGrowthSchema(many=True).dump(
                growth.grid_growth(session, self.caller.principal, number))
