"""Service health (服务运行状况): whether each service answers, the gateway's answers and
latency, service calls, RabbitMQ queues (from RabbitMQ's own Prometheus plugin), the outbox,
notification deliveries and the sweeps. For the platform's operators."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard
from panels import (
    NS,
    bar_gauge,
    datasource_variable,
    namespace_variable,
    query_variable,
    replicas_max,
    row,
    selector,
    stat_panel,
    time_series,
)

UID = "gridsvc-service-health"
FILE = "service-health.json"

SERVICE = 'service=~"$service"'
RPC_QUEUES = 'queue=~"rpc-.+"'
SWEEPS = {
    "gridsvc_sla_sweep_failures_total": "时限巡检（ticketing）",
    "gridsvc_obligation_sweep_failures_total": "合同义务巡检（enterprise）",
    "gridsvc_notification_delivery_sweep_failures_total": "消息投递（notification）",
    "gridsvc_board_expiry_sweep_failures_total": "供求信息到期（supplydemand）",
}


def rate(metric: str, by: str, *matchers: str) -> str:
    return f"sum by ({by}) (rate({selector(metric, *matchers)}[$__rate_interval]))"


def dashboard_builder() -> dashboard.Dashboard:
    requests = selector("gridsvc_gateway_requests_total")
    errors = selector("gridsvc_gateway_requests_total", 'status=~"5.."')
    board = (
        dashboard.Dashboard("企业网格化服务：服务运行状况").uid(UID)
        .description("各服务是否正常应答、网关的应答与耗时、服务调用、RabbitMQ 队列、事件发件箱、"
                     "消息投递与各项巡检。")
        .tags(["gridsvc", "operations"]).timezone("browser").refresh("30s").time("now-6h", "now")
        .editable()
        .with_variable(datasource_variable())
        .with_variable(namespace_variable("gridsvc_service_up"))
        .with_variable(query_variable(
            "service", "服务", f"label_values(gridsvc_service_up{{{NS}}}, service)",
            "按服务筛选：enterprise 企业库，ticketing 诉求办理，notification 消息通知，"
            "supplydemand 供求信息。"))
        .with_row(row("服务与网关"))
        .with_panel(stat_panel(
            "服务状态", "网关每 2 秒探测各服务的 health：正常＝应答且数据库可达、迁移为最新；"
            "故障＝无进程消费其队列、不应答或不健康（此时其接口立即返回 503）。"
            "任一网关看到正常即为正常。",
            f"max by (service) ({selector('gridsvc_service_up', SERVICE)})", legend="{{service}}",
            unit="none", no_value="无数据：网关未上报", steps=((None, "red"), (1, "green")),
            mappings={"0": "故障", "1": "正常"}).span(12))
        .with_panel(stat_panel(
            "网关 5xx 比例", "近 5 分钟网关应答中 5xx（500、503、504）的比例。"
            "超过 5% 且请求足够多时告警 GridGateway5xxRatio。",
            f"100 * (sum(rate({errors}[5m])) or vector(0))"
            f" / clamp_min(sum(rate({requests}[5m])), 1e-9)",
            unit="percent", no_value="近 5 分钟无请求", steps=((None, "green"), (1, "orange"),
                                                         (5, "red"))))
        .with_panel(stat_panel(
            "网关与 RabbitMQ 的连接", "所有网关副本是否都连着 RabbitMQ（看最差的一个）；断开的网关 "
            "/readyz 为红，不再接收流量（告警 GridBrokerDisconnected）。",
            f"min(gridsvc_gateway_broker_connected{{{NS}}})", unit="none",
            no_value="无数据：网关未上报", steps=((None, "red"), (1, "green")),
            mappings={"0": "断开", "1": "已连接"}))
        .with_panel(time_series(
            "网关请求（按路由与状态）", "网关每秒应答的请求数，按路由模板与 HTTP 状态。",
            [(rate("gridsvc_gateway_requests_total", "route, status"), "{{route}} {{status}}")],
            unit="reqps"))
        .with_panel(time_series(
            "网关耗时 p99（按路由）", "网关应答耗时的 99 分位，按路由模板。",
            [("histogram_quantile(0.99, "
              + rate("gridsvc_gateway_request_duration_seconds_bucket", "route, le") + ")",
              "{{route}}")], unit="s"))
        .with_panel(time_series(
            "熔断状态与在途调用", "各服务在网关中的熔断器是否打开（1＝打开，其接口返回 503）；"
            "网关等待应答的服务调用数。",
            [(f"max by (service) ({selector('gridsvc_gateway_circuit_open', SERVICE)})",
              "{{service}} 熔断"),
             (f"sum(gridsvc_gateway_rpc_in_flight{{{NS}}})", "在途调用")]))
        .with_row(row("服务调用"))
        .with_panel(time_series(
            "服务调用（按服务与方法）", "各服务每秒处理的调用（RPC、事件、定时任务）。",
            [(rate("gridsvc_worker_calls_total", "service, method", SERVICE),
              "{{service}}.{{method}}")], unit="ops"))
        .with_panel(time_series(
            "服务调用耗时 p99", "各服务处理一次调用的耗时 99 分位。",
            [("histogram_quantile(0.99, "
              + rate("gridsvc_worker_duration_seconds_bucket", "service, method, le", SERVICE)
              + ")", "{{service}}.{{method}}")], unit="s"))
        .with_panel(time_series(
            "调用错误与拒绝", "rejected：业务规则拒绝（4xx）；error：服务内部错误（5xx）。",
            [(rate("gridsvc_worker_calls_total", "service, method, outcome", SERVICE,
                   'outcome!="ok"'), "{{service}}.{{method}} {{outcome}}")], unit="ops"))
        .with_row(row("RabbitMQ 队列"))
        .with_panel(time_series(
            "RPC 队列积压（待投递消息）", "各服务 RPC 队列中待处理的请求数，来自 RabbitMQ 的 "
            "Prometheus 插件（每个队列只报一次）。持续增长说明服务处理不过来或已停止。",
            [(f"max by (queue) ({selector('rabbitmq_queue_messages_ready', RPC_QUEUES)})",
              "{{queue}}")]))
        .with_panel(time_series(
            "RPC 队列消费者", "消费各服务 RPC 队列的进程数；为 0 即该服务无副本在运行"
            "（告警 GridServiceNoConsumers）。",
            [(f"max by (queue) ({selector('rabbitmq_queue_consumers', RPC_QUEUES)})",
              "{{queue}}")]))
        .with_row(row("事件发件箱与消息投递"))
        .with_panel(time_series(
            "发件箱积压与最早事件的等待", "已提交未发布的事件数，以及其中最早一条已等待的秒数"
            "（超过 10 分钟告警 GridOutboxStale）。",
            [(f"max by (service) ({selector('gridsvc_outbox_backlog_events', SERVICE)})",
              "{{service}} 积压"),
             (f"max by (service) "
              f"({selector('gridsvc_outbox_oldest_event_age_seconds', SERVICE)})",
              "{{service}} 最早等待（秒）")]))
        .with_panel(time_series(
            "事件发布与发布失败", "每秒发布的事件数与发布失败次数（失败的事件留在发件箱中重试）。",
            [(rate("gridsvc_outbox_published_events_total", "service", SERVICE),
              "{{service}} 已发布"),
             (rate("gridsvc_outbox_publish_failures_total", "service", SERVICE),
              "{{service}} 发布失败")], unit="ops"))
        .with_panel(bar_gauge(
            "待重试与已放弃的投递", "邮件、企业微信等渠道：待发送或待重试的投递数，以及重试用尽、"
            "等待管理员处理的投递数（GET /api/v1/deliveries?state=dead）。",
            [(f"sum by (channel) "
              f"({replicas_max('gridsvc_notification_retry_backlog', 'channel')})",
              "{{channel}} 待重试"),
             (f"sum by (channel) "
              f"({replicas_max('gridsvc_notification_dead_deliveries', 'channel')})",
              "{{channel}} 已放弃")],
            steps=((None, "green"), (1, "orange"), (50, "red"))))
        .with_panel(time_series(
            "巡检失败", "各项定时巡检整轮失败的次数（每秒）；"
            "持续失败 10 分钟告警 GridSweepFailing。",
            [(f"sum(rate({selector(metric)}[$__rate_interval]))", name)
             for metric, name in SWEEPS.items()], unit="ops"))
    )
    return board
