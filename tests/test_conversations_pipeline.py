"""End to end through the test channel plugin and the fake OpenAI server: replies, escalation, outbox."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from jack_host import hookimpl
from jack_host.builtin.conversations.models import Job
from jack_host.contract.interfaces import InboundMessage
from jack_host.testing import async_wait_until, make_app, running_app, wait_until
from jack_host.testing import channel as testing_channel
from jack_host.testing.fake_llm import FakeOpenAI

BREAKFAST = "Breakfast is served from 7:00 to 10:30 in the Garden Room on the ground floor."


@contextlib.asynccontextmanager
async def started_app(tmp_path, env: dict[str, str] | None = None, plugins=()) -> AsyncIterator[Any]:
    app = make_app(
        tmp_path,
        plugins=[("test_channel", testing_channel), *plugins],
        env={"OUTBOX_BACKOFF_SECONDS": "0.05", "HOTEL_NAME": "Hotel Miramar", **(env or {})},
    )
    app.services.knowledge.create("Breakfast", BREAKFAST, "dining", ["breakfast", "food"])
    app.services.knowledge.create("Parking", "Guests park in the underground garage for 15 EUR per night.", "arrival", ["parking", "car"])
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


def guest_message(body: str, mid: str, phone: str = "+34600111222", **extra: Any) -> InboundMessage:
    return InboundMessage(channel="test", channel_message_id=mid, body=body, sender_phone=phone, **extra)


def messages(app, conversation_id: int, sender: str | None = None) -> list[dict]:
    return [m for m in app.services.conversations.history(conversation_id) if sender is None or m["sender"] == sender]


async def sent_count(app, n: int) -> None:
    channel = app.channels["test"]
    await async_wait_until(lambda: len(channel.sent) >= n, timeout=30, what=f"{n} message(s) sent")


async def collect(queue: asyncio.Queue, until: str, timeout: float = 30) -> list[dict]:
    events = []
    async with asyncio.timeout(timeout):
        while True:
            event = await queue.get()
            events.append(event)
            if event["type"] == until:
                return events


# ---------------------------------------------------------------- AI replies


async def test_question_answered_by_model_with_knowledge_in_prompt(tmp_path):
    answer = {"reply": "Breakfast is from 7:00 to 10:30 in the Garden Room.", "language": "en", "confident": True, "needs_human": False}
    with FakeOpenAI(reply=answer) as llm:
        async with started_app(tmp_path, llm.env()) as app, app.services.events.subscribe() as queue:
            received = await app.services.inbox.receive(guest_message("What time is breakfast?", "wa-1"))
            await sent_count(app, 1)
            events = await collect(queue, "message.status")

            assert len(llm.requests) == 1  # one model call per guest message
            prompt = llm.requests[0].json()["messages"]
            assert prompt[0]["role"] == "system"
            assert BREAKFAST in prompt[0]["content"] and "Hotel Miramar" in prompt[0]["content"]
            assert prompt[-1] == {"role": "user", "content": "What time is breakfast?"}
            assert llm.requests[0].json()["response_format"] == {"type": "json_object"}

            reply = messages(app, received.conversation_id, "ai")[0]
            assert reply["body"] == answer["reply"]
            assert reply["status"] == "sent" and reply["provider_message_id"] == "test-1"
            assert reply["meta"]["path"] == "llm"
            assert reply["meta"]["provider"] == "primary" and reply["meta"]["fallback"] is False
            assert app.channels["test"].sent[0].metadata["guest_id"] == received.guest_id
            assert app.services.conversations.get_conversation(received.conversation_id)["state"] == "ai"
            assert app.services.tasks.list() == []
            typing = [e["payload"]["active"] for e in events if e["type"] == "typing"]
            assert typing == [True, False]


async def test_question_answered_from_knowledge_without_model(tmp_path):
    async with started_app(tmp_path) as app:
        received = await app.services.inbox.receive(guest_message("What time is breakfast served?", "wa-1"))
        await sent_count(app, 1)
        reply = messages(app, received.conversation_id, "ai")[0]
        assert reply["body"] == BREAKFAST
        assert reply["meta"]["path"] == "knowledge" and reply["meta"]["knowledge_title"] == "Breakfast"
        assert app.services.conversations.get_conversation(received.conversation_id)["state"] == "ai"


async def test_without_model_and_without_match_guest_is_told_and_staff_get_a_task(tmp_path):
    async with started_app(tmp_path) as app:
        received = await app.services.inbox.receive(guest_message("Can I bring my horse?", "wa-1"))
        await sent_count(app, 1)
        reply = messages(app, received.conversation_id, "ai")[0]
        assert reply["meta"]["path"] == "holding" and reply["meta"]["escalation_reason"] == "no_confident_answer"
        assert "follow up" in reply["body"]
        assert app.services.conversations.get_conversation(received.conversation_id)["state"] == "escalated"
        assert [t["reason"] for t in app.services.tasks.list()] == ["no_confident_answer"]


# ---------------------------------------------------------------- escalation


async def test_manager_request_escalates_and_ai_stays_silent_until_handed_back(tmp_path):
    with FakeOpenAI(reply={"reply": "Parking is 15 EUR per night.", "confident": True, "needs_human": False}) as llm:
        async with started_app(tmp_path, llm.env()) as app, app.services.events.subscribe() as queue:
            received = await app.services.inbox.receive(guest_message("I want to speak to a manager", "wa-1"))
            events = await collect(queue, "task.created")
            types = [e["type"] for e in events]
            assert "conversation.escalated" in types
            task = events[-1]["payload"]
            assert (task["department"], task["priority"], task["reason"]) == ("front_desk", "standard", "human_request")
            assert task["conversation_id"] == received.conversation_id
            assert task["sla_due_at"] is not None
            await sent_count(app, 1)
            assert "member of staff will follow up" in app.channels["test"].sent[0].body
            assert llm.requests == []  # keywords decide without the model

            # Escalated: the next guest message gets no AI reply.
            second = await app.services.inbox.receive(guest_message("Hello? Anyone?", "wa-2"))
            await async_wait_until(lambda: _job_state(app, second.message_id) == "done", what="silent job done")
            assert len(messages(app, received.conversation_id, "ai")) == 1

            # ... but an emergency still reaches staff as an urgent task.
            await app.services.inbox.receive(guest_message("There is smoke in the corridor!", "wa-2b"))
            await async_wait_until(lambda: len(app.services.tasks.list()) == 2, what="the emergency task")
            assert app.services.tasks.list()[0]["priority"] == "urgent"
            assert len(messages(app, received.conversation_id, "ai")) == 1

            app.services.conversations.hand_back(received.conversation_id)
            await app.services.inbox.receive(guest_message("Where can I park?", "wa-3"))
            await sent_count(app, 2)
            assert app.channels["test"].sent[1].body == "Parking is 15 EUR per night."
            assert len(llm.requests) == 1


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Quiero hablar con una persona, por favor", "es", "Gracias por su mensaje"),
        ("Je voudrais parler à quelqu'un de la réception", "fr", "Merci pour votre message"),
        ("Ich möchte mit einem Mitarbeiter sprechen", "de", "Vielen Dank"),
    ],
)
async def test_escalation_reply_in_the_guests_language(tmp_path, text, language, expected):
    async with started_app(tmp_path) as app:
        received = await app.services.inbox.receive(guest_message(text, "m-1"))
        await sent_count(app, 1)
        reply = messages(app, received.conversation_id, "ai")[0]
        assert reply["body"].startswith(expected)
        assert reply["meta"]["language"] == language
        assert app.services.conversations.get_guest(received.guest_id)["preferred_language"] == language


async def test_emergency_keyword_is_urgent_for_security(tmp_path):
    async with started_app(tmp_path) as app:
        await app.services.inbox.receive(guest_message("Es gibt Rauch im Flur, Notfall!", "m-1"))
        await sent_count(app, 1)
        [task] = app.services.tasks.list()
        assert (task["department"], task["priority"], task["reason"]) == ("security", "urgent", "emergency")
        assert "112" in app.channels["test"].sent[0].body


async def test_model_flag_escalates_with_its_department_and_urgency(tmp_path):
    answer = {"reply": "I'll ask housekeeping to bring towels right away.", "language": "en", "confident": True,
              "needs_human": True, "department": "housekeeping", "urgency": "high", "reason": "towels to room 12"}
    with FakeOpenAI(reply=answer) as llm:
        async with started_app(tmp_path, llm.env()) as app:
            received = await app.services.inbox.receive(guest_message("Could you bring two towels to room 12?", "m-1"))
            await sent_count(app, 1)
            assert app.channels["test"].sent[0].body == answer["reply"]
            [task] = app.services.tasks.list()
            assert (task["department"], task["priority"], task["reason"]) == ("housekeeping", "high", "model_needs_human")
            assert app.services.conversations.get_conversation(received.conversation_id)["state"] == "escalated"


@pytest.mark.parametrize("reply", ["Sure! Breakfast is at 7.", '{"reply": ', ""])
async def test_unusable_model_reply_escalates(tmp_path, reply):
    with FakeOpenAI(reply=reply) as llm:
        async with started_app(tmp_path, llm.env()) as app:
            received = await app.services.inbox.receive(guest_message("What time is breakfast?", "m-1"))
            await sent_count(app, 1)
            ai = messages(app, received.conversation_id, "ai")[0]
            assert ai["meta"]["path"] == "holding" and ai["meta"]["escalation_reason"] == "unusable_model_reply"
            assert app.services.conversations.get_conversation(received.conversation_id)["state"] == "escalated"


async def test_model_wrapped_in_code_fence_is_understood(tmp_path):
    with FakeOpenAI(reply='Here you go:\n```json\n{"reply": "Seven to half past ten.", "confident": "true"}\n```') as llm:
        async with started_app(tmp_path, llm.env()) as app:
            await app.services.inbox.receive(guest_message("What time is breakfast?", "m-1"))
            await sent_count(app, 1)
            assert app.channels["test"].sent[0].body == "Seven to half past ten."


async def test_failing_provider_escalates_and_guest_never_sees_an_error(tmp_path):
    with FakeOpenAI(reply="{}", status=400) as llm:
        async with started_app(tmp_path, llm.env()) as app:
            # the knowledge base answers what it can (issue 16); the rest is handed over
            answered = await app.services.inbox.receive(guest_message("What time is breakfast?", "m-1"))
            received = await app.services.inbox.receive(guest_message("Is the rooftop bar open to the public?", "m-2", phone="+34600111333"))
            await sent_count(app, 2)
            knowledge = messages(app, answered.conversation_id, "ai")[0]
            assert (knowledge["meta"]["path"], knowledge["meta"]["why"]) == ("knowledge", "all_providers_failed")
            ai = messages(app, received.conversation_id, "ai")[0]
            assert (ai["meta"]["path"], ai["meta"]["why"]) == ("holding", "all_providers_failed")
            assert "400" in ai["meta"]["provider_errors"][0]
            assert "400" not in ai["body"] and "follow up" in ai["body"]
            assert [t["guest_id"] for t in app.services.tasks.list()] == [received.guest_id]  # one task, for the unanswered one


# ---------------------------------------------------------------- staff and outbox


async def test_staff_reply_goes_out_and_takes_over(tmp_path):
    async with started_app(tmp_path) as app, app.services.events.subscribe() as queue:
        received = await app.services.inbox.receive(guest_message("I want to speak to a manager", "m-1"))
        await sent_count(app, 1)
        message_id = await app.services.conversations.send_staff_reply(received.conversation_id, "Hi, this is Ana, the duty manager.", 7)
        await sent_count(app, 2)
        sent = app.channels["test"].sent[1]
        assert (sent.message_id, sent.sender, sent.body) == (message_id, "staff", "Hi, this is Ana, the duty manager.")
        assert sent.guest_address == "+34600111222" and sent.metadata["last_guest_message_at"]
        conversation = app.services.conversations.get_conversation(received.conversation_id)
        assert (conversation["state"], conversation["assignee_id"]) == ("staff", 7)
        staff_statuses: list[str] = []
        while not staff_statuses:  # the AI reply's status comes first
            events = await collect(queue, "message.status")
            staff_statuses = [e["payload"]["status"] for e in events if e["type"] == "message.status" and e["payload"]["id"] == message_id]
        assert staff_statuses == ["sent"]  # staff see the outbox deliver their reply
        staff = messages(app, received.conversation_id, "staff")[0]
        assert staff["status"] == "sent" and staff["meta"]["staff_user_id"] == 7


async def test_transient_send_errors_are_retried_with_backoff(tmp_path):
    async with started_app(tmp_path) as app:
        channel = app.channels["test"]
        channel.fail_next(2, retry_after=0.2)
        received = await app.services.inbox.receive(guest_message("What time is breakfast?", "m-1"))
        await sent_count(app, 1)
        ai = messages(app, received.conversation_id, "ai")[0]
        assert channel.attempts == 3
        assert ai["status"] == "sent" and ai["error"] is None and ai["meta"]["attempts"] == 3


async def test_permanent_failure_is_marked_failed_and_visible(tmp_path):
    async with started_app(tmp_path) as app, app.services.events.subscribe() as queue:
        app.channels["test"].fail_next(1, permanent=True)
        received = await app.services.inbox.receive(guest_message("What time is breakfast?", "m-1"))
        events = await collect(queue, "message.status")
        failed = events[-1]["payload"]
        assert failed["status"] == "failed" and "recipient refused" in failed["error"]
        assert messages(app, received.conversation_id, "ai")[0]["status"] == "failed"
        assert app.services.conversations.health_summary()["queue"]["failed"] == 1


async def test_transient_errors_give_up_after_max_attempts(tmp_path):
    async with started_app(tmp_path, {"OUTBOX_MAX_ATTEMPTS": "3", "OUTBOX_BACKOFF_SECONDS": "0.01"}) as app:
        app.channels["test"].fail_next(5)
        received = await app.services.inbox.receive(guest_message("What time is breakfast?", "m-1"))
        await async_wait_until(
            lambda: [m["status"] for m in messages(app, received.conversation_id, "ai")] == ["failed"], what="failed"
        )
        ai = messages(app, received.conversation_id, "ai")[0]
        assert ai["error"].startswith("gave up after 3 attempts") and app.channels["test"].attempts == 3


async def test_delivery_status_moves_forward_only(tmp_path):
    async with started_app(tmp_path) as app:
        received = await app.services.inbox.receive(guest_message("What time is breakfast?", "m-1"))
        await sent_count(app, 1)
        assert await app.services.inbox.update_delivery_status("test", "test-1", "read") is True
        assert await app.services.inbox.update_delivery_status("test", "test-1", "delivered") is True
        assert await app.services.inbox.update_delivery_status("test", "test-1", "failed", "late failure") is True
        assert messages(app, received.conversation_id, "ai")[0]["status"] == "read"
        assert await app.services.inbox.update_delivery_status("test", "nope", "read") is False
        with pytest.raises(ValueError, match="unknown delivery status"):
            await app.services.inbox.update_delivery_status("test", "test-1", "seen")


async def test_delivery_report_that_beats_the_outbox_is_applied_not_lost(tmp_path):
    async with started_app(tmp_path) as app:
        channel = app.channels["test"]
        original = channel.send

        async def send_then_provider_reports_at_once(message):
            result = await original(message)
            # The provider's webhook arrives before the outbox has stored the id.
            assert await app.services.inbox.update_delivery_status("test", result.provider_message_id, "delivered") is False
            return result

        channel.send = send_then_provider_reports_at_once
        received = await app.services.inbox.receive(guest_message("What time is breakfast?", "m-early"))
        await async_wait_until(
            lambda: [m["status"] for m in messages(app, received.conversation_id, "ai")] == ["delivered"],
            what="the early delivery report to be applied",
        )


async def test_sms_segments_and_cost_from_a_channel_reach_the_sms_ledger(tmp_path):
    from jack_host.builtin.costs.models import SMSUsage

    async with started_app(tmp_path) as app:
        channel = app.channels["test"]
        original = channel.send

        async def send_as_sms(message):
            result = await original(message)
            result.metadata["sms"] = {"segments": 2, "cost_usd": 0.015}
            return result

        channel.send = send_as_sms
        received = await app.services.inbox.receive(guest_message("What time is breakfast?", "m-sms"))

        def ledger_rows():
            with Session(app.engine) as session:
                return session.exec(select(SMSUsage)).all()

        rows = await async_wait_until(ledger_rows, what="the SMS cost to be recorded")
        assert [(r.segments, r.cost_usd) for r in rows] == [(2, 0.015)]
        assert messages(app, received.conversation_id, "ai")[0]["meta"]["sms"]["segments"] == 2


# ---------------------------------------------------------------- receiving


def test_duplicate_inbound_over_http_creates_one_message_and_one_reply(tmp_path):
    app = make_app(tmp_path, plugins=[("test_channel", testing_channel)])
    app.services.knowledge.create("Breakfast", BREAKFAST, "dining", "breakfast")
    with running_app(app) as url:
        payload = {"channel_message_id": "wamid.1", "body": "What time is breakfast?", "sender_phone": "+34600111222"}
        first = httpx.post(url + "/test-channel/inbound", json=payload).json()
        wait_until(lambda: len(app.channels["test"].sent) == 1, timeout=30, what="the reply")
        second = httpx.post(url + "/test-channel/inbound", json=payload).json()
        assert first["duplicate"] is False and second == {**first, "duplicate": True}
        bad = httpx.post(url + "/test-channel/inbound", json={"channel_message_id": "x", "body": "hi"})
        assert bad.status_code == 400 and "no sender address" in bad.json()["detail"]
        wait_until(lambda: app.services.conversations.health_summary()["queue"]["pending"] == 0, what="queue drained")
    assert len(app.channels["test"].sent) == 1
    assert len(app.services.conversations.history(first["conversation_id"])) == 2


class SecondChannel:
    """Registers another test channel so one guest can write on two channels."""

    @hookimpl
    def jack_register_channels(self, register, app):
        channel = testing_channel.TestChannel()
        channel.name = "test2"
        register(channel)


async def test_guest_recognised_across_channels_by_phone_or_email(tmp_path):
    async with started_app(tmp_path, plugins=[("second", SecondChannel())]) as app:
        a = await app.services.inbox.receive(guest_message("hi", "1", phone="+34 600 111 222", sender_email="ana@example.com"))
        b = await app.services.inbox.receive(InboundMessage(channel="test2", channel_message_id="1", body="hi", sender_phone="+34600111222"))
        c = await app.services.inbox.receive(InboundMessage(channel="test2", channel_message_id="2", body="hi", sender_email="Ana@Example.com", sender_address="chat-9"))
        assert a.guest_id == b.guest_id == c.guest_id
        assert len({a.conversation_id, b.conversation_id, c.conversation_id}) == 3
        assert app.services.conversations.find_conversation_id("test2", "chat-9") == c.conversation_id
        assert app.services.conversations.find_conversation_id("test", "+34600111222") == a.conversation_id


async def test_unknown_channel_and_missing_id_are_rejected(tmp_path):
    async with started_app(tmp_path) as app:
        with pytest.raises(ValueError, match="unknown channel 'fax'"):
            await app.services.inbox.receive(InboundMessage(channel="fax", channel_message_id="1", body="hi", sender_phone="+1"))
        with pytest.raises(ValueError, match="without channel_message_id"):
            await app.services.inbox.receive(InboundMessage(channel="test", channel_message_id="", body="hi", sender_phone="+1"))


async def test_closed_conversation_reopens_as_a_new_one(tmp_path):
    async with started_app(tmp_path) as app:
        first = await app.services.inbox.receive(guest_message("hi", "1"))
        app.services.conversations.close(first.conversation_id)
        second = await app.services.inbox.receive(guest_message("hello again", "2"))
        assert second.conversation_id != first.conversation_id and second.guest_id == first.guest_id


def _job_state(app, message_id: int) -> str | None:
    with Session(app.engine) as session:
        job = session.exec(select(Job).where(Job.message_id == message_id, Job.kind == "reply")).first()
        return job.state if job else None


async def test_model_sees_the_earlier_conversation(tmp_path):
    replies = iter(["Breakfast is at 7.", "Yes, it is included in your rate."])
    with FakeOpenAI(reply=lambda body: {"reply": next(replies), "confident": True}) as llm:
        async with started_app(tmp_path, llm.env()) as app:
            await app.services.inbox.receive(guest_message("What time is breakfast?", "m-1"))
            await sent_count(app, 1)
            await app.services.inbox.receive(guest_message("Is it included?", "m-2"))
            await sent_count(app, 2)
            second = [(m["role"], m["content"]) for m in llm.requests[1].json()["messages"][1:]]
            assert second == [("user", "What time is breakfast?"), ("assistant", "Breakfast is at 7."), ("user", "Is it included?")]


async def test_graceful_stop_hands_jobs_in_flight_back(tmp_path):
    with FakeOpenAI(reply={"reply": "x", "confident": True}, delay=30) as llm:
        async with started_app(tmp_path, llm.env()) as app:
            received = await app.services.inbox.receive(guest_message("What time is breakfast?", "m-1"))
            await async_wait_until(lambda: len(llm.requests) == 1, timeout=30, what="the model call")
        # started_app stopped the app while the model was still thinking.
        assert _job_state(app, received.message_id) == "pending"
        assert messages(app, received.conversation_id, "ai") == []


async def test_hand_over_text_follows_the_language_of_the_message_not_the_past(tmp_path):
    async with started_app(tmp_path) as app:
        first = await app.services.inbox.receive(guest_message("What time is breakfast?", "m-1"))
        await sent_count(app, 1)
        assert app.services.conversations.get_conversation(first.conversation_id)["language"] == "en"
        await app.services.inbox.receive(guest_message("Quiero hablar con el gerente", "m-2"))
        await sent_count(app, 2)
        assert app.channels["test"].sent[1].body.startswith("Gracias por su mensaje")
