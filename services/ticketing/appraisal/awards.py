"""年终优秀奖励: the yearly awards of outstanding grids, by the yearly score and the growth of
the output value and tax of each grid's enterprises (the registry's sums)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from common.auth import Principal, Role
from common.errors import Forbidden
from services.ticketing.appraisal.base import (
    READ_ALL,
)
from services.ticketing.appraisal.score import (
    ranked,
    weighted,
)

# =========================================================================== awards


def growth(current: float | None, previous: float | None) -> float | None:
    """(current − previous) / previous; None when either year has no figures or previous is
    not above 0 (:func:`growth_note` says which)."""
    if current is None or previous is None:
        return None
    return (current - previous) / previous if previous > 0 else None


def growth_note(current: float | None, previous: float | None) -> str | None:
    """Why a growth is None (dictionary ``growth_note``): the year has no figures, the year
    before has none, or the year before is not above 0; None when there is a growth."""
    if current is None:
        return "no_data"
    if previous is None:
        return "no_data_previous"
    return "no_base" if previous <= 0 else None


def _figure(value: Any) -> float | None:
    return None if value is None else float(value)


def awards(grid_scores: list[dict[str, Any]], grids: list[dict[str, Any]],
           criteria: Mapping[str, Any]) -> list[dict[str, Any]]:
    """年终优秀奖励: every grid ranked by the award score (``AwardRowSchema``), best first.

    ``grid_scores``: :func:`yearly` rows of grids; ``grids``: the registry's grids with the
    summed output value and tax of their in-scope enterprises for the year and the year before
    (``grid_id``, ``name``, ``department_id``, ``output_value``, ``output_value_previous``,
    ``tax``, ``tax_previous``).

    growth score = 100 × growth / the highest growth of any grid (a fall, no base or no
    figures: 0); a growth without figures for the year or the year before is None with its
    ``*_growth_note`` (:func:`growth_note`), never −100 %;
    award score = weighted mean of service score and the two growth scores; eligible = not
    vetoed and a service score of at least ``min_service_score``; awarded = eligible and fewer
    than ``count`` eligible grids score higher (a tie at the boundary is awarded together).
    """
    scores = {row["subject_id"]: row for row in grid_scores}
    registry = {grid["grid_id"]: grid for grid in grids}
    rows = []
    for grid_id in sorted(set(scores) | set(registry)):
        grid, score = registry.get(grid_id, {}), scores.get(grid_id, {})
        # a year without figures is no data (None), never 0: no fall of 100 %
        output = _figure(grid.get("output_value"))
        output_before = _figure(grid.get("output_value_previous"))
        tax = _figure(grid.get("tax"))
        tax_before = _figure(grid.get("tax_previous"))
        rows.append({
            "grid_id": grid_id, "name": grid.get("name"),
            "department_id": grid.get("department_id"),
            "service_score": float(score.get("score", 0.0)),
            "vetoed": bool(score.get("vetoed", False)),
            "output_value": output, "output_value_previous": output_before,
            "output_growth": growth(output, output_before),
            "output_growth_note": growth_note(output, output_before),
            "tax": tax, "tax_previous": tax_before, "tax_growth": growth(tax, tax_before),
            "tax_growth_note": growth_note(tax, tax_before),
        })
    best_output = max((r["output_growth"] or 0 for r in rows), default=0)
    best_tax = max((r["tax_growth"] or 0 for r in rows), default=0)
    weights = criteria["weights"]
    for row in rows:
        row["output_growth_score"] = _growth_score(row["output_growth"], best_output)
        row["tax_growth_score"] = _growth_score(row["tax_growth"], best_tax)
        row["award_score"] = round(weighted([
            (weights["service"], row["service_score"]),
            (weights["output_growth"], row["output_growth_score"]),
            (weights["tax_growth"], row["tax_growth_score"]),
        ]), 2)
        row["eligible"] = (not row["vetoed"]
                           and row["service_score"] >= criteria["min_service_score"])
        for key in ("output_growth", "tax_growth"):
            row[key] = None if row[key] is None else round(row[key], 4)
        row["output_growth_score"] = round(row["output_growth_score"], 2)
        row["tax_growth_score"] = round(row["tax_growth_score"], 2)
    ordered = ranked(rows, "award_score", "grid_id")
    eligible = [row["award_score"] for row in ordered if row["eligible"]]
    for row in ordered:
        better = sum(1 for value in eligible if value > row["award_score"])
        row["awarded"] = row["eligible"] and better < criteria["count"]
    return ordered


def _growth_score(value: float | None, best: float) -> float:
    if value is None or value <= 0 or best <= 0:
        return 0.0
    return 100.0 * value / best


def visible_awards(principal: Principal, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Leaders, coordinators, admins: every grid; department heads the grids their department
    owns; grid leaders their grids; anyone else Forbidden."""
    if principal.role in READ_ALL:
        return rows
    if principal.role == Role.DEPARTMENT_HEAD:
        return [row for row in rows if row["department_id"] == (principal.department_id or "")]
    if principal.role == Role.GRID_LEADER:
        return [row for row in rows if row["grid_id"] in principal.grid_ids]
    raise Forbidden("{role} may not read the awards", code="appraisal.awards_forbidden",
                    params={"role": principal.role_label})
