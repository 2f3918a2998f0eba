"""What every dashboard of deploy/grafana shares: the variables, the PromQL building blocks
and panel builders with the house rules (every stat panel has thresholds and a "no data"
text; every panel a Chinese description for operators). Built with grafana-foundation-sdk;
``build.py`` writes the JSON files.

The PromQL rules of deploy/prometheus/rules.yml hold here too:
- a counter's increase over a window counts a series born inside it from its first sample
  (:func:`increase`): a new pod that breached before its first scrape is not lost;
- a gauge read from the database is exported by every replica alike: ``max``, never ``sum``,
  over the replicas (:func:`replicas_max`);
- departments appear by their Chinese name, joined from ``gridsvc_department_info``
  (:func:`with_department_name`); the ``department`` variable lists those names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from grafana_foundation_sdk.builders import bargauge, dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

DATASOURCE = dm.DataSourceRef(type_val="prometheus", uid="${datasource}")
#: every query's own selector: the namespace chosen (all of them: ``.*``, also no label)
NS = 'namespace=~"$namespace"'
#: the department names chosen in the ``department`` variable
DEPARTMENT_NAMES = 'name=~"$department"'


def to_json(board: dashboard.Dashboard) -> str:
    """The dashboard's JSON, each panel with its own id (1, 2, ... in order)."""
    built = board.build()
    for number, panel in enumerate(built.panels or [], start=1):
        panel.id_val = number
    return JSONEncoder(sort_keys=True, indent=2, ensure_ascii=False).encode(built) + "\n"


# --- variables -------------------------------------------------------------------------------

def datasource_variable() -> dashboard.DatasourceVariable:
    return (dashboard.DatasourceVariable("datasource").label("数据源").type("prometheus")
            .description("Prometheus 数据源"))


def query_variable(name: str, label: str, query: str, description: str
                   ) -> dashboard.QueryVariable:
    """A multi-value variable of ``label_values(...)``, "all" standing for every value."""
    return (dashboard.QueryVariable(name).label(label).description(description)
            .query(query).datasource(DATASOURCE)
            .multi(True).include_all(True).all_value(".*")
            .current(dm.VariableOption(selected=True, text=["All"], value=["$__all"]))
            .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED).sort(dm.VariableSort.NATURAL_ASC))


def namespace_variable(metric: str) -> dashboard.QueryVariable:
    return query_variable(
        "namespace", "命名空间", f"label_values({metric}, namespace)",
        "Kubernetes 命名空间（如 gridsvc 为生产、gridsvc-dev 为开发）；选“All”合并显示。")


# --- PromQL ----------------------------------------------------------------------------------

def selector(metric: str, *matchers: str) -> str:
    return f"{metric}{{{', '.join((NS, *matchers))}}}"


def increase(metric: str, window: str, by: str, *matchers: str) -> str:
    """``sum by (by)`` of the counter's increase over ``window``, a series born inside the
    window counted from its first sample (rules.yml explains why)."""
    c = selector(metric, *matchers)
    return (f"sum by ({by}) (increase({c}[{window}]) + (min_over_time({c}[{window}]) "
            f"unless {c} offset {window}) or increase({c}[{window}]))")


def department_names() -> str:
    """One ``{namespace, department, name}`` series per department chosen."""
    return (f"max by (namespace, department, name) "
            f"(gridsvc_department_info{{{NS}, {DEPARTMENT_NAMES}}})")


def with_department_name(expr: str) -> str:
    """``expr`` (which keeps ``namespace`` and ``department``) restricted to the departments
    chosen, each series carrying the department's Chinese ``name``."""
    return f"({expr}) * on (namespace, department) group_left (name) {department_names()}"


def replicas_max(metric: str, by: str, *matchers: str) -> str:
    """A gauge every replica reads from the database: its value, not the replicas' sum."""
    return f"max by (namespace, {by}) ({selector(metric, *matchers)})" if by else \
        f"max by (namespace) ({selector(metric, *matchers)})"


def on_time_percent(kind: str, window: str = "$__range") -> str:
    """Share of the ``kind`` deadlines resolved in ``window`` that were met, in percent, for
    the departments chosen (triage has none: it happens before routing)."""
    kinds = f'kind="{kind}"'
    by = "namespace" if kind == "triage" else "namespace, department"
    met = increase("gridsvc_sla_deadlines_met_total", window, by, kinds)
    breached = increase("gridsvc_sla_breaches_total", window, by, kinds)
    if kind != "triage":
        met, breached = with_department_name(met), with_department_name(breached)
    return (f"100 * sum({met}) / (sum({met}) + sum({breached}) > 0)")


# --- panels ----------------------------------------------------------------------------------

def thresholds(*steps: tuple[float | None, str]) -> dashboard.ThresholdsConfig:
    return (dashboard.ThresholdsConfig().mode(dm.ThresholdsMode.ABSOLUTE)
            .steps([dm.Threshold(value=value, color=color) for value, color in steps]))


def target(expr: str, legend: str = "", ref: str = "A", instant: bool = False
           ) -> prometheus.Dataquery:
    query = prometheus.Dataquery().expr(expr).ref_id(ref).datasource(DATASOURCE)
    if legend:
        query = query.legend_format(legend)
    return query.instant() if instant else query.range()


def targets(pairs: Iterable[tuple[str, str]], instant: bool = False) -> list:
    return [target(expr, legend, chr(ord("A") + i), instant)
            for i, (expr, legend) in enumerate(pairs)]


def stat_panel(title: str, description: str, expr: str, *, unit: str, no_value: str,
               steps: Sequence[tuple[float | None, str]], legend: str = "",
               mappings: dict[str, str] | None = None) -> stat.Panel:
    """A stat panel: thresholds and a "no data" text are required."""
    panel = (stat.Panel().title(title).description(description).datasource(DATASOURCE)
             .with_target(target(expr, legend, instant=True)).unit(unit).no_value(no_value)
             .thresholds(thresholds(*steps)).color_mode(cm.BigValueColorMode.BACKGROUND)
             .graph_mode(cm.BigValueGraphMode.NONE).height(5).span(6))
    if mappings:
        panel = panel.mappings([dm.ValueMap(options={
            value: dm.ValueMappingResult(text=text, index=i)
            for i, (value, text) in enumerate(mappings.items())})])
    return panel


def time_series(title: str, description: str, pairs: Iterable[tuple[str, str]], *,
                unit: str = "short", span: int = 12, bars: bool = False,
                interval: str | None = None, display_names: dict[str, str] | None = None
                ) -> timeseries.Panel:
    panel = (timeseries.Panel().title(title).description(description).datasource(DATASOURCE)
             .targets(targets(pairs)).unit(unit).height(8).span(span)
             .no_value("所选时段内无数据"))
    if bars:
        panel = (panel.draw_style(cm.GraphDrawStyle.BARS).fill_opacity(80)
                 .stacking(cb.StackingConfig().mode(cm.StackingMode.NORMAL)))
    if interval:
        panel = panel.interval(interval)
    for name, shown in (display_names or {}).items():
        panel = panel.override_by_name(name, [dm.DynamicConfigValue(id_val="displayName",
                                                                    value=shown)])
    return panel


def bar_gauge(title: str, description: str, pairs: Iterable[tuple[str, str]], *,
              unit: str = "short", span: int = 12, steps: Sequence[tuple[float | None, str]]
              = ((None, "green"),), colors: Sequence[str] = ()) -> bargauge.Panel:
    """Bars of instant values; ``colors`` fixes the colour of each query's bars in turn."""
    panel = (bargauge.Panel().title(title).description(description).datasource(DATASOURCE)
             .targets(targets(pairs, instant=True)).unit(unit).height(8).span(span)
             .thresholds(thresholds(*steps)).orientation(cm.VizOrientation.HORIZONTAL)
             .display_mode(cm.BarGaugeDisplayMode.GRADIENT).no_value("无"))
    for i, color in enumerate(colors):
        panel = panel.override_by_query(chr(ord("A") + i), [dm.DynamicConfigValue(
            id_val="color", value={"mode": "fixed", "fixedColor": color})])
    return panel


def row(title: str) -> dashboard.Row:
    return dashboard.Row(title)
