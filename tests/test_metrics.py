"""``GET /metrics`` on a served app with every plugin installed: each threshold's metric, the token, a real alert."""

from __future__ import annotations

import asyncio
import datetime as dt
import math

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session, select

from jack_host.builtin.alerts.models import AlertRecord
from jack_host.builtin.conversations.models import Task, now_utc
from jack_host.builtin.monitoring.thresholds import THRESHOLDS
from jack_host.contract.services import AICall, Costs
from jack_host.db.engine import sqlite_path
from jack_host.testing import make_app, running_app, wait_until

TOKEN = "s3cret-scrape-token"
#: The series each threshold reads (``_bucket`` and ``_total`` as Prometheus names them).
THRESHOLD_SERIES = {
    "health_check": ["jack_health_check_consecutive_failures"],
    "response_time_p95": ["jack_http_request_duration_seconds_bucket"],
    "error_rate": ["jack_http_responses_total"],
    "database_size": ["jack_database_size_bytes"],
    "disk_usage": ["jack_data_volume_used_bytes", "jack_data_volume_size_bytes"],
    "memory_usage": ["process_resident_memory_bytes", "jack_memory_limit_bytes"],
    "cpu_usage": ["process_cpu_seconds_total", "jack_cpu_limit_cores"],
    "message_queue_depth": ["jack_message_queue_depth"],
    "webhook_failures": ["jack_webhook_failures_total"],
    "ai_latency_p95": ["jack_ai_request_duration_seconds_bucket"],
    "escalation_queue": ["jack_escalation_queue_depth"],
    "sla_breaches": ["jack_sla_breaches_total"],
}


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Every installed plugin; nothing configured but the scrape token, fast evaluation and a threshold low enough to cross."""
    tmp_path = tmp_path_factory.mktemp("metrics")
    app = make_app(tmp_path, load_entrypoints=True, env={
        "METRICS_TOKEN": TOKEN,
        "METRICS_REFRESH_SECONDS": "0.2",
        "THRESHOLD_EVALUATION_INTERVAL": "0.2",
        "THRESHOLD_FOR_SECONDS": "0",
        "THRESHOLD_DATABASE_SIZE_WARNING": "0.000001",  # 1000 bytes: any database is above it
    })
    with running_app(app) as url:
        yield app, url


def test_metrics_cover_every_threshold_and_count_requests(served):
    app, url = served
    with httpx.Client(base_url=url, timeout=10, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        assert client.get("/health/live").status_code == 200
        assert client.get("/no/such/page").status_code == 404
        refused = client.post("/webhooks/whatsapp", json={"object": "whatsapp_business_account"})
        assert refused.status_code == 503  # nothing configured: a 5xx and a webhook failure
        asyncio.run(app.services.get(Costs).record_ai_call(
            # A local model: priced at zero without LiteLLM's cost map (its import takes seconds).
            AICall(provider="ollama", model="ollama/llama3.2", latency_ms=6500.0, fallback=True, is_local=True, outcome="timeout")))
        task = app.services.tasks.create(title="Towels", department="housekeeping", priority="urgent")
        with Session(app.engine) as session:  # the task is late: its SLA is breached at the next check
            late = session.get(Task, task["id"])
            late.sla_due_at = now_utc() - dt.timedelta(minutes=1)
            session.add(late)
            session.commit()
        assert [t["id"] for t in app.services.tasks.check_sla()] == [task["id"]]
        # The background refresh has read the database at least once since the start.
        found = wait_until(lambda: (s := samples(client.get("/metrics").text)).get("jack_database_size_bytes") and s,
                           timeout=20, what="the gauges' first refresh")

    missing = [f"{name}: {series}" for name, names in THRESHOLD_SERIES.items() for series in names if series not in found]
    assert not missing
    assert set(THRESHOLD_SERIES) == {t.name for t in THRESHOLDS}

    classes = {labels["status_class"]: value for labels, value in found["jack_http_responses_total"]}
    assert classes["4xx"] >= 1 and classes["5xx"] >= 1 and classes["2xx"] >= 1
    assert ({"channel": "whatsapp", "reason": "not_configured"}, 1.0) in found["jack_webhook_failures_total"]
    assert ({"provider": "ollama", "le": "7.5"}, 1.0) in found["jack_ai_request_duration_seconds_bucket"]
    assert ({"provider": "ollama", "le": "5.0"}, 0.0) in found["jack_ai_request_duration_seconds_bucket"]
    assert ({"provider": "ollama", "outcome": "timeout"}, 1.0) in found["jack_ai_fallbacks_total"]
    assert {labels["direction"] for labels, _ in found["jack_message_queue_depth"]} == {"inbound", "outbound"}
    assert ({"priority": "urgent"}, 1.0) in found["jack_sla_breaches_total"]

    database = sqlite_path(app.settings)
    size = found["jack_database_size_bytes"][0][1]
    assert database.stat().st_size <= size <= sum(p.stat().st_size for p in database.parent.glob(database.name + "*"))
    used = found["jack_data_volume_used_bytes"][0][1]
    assert 0 < used <= found["jack_data_volume_size_bytes"][0][1]
    assert found["jack_memory_limit_bytes"][0][1] > found["process_resident_memory_bytes"][0][1] > 0
    assert found["jack_cpu_limit_cores"][0][1] >= 1
    assert {labels["kind"] for labels, _ in found["jack_spend_usd"]} == {"ai", "sms"}
    assert found["jack_backup_last_success_age_seconds"][0][1] == -1  # no backup yet
    assert found["jack_backup_last_successful_drill_age_seconds"][0][1] == -1
    assert not [name for name, series in found.items() for _, value in series if math.isnan(value)]


def test_a_crossed_threshold_raises_its_alert_through_the_alerts_service(served):
    app, _ = served

    def raised() -> list[AlertRecord]:
        with Session(app.engine) as session:
            return list(session.exec(select(AlertRecord).where(AlertRecord.name == "threshold.database_size")))

    records = wait_until(raised, timeout=20, what="the database-size alert")
    assert records[0].severity == "warning" and not records[0].resolved
    assert records[0].dedup_key == "threshold.database_size"
    assert "Database size" in records[0].summary and "Archive old conversations" in records[0].summary
    loop = app.state["jack.monitoring"]["thresholds"]
    evaluations = loop.evaluations
    wait_until(lambda: loop.evaluations >= evaluations + 3, timeout=20, what="three more evaluations")
    assert len(raised()) == 1  # raised once, not at every evaluation


def test_metrics_token_is_required_when_set(served):
    _, url = served
    missing = httpx.get(url + "/metrics", timeout=10)
    assert missing.status_code == 401
    assert missing.json() == {"error": "unauthorized", "detail": "GET /metrics needs the header Authorization: Bearer <METRICS_TOKEN>"}
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    for wrong in ("Bearer wrong", f"Basic {TOKEN}", "Bearer", f"Bearer {TOKEN}x"):
        assert httpx.get(url + "/metrics", headers={"Authorization": wrong}, timeout=10).status_code == 401, wrong
    good = httpx.get(url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert good.status_code == 200 and "jack_http_request_duration_seconds_bucket" in good.text
