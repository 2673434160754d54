"""The exported Prometheus rules and Jack's own evaluator agree: same series in, same alerts firing.

One timeline of three hours drives every threshold below its warning level, between the
levels, above the critical level, then flapping, then back down.  Jack's evaluator walks it
minute by minute; what fires at each minute becomes the expectations of a ``promtool test rules``
file over the very same series and the rules ``jack alerts export-rules`` writes.  promtool
passing means Prometheus fires exactly what Jack fires, at every minute, for every level.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from jack_host.builtin.monitoring.evaluator import ThresholdEvaluator
from jack_host.builtin.monitoring.promql import SeriesKey, series_key
from jack_host.builtin.monitoring.rules import rules_yaml
from jack_host.builtin.monitoring.thresholds import BY_NAME, SEVERITIES, THRESHOLDS, configured_levels
from jack_host.cli.main import cli

MINUTES = 180
PROMTOOL = shutil.which("promtool")


def profile(minute: int, warning: float, critical: float) -> float:
    """Below warning, between the levels, above critical, flapping, then recovered for good."""
    low, mid, high = 0.5 * warning, (warning + critical) / 2, 1.5 * critical
    if minute < 20 or minute >= 90:
        return low
    if minute < 40:
        return mid
    if minute < 60:
        return high
    return high if minute % 2 == 0 else low


def level_of(name: str, minute: int) -> float:
    t = BY_NAME[name]
    return profile(minute, t.warning, t.critical)


def histogram(name: str, buckets: tuple[float, ...], target, minutes: int, **labels: str) -> dict[SeriesKey, list[float]]:
    """Cumulative buckets: each minute 90 quick observations and 10 at ``target(minute)`` seconds."""
    series: dict[SeriesKey, list[float]] = {}
    bounds = [*buckets, float("inf")]
    totals = [0.0] * len(bounds)
    per_minute: list[list[float]] = []
    for minute in range(minutes):
        slow = target(minute)
        for i, bound in enumerate(bounds):
            totals[i] += (90 if 0.05 <= bound else 0) + (10 if slow <= bound else 0)
        per_minute.append(list(totals))
    for i, bound in enumerate(bounds):
        le = "+Inf" if bound == float("inf") else repr(float(bound))
        series[series_key(f"{name}_bucket", {**labels, "le": le})] = [row[i] for row in per_minute]
    return series


def counter(increments) -> list[float]:
    total, values = 0.0, []
    for step in increments:
        total += step
        values.append(round(total, 6))
    return values


def timeline() -> dict[SeriesKey, list[float]]:
    m = range(MINUTES)
    s: dict[SeriesKey, list[float]] = {}
    s[series_key("jack_health_check_consecutive_failures")] = [level_of("health_check", i) for i in m]
    s.update(histogram("jack_http_request_duration_seconds", (0.05, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0),
                       lambda i: level_of("response_time_p95", i), MINUTES))
    fivexx = [10 * level_of("error_rate", i) for i in m]  # of 1000 responses a minute: percent * 10
    s[series_key("jack_http_responses_total", {"status_class": "2xx"})] = counter(1000 - x for x in fivexx)
    s[series_key("jack_http_responses_total", {"status_class": "5xx"})] = counter(fivexx)
    s[series_key("jack_database_size_bytes")] = [level_of("database_size", i) * 1e9 for i in m]
    s[series_key("jack_data_volume_size_bytes")] = [1e11] * MINUTES
    s[series_key("jack_data_volume_used_bytes")] = [level_of("disk_usage", i) / 100 * 1e11 for i in m]
    s[series_key("jack_memory_limit_bytes")] = [4e9] * MINUTES
    s[series_key("process_resident_memory_bytes")] = [level_of("memory_usage", i) / 100 * 4e9 for i in m]
    s[series_key("jack_cpu_limit_cores")] = [2.0] * MINUTES
    s[series_key("process_cpu_seconds_total")] = counter([50.0] + [level_of("cpu_usage", i) / 100 * 2 * 60 for i in m][1:])
    s[series_key("jack_message_queue_depth", {"direction": "inbound"})] = [0.75 * level_of("message_queue_depth", i) for i in m]
    s[series_key("jack_message_queue_depth", {"direction": "outbound"})] = [0.25 * level_of("message_queue_depth", i) for i in m]
    per_minute = [level_of("webhook_failures", i) for i in m]
    s[series_key("jack_webhook_failures_total", {"channel": "whatsapp", "reason": "bad_signature"})] = counter(0.5 * x for x in per_minute)
    s[series_key("jack_webhook_failures_total", {"channel": "sms", "reason": "send_failed"})] = counter(0.5 * x for x in per_minute)
    ai_buckets = (0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 30.0)
    # The AI latency is judged per provider: only the slow one pages, the local model stays quick.
    s.update(histogram("jack_ai_request_duration_seconds", ai_buckets, lambda i: level_of("ai_latency_p95", i), MINUTES,
                       provider="primary"))
    s.update(histogram("jack_ai_request_duration_seconds", ai_buckets, lambda i: 0.4, MINUTES, provider="ollama"))
    s[series_key("jack_escalation_queue_depth")] = [level_of("escalation_queue", i) for i in m]
    # SLA breaches are counted per hour over an hour: the rate builds up slowly, so the loud phases are twice as loud.
    quiet = 0.5 * BY_NAME["sla_breaches"].warning
    per_hour = [level_of("sla_breaches", i) * (1 if level_of("sla_breaches", i) == quiet else 2) for i in m]
    s[series_key("jack_sla_breaches_total", {"priority": "urgent"})] = counter(x / 60 for x in per_hour)
    return s


def promql_series(key: SeriesKey) -> str:
    name, labels = key
    if not labels:
        return name
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in labels) + "}"


def annotations_of(rules: dict[str, Any]) -> dict[tuple[str, str], dict[str, str]]:
    return {(r["alert"], r["labels"]["severity"]): r["annotations"] for r in rules["groups"][0]["rules"]}


class Settings(dict):
    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key, default)


@pytest.fixture(scope="module")
def walk() -> dict[str, Any]:
    """Jack's evaluator over the timeline: what fires at each minute, and the pages it sends."""
    series = timeline()
    evaluator = ThresholdEvaluator(configured_levels(Settings()))
    firing, pages = [], []
    for minute in range(MINUTES):
        snapshot = {key: float(f"{values[minute]:.6f}") for key, values in series.items()}
        pages += [(minute, p) for p in evaluator.evaluate(60.0 * minute, snapshot)]
        firing.append(evaluator.firing())
    return {"series": series, "firing": firing, "pages": pages}


def test_every_level_of_every_threshold_fires_and_pages_once(walk):
    fired = set().union(*walk["firing"])
    assert {(name, s) for name, s, _ in fired} == {(t.name, s) for t in THRESHOLDS for s in SEVERITIES}
    assert {key for name, _, key in fired if name == "ai_latency_p95"} == {"primary"}
    for t in THRESHOLDS:
        pages = [(p.severity, p.resolved) for _, p in walk["pages"] if p.threshold == t.name]
        assert {p.key for _, p in walk["pages"] if p.threshold == t.name} == {"primary" if t.by else ""}
        # Raised, escalated, resolved: the flapping half hour in between pages nobody again.
        assert pages == [("warning", False), ("critical", False), ("critical", True)], t.name
    assert not walk["firing"][-1]


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (Debian: apt-get install prometheus); CI installs it")
def test_promtool_fires_what_jack_fires(walk, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    environ = {"JACK_CONFIG_DIR": str(tmp_path), "DATABASE_PATH": str(tmp_path / "jack.db"), "JACK_ENABLED_PLUGINS": "none"}
    result = CliRunner().invoke(cli, ["alerts", "export-rules", "-o", str(tmp_path / "jack-rules.yml")], env=environ)
    assert result.exit_code == 0, result.output
    rules = yaml.safe_load((tmp_path / "jack-rules.yml").read_text())
    assert (tmp_path / "jack-rules.yml").read_text() == rules_yaml(configured_levels(Settings()), 60.0)
    check = subprocess.run([PROMTOOL, "check", "rules", "jack-rules.yml"], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    annotations = annotations_of(rules)

    tests = []
    for minute in range(MINUTES):
        for t in THRESHOLDS:
            expected = [
                {"exp_labels": {"severity": s, "threshold": t.name, "alert_type": t.alert_type, **({t.by: key} if t.by else {})},
                 "exp_annotations": annotations[(t.alertname, s)]}
                for name, s, key in sorted(walk["firing"][minute]) if name == t.name
            ]
            tests.append({"eval_time": f"{minute}m", "alertname": t.alertname, "exp_alerts": expected})
    document = {
        "rule_files": ["jack-rules.yml"],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [
                {"series": promql_series(key), "values": " ".join(f"{v:.6f}" for v in values)}
                for key, values in walk["series"].items()
            ],
            "alert_rule_test": tests,
        }],
    }
    (tmp_path / "jack-rules-test.yml").write_text(yaml.safe_dump(document, sort_keys=False, width=100000))
    run = subprocess.run([PROMTOOL, "test", "rules", "jack-rules-test.yml"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, (run.stdout + run.stderr)[-6000:]
    assert "SUCCESS" in run.stdout + run.stderr
