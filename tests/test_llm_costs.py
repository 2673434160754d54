"""LLM providers through LiteLLM, provider fallback, the cost ledger, budgets and cost reports.

Every provider here is a loopback fake speaking the real wire format
(jack_host.testing.fake_llm); the database is a real SQLite file.  LiteLLM's
first import costs seconds of CPU, so these tests share one process.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jack_llm_ollama.plugin
import pytest
from falcon import testing as falcon_testing
from sqlmodel import Session, select

from jack_host.builtin.alerts.models import AlertRecord
from jack_host.builtin.conversations.models import Conversation, Guest
from jack_host.builtin.costs.models import AIUsage, AIUsageDaily, BudgetThreshold, SMSUsage
from jack_host.builtin.llm.service import AllProvidersFailed, BudgetExhausted
from jack_host.config.settings import SettingsError
from jack_host.contract.interfaces import LLMRequest
from jack_host.kit.litellm import litellm
from jack_host.testing import free_port, make_app, run_jack
from jack_host.testing.fake_llm import FakeAnthropic, FakeOllama, FakeOpenAI
from tests.staff_helpers import PASSWORD, make_users

OLLAMA = ("llm_ollama", jack_llm_ollama.plugin)
MESSAGES = [{"role": "system", "content": "Answer in JSON."}, {"role": "user", "content": "When is breakfast?"}]


@pytest.fixture
def openai():
    with FakeOpenAI(input_tokens=100, output_tokens=20) as server:
        yield server


@pytest.fixture
def anthropic():
    with FakeAnthropic(input_tokens=200, output_tokens=50) as server:
        yield server


@pytest.fixture
def ollama():
    with FakeOllama(input_tokens=300, output_tokens=60) as server:
        yield server


def openai_env(server: FakeOpenAI, model: str = "openai/gpt-4o") -> dict[str, str]:
    return {"AI_MODEL": model, "OPENAI_API_KEY": server.api_key, "OPENAI_API_BASE": server.base_url}


def anthropic_env(server: FakeAnthropic) -> dict[str, str]:
    return {"ANTHROPIC_API_KEY": server.api_key, "ANTHROPIC_API_BASE": server.base_url}


def usage_rows(app) -> list[AIUsage]:
    with Session(app.engine) as session:
        return list(session.exec(select(AIUsage).order_by(AIUsage.id)).all())


def alerts(app) -> list[AlertRecord]:
    with Session(app.engine) as session:
        return list(session.exec(select(AlertRecord).order_by(AlertRecord.id)).all())


def write_costs(tmp_path: Path, text: str) -> None:
    (tmp_path / "costs.yaml").write_text(text)


# ------------------------------------------------------------------ providers


async def test_anthropic_through_litellm_honours_api_base_and_prices_from_bundled_map(tmp_path, anthropic):
    app = make_app(tmp_path, env={"AI_MODEL": "anthropic/claude-sonnet-4-5", **anthropic_env(anthropic)})
    result = await app.services.llm.complete(LLMRequest(messages=MESSAGES), conversation_id=7, guest_id=3)

    assert (result.provider, result.fallback) == ("primary", False)
    assert (result.response.input_tokens, result.response.output_tokens) == (200, 50)
    assert json.loads(result.response.text)["reply"].startswith("Breakfast")
    [sent] = anthropic.completion_requests()
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == anthropic.api_key
    assert sent.headers["anthropic-version"]
    assert sent.json()["system"]  # the system prompt moved to Anthropic's top-level field

    [row] = usage_rows(app)
    prices = litellm().model_cost["claude-sonnet-4-5"]
    expected = 200 * prices["input_cost_per_token"] + 50 * prices["output_cost_per_token"]
    assert row.estimated_cost == pytest.approx(expected)
    assert (row.provider, row.model, row.price_source, row.outcome) == ("primary", "anthropic/claude-sonnet-4-5", "litellm", "ok")
    assert (row.conversation_id, row.guest_id, row.fallback, row.input_tokens, row.output_tokens) == (7, 3, False, 200, 50)
    assert row.latency_ms > 0


async def test_openai_compatible_base_url_gets_bearer_key_and_json_mode(tmp_path, openai):
    app = make_app(tmp_path, env=openai_env(openai))
    result = await app.services.llm.complete(LLMRequest(messages=MESSAGES))

    [sent] = openai.completion_requests()
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {openai.api_key}"
    assert sent.json()["response_format"] == {"type": "json_object"}
    assert (result.response.input_tokens, result.response.output_tokens) == (100, 20)
    with Session(app.engine) as session:
        daily = session.exec(select(AIUsageDaily)).one()
    assert (daily.requests, daily.failures, daily.input_tokens, daily.output_tokens) == (1, 0, 100, 20)
    assert daily.estimated_cost == pytest.approx(usage_rows(app)[0].estimated_cost)


@pytest.mark.parametrize("failure", ["500", "429", "timeout", "refused"])
async def test_primary_failure_falls_back_to_secondary_and_both_calls_are_recorded(tmp_path, openai, anthropic, failure):
    env = {**openai_env(openai), **anthropic_env(anthropic), "AI_FALLBACK_MODEL": "anthropic/claude-sonnet-4-5"}
    if failure == "500":
        openai.fail_completions(500)
    elif failure == "429":
        openai.fail_completions(429, headers={"retry-after": "1"})
    elif failure == "timeout":
        env["AI_TIMEOUT_SECONDS"] = "0.5"
        openai.fail_completions(200, delay=10)
    else:
        env["OPENAI_API_BASE"] = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    app = make_app(tmp_path, env=env)

    result = await app.services.llm.complete(LLMRequest(messages=MESSAGES), conversation_id=1)

    assert (result.provider, result.fallback) == ("secondary", True)
    expected_outcome = {"500": "server_error", "429": "rate_limited", "timeout": "timeout", "refused": "unreachable"}[failure]
    assert result.fallback_reason == expected_outcome
    assert len(anthropic.completion_requests()) == 1
    failed, answered = usage_rows(app)
    assert (failed.provider, failed.outcome, failed.fallback, failed.estimated_cost) == ("primary", expected_outcome, False, 0.0)
    assert failed.error
    assert (answered.provider, answered.outcome, answered.fallback) == ("secondary", "ok", True)
    if failure == "timeout":
        assert failed.latency_ms < 5000  # gave up at the timeout, not when the server answered


async def test_every_provider_failing_raises_all_providers_failed_with_each_error_recorded(tmp_path, openai, ollama):
    openai.fail_completions(503)
    ollama.fail_completions(500)
    app = make_app(tmp_path, plugins=[OLLAMA], env={**openai_env(openai), "OLLAMA_BASE_URL": ollama.base_url})
    with pytest.raises(AllProvidersFailed) as failed:
        await app.services.llm.complete(LLMRequest(messages=MESSAGES))
    assert len(failed.value.errors) == 2
    assert [(r.provider, r.outcome) for r in usage_rows(app)] == [("primary", "server_error"), ("ollama", "server_error")]


async def test_unknown_model_price_is_null_and_warned_never_zero(tmp_path, openai):
    app = make_app(tmp_path, env=openai_env(openai, model="openai/hotel-house-model-1"))
    await app.services.llm.complete(LLMRequest(messages=MESSAGES))
    await app.services.llm.complete(LLMRequest(messages=MESSAGES))

    rows = usage_rows(app)
    assert [(r.estimated_cost, r.price_source) for r in rows] == [(None, "unknown"), (None, "unknown")]
    warned = [a for a in alerts(app) if a.name == "costs.ai.unknown_price"]
    assert len(warned) == 1 and "hotel-house-model-1" in warned[0].summary and "costs.ai.prices" in warned[0].summary
    with Session(app.engine) as session:
        assert session.exec(select(AIUsageDaily)).one().unpriced_requests == 2
    from jack_host.builtin.costs.reports import build_report

    assert build_report(app, 1)["unpriced_models"] == ["openai/hotel-house-model-1"]


async def test_costs_yaml_price_overrides_and_adds_models(tmp_path, openai):
    write_costs(tmp_path, "costs:\n  ai:\n    prices:\n      openai/hotel-house-model-1: {input_per_1k: 0.5, output_per_1k: 2}\n")
    app = make_app(tmp_path, env=openai_env(openai, model="openai/hotel-house-model-1"))
    await app.services.llm.complete(LLMRequest(messages=MESSAGES))
    [row] = usage_rows(app)
    assert row.price_source == "costs.yaml"
    assert row.estimated_cost == pytest.approx(100 / 1000 * 0.5 + 20 / 1000 * 2)


# ------------------------------------------------------------------ budgets

BUDGET_YAML = """
costs:
  ai:
    daily_budget: 1.00
    monthly_budget: 1000
    alerts:
      - threshold: 0.8
        action: notify
      - threshold: 1.0
        action: notify_urgent
      - threshold: 1.2
        action: fallback_to_local
    prices:
      openai/gpt-4o: {input_per_1k: 1.0, output_per_1k: 0}
"""


class Clock:
    """An injectable "now" (the hotel is in New York: 02:00 UTC is still the evening before)."""

    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def budget_app(tmp_path, openai, ollama, clock, with_ollama=True):
    env = {**openai_env(openai), "HOTEL_TIMEZONE": "America/New_York", "OLLAMA_BASE_URL": ollama.base_url}
    app = make_app(tmp_path, plugins=[OLLAMA] if with_ollama else [], env=env)
    app.services.costs.clock = clock
    return app


def alert_names(app) -> list[str]:
    return [a.name for a in alerts(app) if a.name.startswith("budget.")]


async def test_a_day_of_traffic_crosses_80_100_120_percent_each_action_once_then_local_until_next_day(tmp_path, openai, ollama):
    write_costs(tmp_path, BUDGET_YAML)
    # Each call: 100 input tokens at $1/1k = $0.10 against a $1.00 daily budget.
    clock = Clock(dt.datetime(2026, 3, 6, 1, 0, tzinfo=dt.UTC))  # 2026-03-05 20:00 in New York
    app = budget_app(tmp_path, openai, ollama, clock)
    providers = []
    fired_after = {}
    for call in range(1, 16):
        clock.now += dt.timedelta(minutes=4)
        result = await app.services.llm.complete(LLMRequest(messages=MESSAGES), conversation_id=call, guest_id=1)
        providers.append(result.provider)
        fired_after[call] = alert_names(app)

    assert fired_after[7] == []
    assert fired_after[8] == ["budget.ai.daily.notify"]
    assert fired_after[10] == ["budget.ai.daily.notify", "budget.ai.daily.notify_urgent"]
    assert fired_after[12] == ["budget.ai.daily.notify", "budget.ai.daily.notify_urgent", "budget.ai.daily.fallback_to_local"]
    assert fired_after[15] == fired_after[12]  # each action exactly once
    severities = {a.name: a.severity for a in alerts(app)}
    assert severities["budget.ai.daily.notify"] == "warning"
    assert severities["budget.ai.daily.notify_urgent"] == "critical"
    assert providers == ["primary"] * 12 + ["ollama"] * 3
    assert len(openai.completion_requests()) == 12
    assert len(ollama.completion_requests()) == 3
    last = usage_rows(app)[-1]
    assert (last.provider, last.is_local, last.estimated_cost, last.fallback) == ("ollama", True, 0.0, True)
    assert {r.day for r in usage_rows(app)} == {"2026-03-05"}  # the hotel's day, not UTC's 2026-03-06

    # A restart: a new app on the same database keeps the spend, the fired thresholds and the local-only mode.
    await_restart = budget_app(tmp_path, openai, ollama, clock)
    assert await_restart.services.costs.status()["ai"]["local_only"] is True
    assert await_restart.services.costs.status()["ai"]["spend_today_usd"] == pytest.approx(1.2)
    result = await await_restart.services.llm.complete(LLMRequest(messages=MESSAGES))
    assert result.provider == "ollama"
    assert len(openai.completion_requests()) == 12
    assert alert_names(await_restart) == fired_after[12]

    # The next hotel day starts at midnight New York time: paid calls again, budget reset.
    clock.now = dt.datetime(2026, 3, 6, 5, 1, tzinfo=dt.UTC)  # 00:01 on 2026-03-06 in New York
    result = await await_restart.services.llm.complete(LLMRequest(messages=MESSAGES))
    assert result.provider == "primary"
    status = await_restart.services.costs.status()
    assert status["day"] == "2026-03-06" and status["ai"]["local_only"] is False
    assert status["ai"]["spend_today_usd"] == pytest.approx(0.1)
    assert status["ai"]["spend_month_usd"] == pytest.approx(1.3)


async def test_resume_lifts_fallback_to_local_and_the_threshold_does_not_fire_again(tmp_path, openai, ollama):
    write_costs(tmp_path, BUDGET_YAML)
    clock = Clock(dt.datetime(2026, 3, 5, 15, 0, tzinfo=dt.UTC))
    app = budget_app(tmp_path, openai, ollama, clock)
    for _ in range(12):
        await app.services.llm.complete(LLMRequest(messages=MESSAGES))
    assert (await app.services.llm.complete(LLMRequest(messages=MESSAGES))).provider == "ollama"

    lifted = app.services.costs.resume("night manager")
    assert [(r.budget, r.action, r.lifted_by) for r in lifted] == [("ai.daily", "fallback_to_local", "night manager")]
    result = await app.services.llm.complete(LLMRequest(messages=MESSAGES))
    assert result.provider == "primary"
    assert alert_names(app).count("budget.ai.daily.fallback_to_local") == 1


async def test_fallback_to_local_without_a_local_provider_stops_paid_calls_and_says_so(tmp_path, openai, ollama):
    write_costs(tmp_path, BUDGET_YAML)
    clock = Clock(dt.datetime(2026, 3, 5, 15, 0, tzinfo=dt.UTC))
    app = budget_app(tmp_path, openai, ollama, clock, with_ollama=False)
    for _ in range(12):
        await app.services.llm.complete(LLMRequest(messages=MESSAGES))
    [paused] = [a for a in alerts(app) if a.name == "budget.ai.daily.fallback_to_local"]
    assert paused.severity == "critical"
    assert "No local model is configured" in paused.summary and "escalated to staff" in paused.summary
    with pytest.raises(BudgetExhausted):
        await app.services.llm.complete(LLMRequest(messages=MESSAGES))
    assert issubclass(BudgetExhausted, AllProvidersFailed)  # the pipeline escalates on it
    assert len(openai.completion_requests()) == 12


async def test_sms_spend_fires_its_alert_once_per_month(tmp_path):
    write_costs(tmp_path, "costs:\n  sms:\n    monthly_budget: 0.10\n    per_message_cost: 0.0075\n    alerts:\n      - {threshold: 0.9, action: notify}\n")
    app = make_app(tmp_path)
    app.services.costs.clock = Clock(dt.datetime(2026, 3, 5, 12, 0, tzinfo=dt.UTC))
    for message_id in range(1, 13):  # 12 x $0.0075 = $0.09 = 90%
        await app.services.costs.record_sms(None, 1, message_id=message_id)
        assert [a.name for a in alerts(app)] == ([] if message_id < 12 else ["budget.sms.monthly.notify"])
    await app.services.costs.record_sms(0.015, 2, message_id=13)
    assert [a.name for a in alerts(app)] == ["budget.sms.monthly.notify"]
    with Session(app.engine) as session:
        assert session.exec(select(SMSUsage).where(SMSUsage.message_id == 13)).one().segments == 2
    app.services.costs.clock = Clock(dt.datetime(2026, 4, 5, 12, 0, tzinfo=dt.UTC))
    for message_id in range(14, 26):
        await app.services.costs.record_sms(None, 1, message_id=message_id)
    assert [a.name for a in alerts(app)] == ["budget.sms.monthly.notify"] * 2
    with Session(app.engine) as session:
        assert [r.period for r in session.exec(select(BudgetThreshold)).all()] == ["2026-03", "2026-04"]


def test_malformed_costs_yaml_is_refused_with_one_line_per_problem(tmp_path):
    write_costs(
        tmp_path,
        "costs:\n  ai:\n    daily_budget: lots\n    alerts:\n      - {threshold: 0.8, action: shout}\n      - {action: notify}\n"
        "    prices:\n      my-model: {input_per_1k: 0.1}\n  sms:\n    alerts:\n      - {threshold: 0.9, action: fallback_to_local}\n",
    )
    with pytest.raises(SettingsError) as error:
        make_app(tmp_path)
    lines = error.value.errors
    assert "costs.ai.daily_budget='lots': expected a number" in lines
    assert "costs.ai.alerts[0].action='shout': expected one of notify, notify_urgent, fallback_to_local" in lines
    assert any(line.startswith("costs.ai.alerts[1].threshold: missing") for line in lines)
    assert any(line.startswith("costs.ai.prices.my-model.output_per_1k: missing") for line in lines)
    assert "costs.sms.alerts[0].action='fallback_to_local': expected one of notify, notify_urgent" in lines

    done = run_jack(tmp_path, "config", "check")
    assert done.returncode == 2
    assert "error: costs.ai.daily_budget='lots': expected a number" in done.stderr
    assert "Traceback" not in done.stderr


# ------------------------------------------------------------------ reports


async def test_report_metrics_are_flagged_against_the_documents_thresholds(tmp_path, openai, ollama):
    write_costs(tmp_path, "costs:\n  ai:\n    prices:\n      openai/gpt-4o: {input_per_1k: 2.0, output_per_1k: 4.0}\n")
    app = make_app(tmp_path, plugins=[OLLAMA], env={**openai_env(openai), "OLLAMA_BASE_URL": ollama.base_url})
    app.services.costs.clock = Clock(dt.datetime(2026, 3, 5, 12, 0, tzinfo=dt.UTC))
    # The document's query joins the pipeline's conversations; one is older than 30 days and drops out.
    with Session(app.engine) as session:
        guest = Guest(name="Ana", phone="+351910000000")
        session.add(guest)
        session.flush()
        for hour in (10, 11):
            session.add(Conversation(guest_id=guest.id, channel="sms", guest_address=guest.phone, created_at=dt.datetime(2026, 3, 5, hour, tzinfo=dt.UTC)))
        session.add(Conversation(guest_id=guest.id, channel="sms", guest_address="old", created_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC)))
        session.commit()
    openai.output_tokens = 400
    for conversation in (1, 1, 2):
        await app.services.llm.complete(LLMRequest(messages=MESSAGES), conversation_id=conversation, guest_id=conversation)
    openai.fail_completions(500)
    await app.services.llm.complete(LLMRequest(messages=MESSAGES), conversation_id=2, guest_id=2)  # answered by ollama
    await app.services.llm.complete(LLMRequest(messages=MESSAGES), conversation_id=3, guest_id=3)  # the January conversation

    make_users(app)
    async with falcon_testing.ASGIConductor(app) as client:

        async def token(role):
            login = await client.simulate_post("/api/v1/auth/login", json={"email": f"{role}@hotel.test", "password": PASSWORD})
            return {"Authorization": f"Bearer {login.json['access_token']}"}

        manager = await token("manager")
        anonymous = await client.simulate_get("/api/v1/costs")
        staff_only = await client.simulate_get("/api/v1/costs", headers=await token("staff"))
        response = await client.simulate_get("/api/v1/costs", params={"days": "7"}, headers=manager)
        bad = await client.simulate_get("/api/v1/costs", params={"days": "many"}, headers=manager)
    assert anonymous.status_code == 401 and staff_only.status_code == 403
    assert response.status_code == 200
    report = response.json
    metrics = {m["metric"]: m for m in report["metrics"]}
    per_call = 100 / 1000 * 2.0 + 400 / 1000 * 4.0  # $1.80
    assert metrics["daily_ai_spend"]["value"] == pytest.approx(4 * per_call)
    assert metrics["daily_ai_spend"]["alert"] is False
    assert metrics["cost_per_conversation"]["value"] == pytest.approx(4 * per_call / 3)
    assert metrics["cost_per_conversation"]["alert"] is True
    assert metrics["cost_per_guest"]["alert"] is True
    assert metrics["token_efficiency"]["value"] == pytest.approx((4 * 400 + 60) / (4 * 100 + 300))
    assert metrics["fallback_usage"]["value"] == pytest.approx(20.0) and metrics["fallback_usage"]["alert"] is True
    rows = report["cost_per_conversation"]["rows"]
    assert [(r["date"], r["conversations"]) for r in rows] == [("2026-03-05", 2)]
    assert rows[0]["total_cost"] == pytest.approx(3 * per_call)
    assert report["roi"]["requests_handled_by_ai"] == 5
    assert report["roi"]["staff_hours_saved"] == pytest.approx(5 * 5 / 60, abs=0.01)

    assert bad.status_code == 400 and bad.json["error"] == "invalid_days"

    done = run_jack(tmp_path, "costs", "report", "--days", "3650")
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_jack_costs_report_and_resume_commands(tmp_path):
    write_costs(tmp_path, BUDGET_YAML)
    app = make_app(tmp_path)
    today = app.services.costs.periods().day
    with Session(app.engine) as session:
        session.add(BudgetThreshold(budget="ai.daily", period=today, threshold=1.2, action="fallback_to_local", spend=1.2, limit=1.0))
        session.commit()

    report = run_jack(tmp_path, "costs", "report", "--days", "7")
    assert report.returncode == 0, report.stderr
    assert "daily_ai_spend" in report.stdout and "PAID AI PAUSED" in report.stdout
    as_json = run_jack(tmp_path, "costs", "report", "--json")
    assert json.loads(as_json.stdout)["budgets"]["ai"]["local_only"] is True

    resumed = run_jack(tmp_path, "costs", "resume", "--by", "gm")
    assert resumed.returncode == 0 and "Lifted fallback_to_local of ai.daily" in resumed.stdout
    assert app.services.costs.local_only() is None
    again = run_jack(tmp_path, "costs", "resume")
    assert "nothing to do" in again.stdout
