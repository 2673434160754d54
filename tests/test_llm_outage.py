"""A paid provider that fails (500), hangs, or refuses connections (issue 16).

The guest gets the knowledge answer when there is one and the holding reply otherwise, within
AI_TIMEOUT_SECONDS plus one fallback call, also right after ``jack serve`` starts; the circuit
breaker skips the failing provider, says so in /health and ``jack doctor``, and closes again once a
background probe gets an answer.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx

from jack_host.builtin.llm.breaker import CircuitBreakers
from jack_host.builtin.llm.service import TIMEOUT_GRACE
from jack_host.contract.interfaces import InboundMessage
from jack_host.testing import JackProcess, async_wait_until, free_port, make_app, run_jack, wait_until
from jack_host.testing import channel as testing_channel
from jack_host.testing.fake_llm import FakeOpenAI
from jack_host.web.health import health_document

BREAKFAST = "Breakfast is served from 7:00 to 10:30 in the Garden Room on the ground floor."
TIMEOUT = 1.0
#: What one message may wait: the first provider, one fallback, the grace, and the reply's own work.
BOUND = 2 * TIMEOUT + TIMEOUT_GRACE + 1.5


@contextlib.asynccontextmanager
async def started(tmp_path, env: dict[str, str]) -> AsyncIterator[Any]:
    app = make_app(tmp_path, plugins=[("test_channel", testing_channel)], env={
        "AI_TIMEOUT_SECONDS": str(TIMEOUT), "AI_BREAKER_COOLDOWN_SECONDS": "1", "OUTBOX_BACKOFF_SECONDS": "0.05", **env})
    app.services.knowledge.create("Breakfast", BREAKFAST, "dining", ["breakfast", "food"])
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


async def ask(app, body: str, mid: str, phone: str) -> tuple[dict, float]:
    """Send a guest message; return the AI's reply (as stored) and the seconds until it was sent."""
    started_at = time.monotonic()
    received = await app.services.inbox.receive(InboundMessage(channel="test", channel_message_id=mid, body=body, sender_phone=phone))

    def sent() -> dict | None:
        items = [m for m in app.services.conversations.history(received.conversation_id) if m["sender"] == "ai"]
        return items[0] if items and items[0]["status"] == "sent" else None

    reply = await async_wait_until(sent, timeout=30, what=f"the reply to {body!r}")
    return reply, time.monotonic() - started_at


async def test_a_provider_answering_500_gets_the_knowledge_answer_then_its_breaker_opens_and_a_probe_closes_it(tmp_path):
    with FakeOpenAI(reply={"reply": "From the model.", "confident": True}, status=500) as llm:
        async with started(tmp_path, {**llm.env(), "AI_BREAKER_FAILURES": "2"}) as app:
            answer, waited = await ask(app, "What time is breakfast?", "m-1", "+34600111001")
            assert answer["body"] == BREAKFAST and waited < BOUND
            assert (answer["meta"]["path"], answer["meta"]["why"]) == ("knowledge", "all_providers_failed")
            assert "server_error" in answer["meta"]["provider_errors"][0] and "500" in answer["meta"]["provider_errors"][0]
            holding, waited = await ask(app, "Can I bring my dog?", "m-2", "+34600111002")
            assert holding["meta"]["path"] == "holding" and waited < BOUND
            assert "follow up" in holding["body"] and "500" not in holding["body"]
            assert [t["conversation_id"] for t in app.services.tasks.list()] == [holding["conversation_id"]]

            # two 500s in a row (AI_BREAKER_FAILURES=2): the breaker is open, the next guest skips the provider
            breaker = health_document(app)[0]["llm_breakers"]["primary"]
            assert breaker["state"] == "open" and breaker["since"] and "500" in breaker["last_error"]
            calls = len(llm.completion_requests())
            skipped, _ = await ask(app, "When is breakfast?", "m-3", "+34600111003")
            assert skipped["body"] == BREAKFAST and "skipped: circuit" in skipped["meta"]["provider_errors"][0]

            llm.status = 200  # the provider recovers: the background probe closes the breaker
            await async_wait_until(lambda: app.services.llm.breakers.allows("primary"), timeout=15, what="the probe to close it")
            probe = llm.completion_requests()[calls].json()
            assert probe["max_tokens"] == 1 and probe["messages"] == [{"role": "user", "content": "ping"}]
            back, _ = await ask(app, "Is there a pool?", "m-4", "+34600111004")
            assert (back["body"], back["meta"]["path"]) == ("From the model.", "llm")


async def test_a_hanging_provider_costs_one_timeout_then_is_skipped(tmp_path):
    with FakeOpenAI(reply={"reply": "late", "confident": True}, delay=30) as llm:
        async with started(tmp_path, llm.env()) as app:
            answer, waited = await ask(app, "What time is breakfast?", "m-1", "+34600111011")
            assert answer["body"] == BREAKFAST and TIMEOUT <= waited < BOUND, waited
            assert "timeout" in answer["meta"]["provider_errors"][0]
            holding, waited = await ask(app, "Can I bring my dog?", "m-2", "+34600111012")
            assert holding["meta"]["path"] == "holding" and waited < TIMEOUT  # the open breaker skips it at once
            assert health_document(app)[0]["llm_breakers"]["primary"]["state"] in ("open", "half_open")


async def test_a_refused_connection_gets_the_knowledge_answer_and_doctor_names_the_open_breaker(tmp_path):
    nowhere = f"http://127.0.0.1:{free_port()}/v1"
    env = {"AI_MODEL": "openai/fake-model", "OPENAI_API_KEY": "sk-test", "OPENAI_API_BASE": nowhere}
    async with started(tmp_path, env) as app:
        answer, waited = await ask(app, "What time is breakfast?", "m-1", "+34600111021")
        assert answer["body"] == BREAKFAST and waited < BOUND
        assert "unreachable" in answer["meta"]["provider_errors"][0]
        holding, _ = await ask(app, "Can I bring my dog?", "m-2", "+34600111022")
        assert holding["meta"]["path"] == "holding"
        doctor = run_jack(tmp_path, "doctor", env=env)
    assert "AI provider primary: circuit breaker closed" in doctor.stdout, doctor.stdout
    line = next(line for line in doctor.stdout.splitlines() if "AI provider primary" in line)
    assert line.startswith("warn") and "circuit open" in doctor.stdout and "unreachable" in doctor.stdout


def test_right_after_jack_serve_starts_a_hanging_provider_keeps_the_first_guest_within_the_bound(tmp_path):
    with FakeOpenAI(reply={"reply": "late", "confident": True}, delay=30) as llm:
        env = {**llm.env(), "AI_TIMEOUT_SECONDS": str(TIMEOUT), "JACK_EXTRA_PLUGINS": "jack_host.testing.channel",
               "JWT_SECRET": "s" * 40}
        with JackProcess(tmp_path, env=env) as jack:  # migrates, then returns once /health/ready says ready
            started_at = time.monotonic()
            response = httpx.post(jack.url + "/test-channel/inbound",
                                  json={"channel_message_id": "m-1", "body": "Can I bring my dog?", "sender_phone": "+34600111031"})
            assert response.status_code == 200, response.text
            sent = wait_until(lambda: httpx.get(jack.url + "/test-channel/sent").json()["sent"], timeout=30, what="the first reply")
            waited = time.monotonic() - started_at
    assert "follow up" in sent[0]["body"] and waited < BOUND, waited


def test_the_breaker_opens_at_once_on_timeouts_counts_other_failures_and_backs_off_after_failed_probes():
    now = [100.0]
    breakers = CircuitBreakers(failures_to_open=3, cooldown=10, clock=lambda: now[0])
    assert breakers.failure("a", "rejected", "bad request") is False and breakers.allows("a")  # says nothing about health
    assert [breakers.failure("a", "server_error", "500") for _ in range(3)] == [False, False, True]
    assert not breakers.allows("a") and breakers.state_of("a")["state"] == "open"
    assert breakers.failure("b", "timeout", "slow") is True  # a timeout costs a guest the whole wait: open at once
    assert breakers.seconds_to_probe("b") == 10 and not breakers.due_for_probe("b")
    now[0] += 10
    assert breakers.due_for_probe("b") and breakers.state_of("b")["state"] == "half_open"
    assert not breakers.due_for_probe("b") and not breakers.allows("b")  # one probe at a time; guests still skip it
    assert breakers.failure("b", "unreachable", "refused", probe=True) is True
    assert breakers.seconds_to_probe("b") == 20  # doubled after a failed probe
    now[0] += 20
    assert breakers.due_for_probe("b") and breakers.success("b") is True and breakers.allows("b")
    assert breakers.state_of("b")["consecutive_failures"] == 0 and breakers.success("b") is False
