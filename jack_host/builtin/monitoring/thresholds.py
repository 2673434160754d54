"""The twelve thresholds of the deployment guide's table: their metric, PromQL expression and levels.

Each threshold is written twice, side by side: as PromQL (for ``jack alerts export-rules``) and as
the same computation over Jack's own samples (:mod:`jack_host.builtin.monitoring.promql`).  The
table's warning and critical levels are the defaults; ``THRESHOLD_<NAME>_WARNING`` and
``THRESHOLD_<NAME>_CRITICAL`` override each one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from jack_host.builtin.monitoring.promql import SampleHistory, divide, scale
from jack_host.config.settings import Setting

SEVERITIES = ("warning", "critical")


@dataclass(frozen=True)
class Threshold:
    """One row of the table."""

    #: Stable name: settings ``THRESHOLD_<NAME>_WARNING``, alert ``threshold.<name>``.
    name: str
    #: The Prometheus alert name (``HighErrorRate`` as in the guide's Alertmanager example).
    alertname: str
    title: str
    unit: str
    warning: float
    critical: float
    action: str
    #: PromQL of the value compared with the level.
    expr: str
    #: The same value computed from Jack's samples (``None``: no data, nothing fires); with ``by``,
    #: one value per value of that label (``{"primary": 6.2, "ollama": 0.4}``).
    value: Callable[[SampleHistory], float | None | dict[str, float | None]]
    #: ``>`` or ``>=`` (health-check failures count: 2 failures is the warning).
    op: str = ">"
    #: Seconds the level must hold before the alert fires; ``None``: ``THRESHOLD_FOR_SECONDS``.
    for_seconds: float | None = None
    #: The alert-routing table's type (``details["alert_type"]``): who is paged.
    alert_type: str = "other"
    #: A label the expression keeps: one alert per value of it (the AI latency per provider).
    by: str = ""

    @property
    def setting_prefix(self) -> str:
        return f"THRESHOLD_{self.name.upper()}"

    def crosses(self, value: float | None, level: float) -> bool:
        if value is None:
            return False
        return value >= level if self.op == ">=" else value > level  # NaN compares False, as in PromQL


P95_HTTP = "histogram_quantile(0.95, sum by (le) (rate(jack_http_request_duration_seconds_bucket[5m])))"
P95_AI = "histogram_quantile(0.95, sum by (le, provider) (rate(jack_ai_request_duration_seconds_bucket[5m])))"

THRESHOLDS: tuple[Threshold, ...] = (
    Threshold(
        "health_check", "JackHealthCheckFailing", "Health check", "consecutive failures", 2, 5,
        "Restart the service, page on-call",
        "sum(jack_health_check_consecutive_failures)",
        lambda h: h.value_sum("jack_health_check_consecutive_failures"),
        op=">=", for_seconds=0, alert_type="container_unhealthy",
    ),
    Threshold(
        "response_time_p95", "JackHighResponseTime", "Response time (p95)", "seconds", 2, 5,
        "Investigate, scale if needed",
        P95_HTTP,
        lambda h: h.quantile(0.95, "jack_http_request_duration_seconds_bucket", 300),
        alert_type="container_unhealthy",
    ),
    Threshold(
        "error_rate", "HighErrorRate", "Error rate (5xx)", "percent of responses", 1, 5,
        "Investigate logs, page on-call",
        '100 * sum(rate(jack_http_responses_total{status_class="5xx"}[5m])) / sum(rate(jack_http_responses_total[5m]))',
        lambda h: scale(100, divide(h.rate_sum("jack_http_responses_total", 300, status_class="5xx"),
                                    h.rate_sum("jack_http_responses_total", 300))),
        alert_type="container_unhealthy",
    ),
    Threshold(
        "database_size", "JackDatabaseSizeHigh", "Database size", "GB", 5, 8,
        "Archive old conversations",
        "sum(jack_database_size_bytes) / 1e9",
        lambda h: divide(h.value_sum("jack_database_size_bytes"), 1e9),
        alert_type="database_error",
    ),
    Threshold(
        "disk_usage", "JackDiskUsageHigh", "Disk usage", "percent of the data volume", 70, 90,
        "Clean up logs, expand disk",
        "100 * sum(jack_data_volume_used_bytes) / sum(jack_data_volume_size_bytes)",
        lambda h: scale(100, divide(h.value_sum("jack_data_volume_used_bytes"), h.value_sum("jack_data_volume_size_bytes"))),
        alert_type="container_unhealthy",
    ),
    Threshold(
        "memory_usage", "JackMemoryUsageHigh", "Memory usage", "percent of the memory limit", 70, 90,
        "Restart, investigate leak",
        "100 * sum(process_resident_memory_bytes) / sum(jack_memory_limit_bytes)",
        lambda h: scale(100, divide(h.value_sum("process_resident_memory_bytes"), h.value_sum("jack_memory_limit_bytes"))),
        alert_type="container_unhealthy",
    ),
    Threshold(
        "cpu_usage", "JackCPUUsageHigh", "CPU usage (sustained)", "percent of the CPU limit", 70, 90,
        "Scale up, investigate",
        "100 * sum(rate(process_cpu_seconds_total[5m])) / sum(jack_cpu_limit_cores)",
        lambda h: scale(100, divide(h.rate_sum("process_cpu_seconds_total", 300), h.value_sum("jack_cpu_limit_cores"))),
        alert_type="container_unhealthy",
    ),
    Threshold(
        "message_queue_depth", "JackMessageQueueBacklog", "Message queue depth", "messages waiting", 100, 500,
        "Investigate backlog",
        "sum(jack_message_queue_depth)",
        lambda h: h.value_sum("jack_message_queue_depth"),
    ),
    Threshold(
        "webhook_failures", "JackWebhookFailures", "Webhook failures", "per minute", 5, 20,
        "Check channel status",
        "60 * sum(rate(jack_webhook_failures_total[5m]))",
        lambda h: scale(60, h.rate_sum("jack_webhook_failures_total", 300)),
        alert_type="channel_outage",
    ),
    Threshold(
        "ai_latency_p95", "JackAILatencyHigh", "AI latency (p95)", "seconds", 5, 10,
        "Check AI provider status",
        P95_AI,
        lambda h: h.quantile_by(0.95, "jack_ai_request_duration_seconds_bucket", 300, "provider"),
        alert_type="ai_provider_down", by="provider",
    ),
    Threshold(
        "escalation_queue", "JackEscalationQueueHigh", "Escalation queue", "conversations waiting for staff", 20, 50,
        "Alert supervisors",
        "sum(jack_escalation_queue_depth)",
        lambda h: h.value_sum("jack_escalation_queue_depth"),
        alert_type="guest_complaint_sla",
    ),
    Threshold(
        "sla_breaches", "JackSLABreaches", "SLA breaches", "per hour", 5, 10,
        "Page duty manager",
        "3600 * sum(rate(jack_sla_breaches_total[1h]))",
        lambda h: scale(3600, h.rate_sum("jack_sla_breaches_total", 3600)),
        alert_type="guest_complaint_sla",
    ),
)

BY_NAME = {t.name: t for t in THRESHOLDS}
#: The sample names the thresholds read through ``rate()``: the only ones kept over time.
WINDOWED_SERIES = frozenset({
    "jack_http_request_duration_seconds_bucket", "jack_http_responses_total", "process_cpu_seconds_total",
    "jack_webhook_failures_total", "jack_ai_request_duration_seconds_bucket", "jack_sla_breaches_total",
})

DEFAULT_FOR_SECONDS = 120.0
DEFAULT_KEEP_FIRING_SECONDS = 600.0


@dataclass(frozen=True)
class Levels:
    """A threshold's levels and timing as configured (settings over the table's defaults)."""

    threshold: Threshold
    warning: float
    critical: float
    for_seconds: float
    keep_firing_seconds: float

    def level(self, severity: str) -> float:
        return self.warning if severity == "warning" else self.critical


def configured_levels(settings) -> list[Levels]:
    """Every threshold with the levels in force for these settings."""
    default_for = _number(settings.get("THRESHOLD_FOR_SECONDS"), DEFAULT_FOR_SECONDS)
    keep = _number(settings.get("THRESHOLD_KEEP_FIRING_SECONDS"), DEFAULT_KEEP_FIRING_SECONDS)
    levels = []
    for t in THRESHOLDS:
        levels.append(Levels(
            t,
            _number(settings.get(f"{t.setting_prefix}_WARNING"), t.warning),
            _number(settings.get(f"{t.setting_prefix}_CRITICAL"), t.critical),
            t.for_seconds if t.for_seconds is not None else default_for,
            keep,
        ))
    return levels


def _number(value, default: float) -> float:
    return default if value is None or value == "" else float(value)


def level_problems(settings) -> list[str]:
    """Pairs where the warning level is above the critical one (each level alone is checked by its setting)."""
    return [
        f"{lv.threshold.setting_prefix}_WARNING={lv.warning:g} is above {lv.threshold.setting_prefix}_CRITICAL={lv.critical:g}; "
        "expected a warning level at or below the critical one"
        for lv in configured_levels(settings)
        if lv.warning > lv.critical
    ]


def threshold_settings() -> list[Setting]:
    settings = [
        Setting("THRESHOLD_EVALUATION_INTERVAL", float, 60.0, "seconds between two evaluations of the thresholds", minimum=0.01),
        Setting("THRESHOLD_FOR_SECONDS", float, DEFAULT_FOR_SECONDS,
                "a level must hold this long before its alert is raised (health-check failures: at once)", minimum=0),
        Setting("THRESHOLD_KEEP_FIRING_SECONDS", float, DEFAULT_KEEP_FIRING_SECONDS,
                "an alert is resolved only after its value stayed below the level this long (no flapping pages)", minimum=0),
    ]
    for t in THRESHOLDS:
        for severity in SEVERITIES:
            default = t.warning if severity == "warning" else t.critical
            settings.append(Setting(
                f"{t.setting_prefix}_{severity.upper()}", float, float(default),
                f"{t.title}: the {severity} level, in {t.unit} (the deployment guide: {default:g})", minimum=0,
            ))
    return settings
