"""年度考核得分: the yearly score of each subject, the weighted rates and the difficulty
points, with the integrity veto (一票否决) applied, and the ranking."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.ticketing.appraisal.base import (
    Period,
    max_points,
    settings,
)
from services.ticketing.appraisal.figures import (
    appraise,
    subject_row,
)
from services.ticketing.models import (
    AppraisalVeto,
)

# =========================================================================== yearly score


def active_vetoes(session: Session, kind: str, year: int) -> dict[str, str]:
    """subject id → reason of the active 一票否决 of ``kind`` for ``year``."""
    return dict(session.execute(
        select(AppraisalVeto.subject_id, AppraisalVeto.reason).where(
            AppraisalVeto.subject == kind, AppraisalVeto.year == year,
            AppraisalVeto.active.is_(True))
    ).all())


def weighted(parts: Iterable[tuple[float, float | None]]) -> float:
    """Σ weight × value / Σ weight over the parts whose value is known (0 if no weight)."""
    known = [(w, v) for w, v in parts if v is not None]
    total = sum(w for w, _ in known)
    return sum(w * v for w, v in known) / total if total else 0.0


def score_rows(rows: list[dict[str, Any]], config: Mapping[str, Any],
               vetoes: Mapping[str, str]) -> list[dict[str, Any]]:
    """年度考核得分 of each subject (``YearlyRowSchema``), best first.

    quantity = 100 × handled / the most any subject of the kind handled;
    quality = 100 × 满意率 (None without ratings: its weight is left out);
    difficulty = 100 × mean points of what was handled / the highest points possible;
    score = the weighted mean of the three; 0 when vetoed (一票否决). Ties share a rank.
    """
    weights = config["weights"]
    most = max((row["handled"] for row in rows), default=0)
    ceiling = max_points(config)
    scored = []
    for row in rows:
        quantity = 100.0 * row["handled"] / most if most else 0.0
        quality = (100.0 * row["satisfied"] / row["ratings"]) if row["ratings"] else None
        mean = row["_points"] / row["_pointed"] if row["_pointed"] else None
        difficulty = 100.0 * mean / ceiling if mean is not None and ceiling else 0.0
        score = weighted([(weights["quantity"], quantity), (weights["quality"], quality),
                          (weights["difficulty"], difficulty)])
        vetoed = row["subject_id"] in vetoes
        scored.append({
            "subject_id": row["subject_id"], "department_id": row["department_id"],
            "grid_ids": row["grid_ids"], "handled": row["handled"],
            "satisfaction_rate": row["satisfaction_rate"],
            "avg_difficulty": None if mean is None else round(mean, 4),
            "quantity_score": round(quantity, 2),
            "quality_score": None if quality is None else round(quality, 2),
            "difficulty_score": round(difficulty, 2),
            "score": 0.0 if vetoed else round(score, 2),
            "vetoed": vetoed, "veto_reason": vetoes.get(row["subject_id"]),
        })
    return ranked(scored, "score", "subject_id")


def ranked(rows: list[dict[str, Any]], key: str, tie: str) -> list[dict[str, Any]]:
    """Best first by ``key``; equal values share a rank (1, 2, 2, 4), listed by ``tie``."""
    ordered = sorted(rows, key=lambda row: (-row[key], row[tie]))
    for index, row in enumerate(ordered):
        same = index and ordered[index - 1][key] == row[key]
        row["rank"] = ordered[index - 1]["rank"] if same else index + 1
    return ordered


def yearly(session: Session, kind: str, year: int, as_of: datetime | None = None,
           config: Mapping[str, Any] | None = None,
           rows: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Every subject of ``kind`` scored for ``year`` (demands received that year), vetoed
    subjects included even without work; unscoped (narrow with :func:`visible`). ``rows``:
    the year's appraisal of ``kind`` already computed (kept, :mod:`services.ticketing.snapshots`)
    under the same settings."""
    config = config or settings(session)
    rows = appraise(session, kind, Period.year(year), as_of, config) if rows is None else rows
    vetoes = active_vetoes(session, kind, year)
    known = {row["subject_id"] for row in rows}
    for subject in sorted(set(vetoes) - known):
        rows.append(subject_row(kind, subject, {}, {}, {}, {}))
    return score_rows(rows, config, vetoes)
