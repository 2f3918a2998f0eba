"""The SLA overview (时限与督办总览): how many deadlines are met, what is overdue now or due
within a working day by department, breaches per day, escalations, open work, how late the
sweep fires, the working-day calendar. For the operators of the management committee."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard
from panels import (
    NS,
    bar_gauge,
    datasource_variable,
    increase,
    namespace_variable,
    on_time_percent,
    query_variable,
    replicas_max,
    row,
    selector,
    stat_panel,
    time_series,
    with_department_name,
)

UID = "gridsvc-sla-overview"
FILE = "sla-overview.json"

KINDS = {"triage": "分理", "acceptance": "受理确认", "handling": "办理"}
DEMAND_STATES = {"received": "已登记（待分理）", "triaged": "已分理", "in_progress": "办理中",
                 "awaiting_rating": "待评价"}
TASK_STATES = {"assigned": "待受理", "coordination": "待协调", "accepted": "办理中"}
ON_TIME_STEPS = ((None, "red"), (90, "orange"), (95, "green"))


def on_time_stats() -> list:
    panels = []
    for kind, name in KINDS.items():
        scope = ("分理在派单前进行，不分部门。" if kind == "triage"
                 else "只计所选部门。")
        panels.append(stat_panel(
            f"{name}按时率", f"所选时段内到期的{name}时限中按时完成的比例（目标 95%）：按时数 ÷ "
            f"（按时数 + 超时数）。{scope}低于 95% 变橙，低于 90% 变红。",
            on_time_percent(kind), unit="percent", no_value="所选时段内无到期时限",
            steps=ON_TIME_STEPS))
    return panels


def tasks_due(due: str) -> str:
    """Tasks of the departments chosen that are ``overdue`` or due ``next_workday``, each
    series with the department's name."""
    return with_department_name(replicas_max("gridsvc_open_tasks_due", "department",
                                             f'due="{due}"'))


def due_stats() -> list:
    return [
        stat_panel("当前逾期任务", "已过受理或办理时限、仍未办结的任务数（所选部门）。"
                   "大于 0 即为红色：请查看下方“按部门”面板并督办。",
                   f"sum({tasks_due('overdue')})", unit="short",
                   no_value="无数据：ticketing 未上报", steps=((None, "green"), (1, "red"))),
        stat_panel("一个工作日内到期", "受理或办理时限在下一个工作日此时之前到期、仍未办结的"
                   "任务数（所选部门），按国务院调休安排计算工作日。",
                   f"sum({tasks_due('next_workday')})", unit="short",
                   no_value="无数据：ticketing 未上报", steps=((None, "green"), (1, "orange"))),
    ]


def calendar_stat() -> dashboard.Panel:
    return stat_panel(
        "工作日历缺失年份", "本年与下一年中，既不在 chinesecalendar 中、"
        "也未由管理员加载调休安排的年份数。大于 0 时相关时限按周一至周五临时计算："
        "请按运维手册加载国务院当年安排。",
        f"sum({replicas_max('gridsvc_calendar_year_missing', 'year')})", unit="short",
        no_value="无数据：ticketing 未上报", steps=((None, "green"), (1, "red")))


def sweep_lag_stat() -> dashboard.Panel:
    return stat_panel(
        "时限巡检滞后", "最早一个已到期但尚未被巡检处理的时限已到期多久。巡检每几秒处理一次，"
        "正常为 0；超过 2 分钟即告警 GridSlaSweepStuck。",
        replicas_max("gridsvc_sla_oldest_unfired_deadline_seconds", ""), unit="s",
        no_value="无数据：ticketing 未上报", steps=((None, "green"), (60, "orange"), (120, "red")))


def dashboard_builder() -> dashboard.Dashboard:
    met_by_kind = increase("gridsvc_sla_deadlines_met_total", "1h", "namespace, kind, department",
                           'kind=~"acceptance|handling"')
    breached_by_kind = increase("gridsvc_sla_breaches_total", "1h", "namespace, kind, department",
                                'kind=~"acceptance|handling"')
    per_day = with_department_name(increase("gridsvc_sla_breaches_total", "1d",
                                            "namespace, department", 'kind=~"acceptance|handling"'))
    triage_per_day = increase("gridsvc_sla_breaches_total", "1d", "namespace",
                              'kind="triage"')
    open_tasks = with_department_name(replicas_max("gridsvc_open_tasks", "state, department"))
    board = (
        dashboard.Dashboard("企业网格化服务：时限与督办总览").uid(UID)
        .description("诉求办理各环节的时限（分理、受理确认、办理）：按时率、超时、督办升级、"
                     "逾期与即将到期的任务、巡检滞后、工作日历。")
        .tags(["gridsvc", "sla"]).timezone("browser").refresh("30s").time("now-7d", "now")
        .editable()
        .with_variable(datasource_variable())
        .with_variable(namespace_variable("gridsvc_department_info"))
        .with_variable(query_variable(
            "department", "部门",
            f"label_values(gridsvc_department_info{{{NS}}}, name)",
            "按部门筛选（部门中文名）；分理按时率不受此筛选影响。"))
        .with_row(row("按时率"))
    )
    for panel in on_time_stats():
        board = board.with_panel(panel)
    board = board.with_row(row("逾期与即将到期"))
    for panel in (*due_stats(), sweep_lag_stat(), calendar_stat()):
        board = board.with_panel(panel)
    board = (
        board.with_panel(bar_gauge(
            "逾期 / 一个工作日内到期（按部门）",
            "各部门已逾期（红）与一个工作日内到期（橙）的任务数：受理前计受理时限，"
            "受理后计办理时限。",
            [(f"sum by (name) ({tasks_due('overdue')}) > 0", "{{name}} 逾期"),
             (f"sum by (name) ({tasks_due('next_workday')}) > 0", "{{name}} 一个工作日内到期")],
            span=24, colors=("red", "orange")))
        .with_row(row("超时与督办"))
        .with_panel(time_series(
            "每日超时数（按部门）", "每天记录的受理确认与办理超时数，按责任部门堆叠；"
            "“分理（派单前）”为分理超时。每根柱为前 24 小时之和。",
            [(f"sum by (name) ({per_day})", "{{name}}"),
             (f"sum({triage_per_day})", "分理（派单前）")],
            bars=True, interval="1d", span=24))
        .with_panel(time_series(
            "按时率（按环节，1 小时窗口）",
            "每小时内到期的受理确认与办理时限的按时比例（所选部门）；分理不分部门。",
            [(f"100 * sum by (kind) ({with_department_name(met_by_kind)}) / "
              f"(sum by (kind) ({with_department_name(met_by_kind)}) + "
              f"sum by (kind) ({with_department_name(breached_by_kind)}) > 0)", "{{kind}}"),
             (on_time_percent("triage", "1h"), "triage")],
            unit="percent", display_names=KINDS))
        .with_panel(bar_gauge(
            "督办升级（按级别）", "所选时段内的督办升级次数：1 级 部门负责人，2 级 分管领导，"
            "3 级 领导小组办公室。",
            [(increase("gridsvc_sla_escalations_total", "$__range", "level"), "{{level}} 级")],
            steps=((None, "green"), (1, "orange"))))
        .with_row(row("在办工作"))
        .with_panel(time_series(
            "未销号诉求（按状态）",
            "尚未销号的诉求数，按状态。每个副本读同一数据库，取最大值而非求和。",
            [(f"sum by (state) ({replicas_max('gridsvc_open_demands', 'state')})", "{{state}}")],
            display_names=DEMAND_STATES))
        .with_panel(time_series(
            "在办任务（按状态）", "未办结、未撤销的任务数（所选部门），按状态。",
            [(f"sum by (state) ({open_tasks})", "{{state}}")],
            display_names=TASK_STATES))
        .with_panel(time_series(
            "时限触发延迟 p99", "时限到期到巡检处理之间的延迟（99 分位），按时限类型。"
            "持续超过 60 秒即告警 GridSlaTimerDelayHigh。",
            [("histogram_quantile(0.99, sum by (le, kind) (rate("
              + selector("gridsvc_sla_timer_delay_seconds_bucket") + "[$__rate_interval])))",
              "{{kind}}")],
            unit="s", display_names={**KINDS, "escalation": "督办升级", "reminder": "办理提醒",
                                     "rating_reminder": "评价提醒",
                                     "close_unrated": "未评价自动销号"}))
    )
    return board
