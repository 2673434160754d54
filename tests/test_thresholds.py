"""The threshold evaluator: raised once, escalated, resolved once, a flapping value pages once; export-rules' errors."""

from __future__ import annotations

import asyncio
import types
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from jack_host.builtin.monitoring.evaluator import ThresholdLoop
from jack_host.builtin.monitoring.gauges import GaugeRefresher, GaugeValues, MonitoringCollector
from jack_host.builtin.monitoring.promql import histogram_quantile
from jack_host.cli.main import cli
from jack_host.contract.interfaces import Alert
from jack_host.contract.services import Alerts, Services


class RecordingAlerts(Alerts):
    def __init__(self) -> None:
        self.raised: list[Alert] = []

    async def raise_alert(self, alert: Alert) -> Any:
        self.raised.append(alert)


class Settings(dict):
    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key, default)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def fake_app(**settings: Any) -> tuple[Any, RecordingAlerts]:
    services = Services()
    alerts = RecordingAlerts()
    services.provide(Alerts, alerts, plugin="test")
    app = types.SimpleNamespace(metrics=CollectorRegistry(), settings=Settings(settings), services=services)
    return app, alerts


def walk(loop: ThresholdLoop, clock: Clock, gauge: Gauge, values: list[float], step: float = 60.0) -> list[tuple[str, bool]]:
    pages = []

    async def run() -> None:
        for value in values:
            gauge.set(value)
            pages.extend((p.severity, p.resolved) for p in await loop.run_once())
            clock.now += step

    asyncio.run(run())
    return pages


def test_a_flapping_value_pages_once_then_escalates_and_resolves_once():
    app, alerts = fake_app(THRESHOLD_FOR_SECONDS=120, THRESHOLD_KEEP_FIRING_SECONDS=300)
    queue = Gauge("jack_escalation_queue_depth", "test", registry=app.metrics)
    clock = Clock()
    loop = ThresholdLoop(app, clock=clock)
    # Above the warning level (20) for 3 minutes, then flapping around it for 10, above critical (50), then recovered.
    series = [5] + [30] * 3 + [30, 10] * 5 + [60] * 3 + [5] * 8
    pages = walk(loop, clock, queue, series)
    assert pages == [("warning", False), ("critical", False), ("critical", True)]
    raised = [a for a in alerts.raised if a.name == "threshold.escalation_queue"]
    assert [a.dedup_key for a in raised] == ["threshold.escalation_queue"] * 3
    assert raised[0].severity == "warning" and not raised[0].resolved
    assert "above the warning level of 20" in raised[0].summary
    assert raised[1].severity == "critical" and raised[1].details["level"] == 50
    assert raised[1].details["alert_type"] == "guest_complaint_sla"  # the routing table's duty manager
    assert raised[2].resolved and raised[2].details["value"] == 5
    assert len(alerts.raised) == 3  # no other threshold paged on this registry


def test_without_hysteresis_the_same_flapping_value_would_page_again():
    """The counterpart of the test above: keep_firing_for is what stops the repeated pages."""
    app, alerts = fake_app(THRESHOLD_FOR_SECONDS=0, THRESHOLD_KEEP_FIRING_SECONDS=0)
    queue = Gauge("jack_escalation_queue_depth", "test", registry=app.metrics)
    clock = Clock()
    pages = walk(ThresholdLoop(app, clock=clock), clock, queue, [30, 10] * 3)
    assert pages == [("warning", False), ("warning", True)] * 3


def test_a_level_must_hold_for_its_duration_and_settings_override_the_levels():
    app, alerts = fake_app(THRESHOLD_FOR_SECONDS=120, THRESHOLD_ESCALATION_QUEUE_WARNING=3, THRESHOLD_ESCALATION_QUEUE_CRITICAL=4)
    queue = Gauge("jack_escalation_queue_depth", "test", registry=app.metrics)
    clock = Clock()
    loop = ThresholdLoop(app, clock=clock)
    assert walk(loop, clock, queue, [3.5, 3.5]) == []  # one minute above: not yet
    assert walk(loop, clock, queue, [3.5]) == [("warning", False)]  # two minutes: raised
    assert "above the warning level of 3" in alerts.raised[0].summary


def test_rate_thresholds_read_counters_from_the_registry():
    app, alerts = fake_app(THRESHOLD_FOR_SECONDS=0)
    failures = Counter("jack_webhook_failures", "test", ["channel", "reason"], registry=app.metrics)
    clock = Clock()
    loop = ThresholdLoop(app, clock=clock)

    async def run() -> list[str]:
        severities = []
        for per_minute in (0, 3, 8, 8, 60, 60):
            failures.labels(channel="sms", reason="bad_signature").inc(per_minute)
            severities += [p.severity for p in await loop.run_once()]
            clock.now += 60
        return severities

    assert asyncio.run(run()) == ["warning", "critical"]
    assert loop.evaluator.values["webhook_failures"] > 20


def test_histogram_quantile_interpolates_like_prometheus():
    # 100 observations: 90 at or below 0.5 s, 10 in (2, 5]: the 95th is half-way into (2, 5].
    assert histogram_quantile(0.95, {0.5: 90, 2.0: 90, 5.0: 100, float("inf"): 100}) == 3.5
    assert histogram_quantile(0.95, {1.0: 10, float("inf"): 100}) == 1.0  # in +Inf: the highest finite edge
    assert histogram_quantile(0.95, {1.0: 0, float("inf"): 0}) != histogram_quantile(0.95, {1.0: 0, float("inf"): 0})  # NaN


def run_cli(tmp_path: Path, args: list[str], **env: str):
    environ = {"JACK_CONFIG_DIR": str(tmp_path), "DATABASE_PATH": str(tmp_path / "jack.db"), "JACK_ENABLED_PLUGINS": "none", **env}
    return CliRunner().invoke(cli, args, env=environ)


def test_export_rules_writes_the_configured_levels(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli(tmp_path, ["alerts", "export-rules"], THRESHOLD_DISK_USAGE_WARNING="65", THRESHOLD_FOR_SECONDS="30")
    assert result.exit_code == 0, result.output
    rules = yaml.safe_load(result.output)["groups"][0]["rules"]
    assert len(rules) == 24
    disk = {r["labels"]["severity"]: r for r in rules if r["labels"]["threshold"] == "disk_usage"}
    assert disk["warning"]["expr"].endswith("> 65") and disk["critical"]["expr"].endswith("> 90")
    assert disk["warning"]["for"] == "30s" and disk["warning"]["keep_firing_for"] == "600s"
    assert {r["alert"] for r in rules} >= {"HighErrorRate", "JackHealthCheckFailing"}


def test_export_rules_refuses_bad_levels_in_one_line(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    swapped = run_cli(tmp_path, ["alerts", "export-rules"], THRESHOLD_ERROR_RATE_WARNING="9")
    assert swapped.exit_code == 2
    assert "THRESHOLD_ERROR_RATE_WARNING=9 is above THRESHOLD_ERROR_RATE_CRITICAL=5" in swapped.output
    assert "Traceback" not in swapped.output
    word = run_cli(tmp_path, ["alerts", "export-rules"], THRESHOLD_ERROR_RATE_WARNING="lots")
    assert word.exit_code == 2 and "THRESHOLD_ERROR_RATE_WARNING" in word.output and "Traceback" not in word.output
    unwritable = run_cli(tmp_path, ["alerts", "export-rules", "-o", str(tmp_path / "no" / "such" / "rules.yml")])
    assert unwritable.exit_code == 1 and unwritable.output.startswith("error: cannot write")
    helped = run_cli(tmp_path, ["alerts", "export-rules", "--help"])
    assert helped.exit_code == 0 and "jack alerts export-rules -o" in helped.output


def test_health_check_failures_count_in_a_row_and_page_at_two():
    app, alerts = fake_app()
    answers = iter([True, True, False, True, True, True, True, True, False])  # True: /health answered 503
    app.health_monitor = types.SimpleNamespace(served_document=lambda: ({}, next(answers)))
    values = GaugeValues()
    app.metrics.register(MonitoringCollector(values))
    refresher = GaugeRefresher(app, values)
    clock = Clock()
    loop = ThresholdLoop(app, clock=clock)

    async def run() -> list[tuple[int, str, bool]]:
        pages = []
        for _ in range(9):
            await refresher.check_health()
            pages += [(values.health_consecutive_failures, p.severity, p.resolved) for p in await loop.run_once()]
            clock.now += 60
        return pages

    pages = asyncio.run(run())
    # Failures 1, 2 (warning at once: checks already count in a row), 0 (still firing: hysteresis), then 1..5 (critical).
    assert pages[:2] == [(2, "warning", False), (5, "critical", False)]
    assert values.health_failures_total == 7 and values.health_checks_total == 9


def test_doctor_reports_a_warning_level_above_its_critical_level():
    from jack_host.builtin.monitoring.plugin import jack_doctor_checks

    bad, = jack_doctor_checks(types.SimpleNamespace(settings=Settings(THRESHOLD_DISK_USAGE_WARNING=95)))
    assert not bad.ok and bad.must_fix
    assert bad.detail == ("THRESHOLD_DISK_USAGE_WARNING=95 is above THRESHOLD_DISK_USAGE_CRITICAL=90; "
                          "expected a warning level at or below the critical one")
    good, = jack_doctor_checks(types.SimpleNamespace(settings=Settings()))
    assert good.ok


def test_a_page_the_alerts_service_refused_is_sent_at_the_next_evaluation():
    app, alerts = fake_app(THRESHOLD_FOR_SECONDS=0)
    refusals = [RuntimeError("database is locked")]
    original = alerts.raise_alert

    async def flaky(alert: Alert) -> Any:
        if refusals:
            raise refusals.pop()
        return await original(alert)

    alerts.raise_alert = flaky  # type: ignore[method-assign]
    queue = Gauge("jack_escalation_queue_depth", "test", registry=app.metrics)
    clock = Clock()
    pages = walk(ThresholdLoop(app, clock=clock), clock, queue, [30, 30, 30])
    assert pages == [("warning", False), ("warning", False)]  # refused, then sent; not again after that
    assert [(a.severity, a.resolved) for a in alerts.raised] == [("warning", False)]


def test_ai_latency_pages_per_provider():
    app, alerts = fake_app(THRESHOLD_FOR_SECONDS=0)
    latency = Histogram("jack_ai_request_duration_seconds", "test", ["provider"], buckets=(1, 5, 10, 15), registry=app.metrics)
    clock = Clock()
    loop = ThresholdLoop(app, clock=clock)

    async def run() -> None:
        for _ in range(3):
            for _ in range(10):
                latency.labels(provider="primary").observe(12)  # p95 in (10, 15]: critical
                latency.labels(provider="ollama").observe(0.5)
            await loop.run_once()
            clock.now += 60

    asyncio.run(run())
    assert [(a.dedup_key, a.severity) for a in alerts.raised] == [("threshold.ai_latency_p95.primary", "critical")]
    assert alerts.raised[0].details["provider"] == "primary"
    assert alerts.raised[0].summary.startswith("AI latency (p95) of provider primary is 14.75 seconds: above the critical level of 10")
