"""考评: the appraisal of grid workers (网格员), grids (网格), liaisons (联络员) and departments
(责任部门) for any period, the yearly score (年度考核得分) with the integrity veto (一票否决),
and the yearly awards of outstanding grids (年终优秀奖励).

Every figure is a SQL aggregation over ticketing's own tables (demands, tasks, ratings,
breaches, the ledger): one source of truth, no copied tables that could drift. Plain functions
over a SQLAlchemy session; no broker in here. docs/domain.md (考评) states each definition; in
short, for the demands **received** in the period (``from`` 00:00 to ``to`` 24:00, +08:00) and
their tasks, with open work judged late against ``as_of`` (now):

- 分理及时率 ``triage_on_time / triage_due``: triaged by the 分理时限 (10:00 next working day)
  over demands triaged, or still untriaged past it.
- 受理及时率 ``(accepted_on_time + returned) / acceptance_due`` and 响应率
  ``accepted_on_time / acceptance_due``, where an assignment (分理 or 协调 naming a
  department; the ledger's ``assign``/``reassign`` rows) is due when it was accepted, returned,
  timed out (受理超时) or still waits past its acceptance deadline. A return (退回) is an answer
  in time (the sweep times out a task the moment its deadline passes) but not a response.
- 办理及时率 ``handling_on_time / handling_due``: accepted tasks completed, or past their
  handling deadline (办理时限), or breached; on time = completed by the deadline and never
  breached (a breach in an earlier round counts).
- 解决率 ``resolved / judged``: closed by a satisfied rating (自动销号) over closed by the
  enterprise's verdict (自动销号 + 内部销号); unrated closures are left out (nobody judged).
- 满意率 ``satisfied / ratings``: every rating round counts; satisfied = no dimension below 3
  (满意 or 基本满意). Averages per dimension over the same ratings.
- ``unrated_share`` = closed unrated / closed; 重新办理率 ``reopened / completed_once``.

Attribution: grids by the demand's grid; grid workers by who recorded the demand; departments
by the task's department (and, for acceptance, the department each assignment named);
liaisons by who accepted the task (and who returned it).

The package by subject: :mod:`.base` (subjects, settings, period, shared clauses, who reads
what), :mod:`.figures` (the period's figures), :mod:`.score` (the yearly score), :mod:`.awards`
(the yearly awards) and :mod:`.veto` (一票否决); this module re-exports their names.
"""

from __future__ import annotations

from services.ticketing.appraisal.awards import (  # noqa: F401 -- the package's names
    awards,
    growth,
    growth_note,
    visible_awards,
)
from services.ticketing.appraisal.base import (  # noqa: F401 -- the package's names
    CANCELLED,
    CLOSED,
    DEFAULT_SETTINGS,
    DEMAND_SUBJECTS,
    DEPARTMENTS,
    GRID_WORKERS,
    GRIDS,
    LIAISONS,
    READ_ALL,
    READERS,
    SCOPED_SUBJECTS,
    SETTINGS_KEY,
    SUBJECTS,
    ZONE,
    Period,
    check_reader,
    handling_due,
    locked_settings,
    max_points,
    points,
    public,
    rate,
    settings,
    settings_version,
    task_late,
    visible,
)
from services.ticketing.appraisal.figures import (  # noqa: F401 -- the package's names
    OPEN_STATES,
    WorkdayCounter,
    appraise,
    demand_map,
    escalations,
    full_months,
    handling_workdays,
    ledger_counts,
    subject_row,
    task_map,
)
from services.ticketing.appraisal.score import (  # noqa: F401 -- the package's names
    active_vetoes,
    ranked,
    score_rows,
    weighted,
    yearly,
)
from services.ticketing.appraisal.veto import (  # noqa: F401 -- the package's names
    set_veto,
    vetoes,
)
