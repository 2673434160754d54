"""Answer or act: requests become the right department's task (with the room), emergencies are urgent,
and a configured model names the department under the same rules."""

from __future__ import annotations

import asyncio
import contextlib
import re

import pytest

from jack_host.builtin.conversations.ai_reply import Responder, parse_model_answer
from jack_host.builtin.conversations.texts import default_texts
from jack_host.config.settings import SettingsError
from jack_host.contract.interfaces import InboundMessage
from jack_host.contract.services import HotelProfile
from jack_host.kit.language import detector_loaded
from jack_host.testing import async_wait_until, make_app, run_jack
from jack_host.testing import channel as testing_channel
from jack_host.testing.fake_llm import FakeOpenAI

REQUESTS = [
    ("Send towels to room 412", "housekeeping", "412", "en"),
    ("Can I get extra towels please?", "housekeeping", None, "en"),
    ("The air conditioning in room 507 is not working", "maintenance", "507", "en"),
    ("I am locked out of my room", "front_desk", None, "en"),
    ("Wake me up at 6am", "front_desk", None, "en"),
    ("Please book a taxi to the airport for 5am", "concierge", None, "en"),
    ("Can I order a club sandwich to room 602?", "food_beverage", "602", "en"),
    ("The people next door are very loud", "security", None, "en"),
    ("¿Pueden traer dos almohadas a la habitación 214?", "housekeeping", "214", "es"),
    ("No hay agua caliente en la habitación 310", "maintenance", "310", "es"),
    ("J'ai besoin d'un oreiller de plus, chambre 215", "housekeeping", "215", "fr"),
    ("Die Heizung in Zimmer 118 funktioniert nicht", "maintenance", "118", "de"),
    ("Potete portare degli asciugamani in camera 220?", "housekeeping", "220", "it"),
    ("请送两个枕头到412房间", "housekeeping", "412", "zh"),
    ("テレビが壊れています", "maintenance", None, "ja"),
    ("수건 좀 더 갖다 주세요", "housekeeping", None, "ko"),
    ("Не работает кондиционер в номере 305", "maintenance", "305", "ru"),
    ("Нужна туалетная бумага в номер 306", "housekeeping", "306", "ru"),  # a form with * inside: "туалетн* бумаг*"
    ("أحتاج مناشف إضافية من فضلك", "housekeeping", None, "ar"),
    ("Kunt u extra handdoeken brengen naar kamer 101?", "housekeeping", "101", "nl"),
    ("Preciso de mais toalhas no quarto 330, por favor", "housekeeping", "330", "pt"),
]
EMERGENCIES = ["Call 911", "Help!", "There is a fire on the third floor", "Medical emergency in room 204", "¡Socorro! Hay humo",
               "Au secours, appelez une ambulance", "救命！着火了", "助けて！火事です", "도와주세요, 화재가 났어요", "Помогите! Пожар",
               "النجدة! حريق", "Hilfe! Feuer!", "Aiuto! C'è un incendio", "Socorro! Chamem uma ambulância", "Help! Er is brand"]
INQUIRIES = ["What time is checkout?", "Is there a hair dryer in the room?", "Can I bring my dog?", "Do you have pool towels?",
             "¿A qué hora es el desayuno?", "早餐几点？", "Where are the fire exits?"]


@pytest.fixture(scope="module")
def responder(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("intents"))
    yield Responder(app, app.services.get(HotelProfile))
    app.engine.dispose()


def plan(responder, body: str):
    return asyncio.run(responder.plan(
        body=body, conversation={"id": 1, "channel": "test", "language": None},
        guest={"id": 1, "preferred_language": None}, history=[], message_meta={},
    ))


@pytest.mark.parametrize(("body", "department", "room", "language"), REQUESTS)
def test_requests_become_the_departments_task_with_the_room(responder, body, department, room, language):
    result = plan(responder, body)
    assert result.meta["path"] == "task", result.meta
    assert (result.escalation.department, result.escalation.reason, result.escalation.hand_over) == (department, "guest_request", False)
    assert result.meta.get("room") == room
    assert (result.escalation.summary.startswith(f"Room {room}: ")) == (room is not None)
    assert result.language == language
    assert result.body == default_texts().on_its_way(language, department, room)


@pytest.mark.parametrize("body", EMERGENCIES)
def test_emergencies_are_urgent_in_every_language(responder, body):
    result = plan(responder, body)
    assert result.escalation is not None and result.escalation.reason == "emergency"
    assert (result.escalation.department, result.escalation.priority, result.escalation.hand_over) == ("security", "urgent", True)
    assert result.body == default_texts().handover(result.language, emergency=True)


@pytest.mark.parametrize("body", INQUIRIES)
def test_questions_are_not_tasks(responder, body):
    result = plan(responder, body)
    assert result.meta["intent"] == "inquiry" and result.meta["path"] == "holding"  # no articles in this app


def test_model_answer_names_intent_department_and_room():
    answer = parse_model_answer('{"reply": "On its way!", "intent": "request", "department": "Housekeeping", "room": 412}')
    assert (answer.intent, answer.department, answer.room) == ("request", "housekeeping", "412")
    odd = parse_model_answer('{"reply": "x", "intent": "order pizza", "department": "kitchen", "room": "412; DROP"}')
    assert (odd.intent, odd.department, odd.room) == ("other", "front_desk", None)


# ---------------------------------------------------------------- through the pipeline


@contextlib.asynccontextmanager
async def started_app(tmp_path, env=None):
    app = make_app(tmp_path, plugins=[("test_channel", testing_channel)], env={"OUTBOX_BACKOFF_SECONDS": "0.05", **(env or {})})
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


async def reply_to(app, body: str, mid: str) -> tuple[dict, dict]:
    received = await app.services.inbox.receive(InboundMessage(channel="test", channel_message_id=mid, body=body, sender_phone="+34600111222"))
    await async_wait_until(
        lambda: any(m["sender"] == "ai" for m in app.services.conversations.history(received.conversation_id)[-1:]), timeout=30, what="the reply"
    )
    history = app.services.conversations.history(received.conversation_id)
    return app.services.conversations.get_conversation(received.conversation_id), history[-1]


async def test_a_request_is_a_task_while_the_ai_keeps_the_conversation(tmp_path):
    async with started_app(tmp_path) as app:
        # The language detector is built in the background warm-up once the app has started.
        assert "warm-up-language-detector" in [task.get_name() for task in app.warm_up.tasks]
        await asyncio.wait_for(app.warm_up.done.wait(), timeout=30)
        assert detector_loaded()
        conversation, reply = await reply_to(app, "Necesito más toallas en la habitación 412, por favor", "m1")
        [task] = app.services.tasks.list()
        assert (task["department"], task["priority"], task["reason"]) == ("housekeeping", "standard", "guest_request")
        assert "Room 412" in task["title"] and task["conversation_id"] == conversation["id"]
        assert reply["body"] == default_texts().on_its_way("es", "housekeeping", "412")
        assert conversation["state"] == "ai" and conversation["language"] == "es"  # shown to staff
        # The AI still answers the next message: a request does not hand the conversation over.
        _, second = await reply_to(app, "¡Gracias!", "m2")
        assert second["meta"]["path"] == "small_talk" and len(app.services.tasks.list()) == 1


async def test_model_names_the_department_and_an_emergency_it_calls_routine_is_still_urgent(tmp_path):
    def answer(body):
        guest = body["messages"][-1]["content"]
        if "shower" in guest:
            return {"reply": "Sorry about that! Maintenance is on its way to room 507.", "language": "en", "intent": "request",
                    "confident": True, "department": "maintenance", "urgency": "high", "room": "507"}
        if "towel" in guest:  # the model takes a request for a question: the rules still make the task
            return {"reply": "Towels are in the wardrobe.", "intent": "inquiry", "confident": True}
        return {"reply": "Nothing to worry about.", "intent": "inquiry", "confident": True, "urgency": "low", "department": "concierge"}

    with FakeOpenAI(reply=answer) as llm:
        async with started_app(tmp_path, llm.env()) as app:
            _, reply = await reply_to(app, "The shower in my room is broken", "m1")
            assert reply["meta"]["path"] == "llm" and reply["meta"]["intent_source"] == "model"
            [task] = app.services.tasks.list()
            assert (task["department"], task["priority"]) == ("maintenance", "high") and "Room 507" in task["title"]

            _, reply = await reply_to(app, "Could you bring two more towels?", "m2")
            assert reply["meta"]["intent_source"] == "rules" and reply["body"] == default_texts().on_its_way("en", "housekeeping", None)
            assert sorted(t["department"] for t in app.services.tasks.list()) == ["housekeeping", "maintenance"]

            calls = len(llm.completion_requests())
            conversation, reply = await reply_to(app, "There is smoke coming out of the bathroom vent", "m3")
            urgent = [t for t in app.services.tasks.list() if t["reason"] == "emergency"]
            assert [(t["department"], t["priority"]) for t in urgent] == [("security", "urgent")]
            assert len(llm.completion_requests()) == calls  # keywords decide before the model can call it routine
            assert conversation["state"] == "escalated"


def test_texts_file_overrides_a_text_and_a_bad_one_is_refused(tmp_path):
    texts = tmp_path / "texts.yaml"
    texts.write_text("handover:\n  es: 'Gracias, le responde Marta en recepción.'\n", encoding="utf-8")
    app = make_app(tmp_path, env={"TEXTS_FILE": str(texts)})
    try:
        responder = Responder(app, app.services.get(HotelProfile))
        assert plan(responder, UNANSWERABLE_ES).body == "Gracias, le responde Marta en recepción."
        assert plan(responder, "I have a question about my booking for next month.").body == default_texts().handover("en")
    finally:
        app.engine.dispose()
    texts.write_text("handover:\n  xx: 'hi'\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="unknown language 'xx'"):
        make_app(tmp_path / "bad", env={"TEXTS_FILE": str(texts)})


UNANSWERABLE_ES = "Tengo una pregunta sobre mi reserva del mes que viene."


def test_keywords_file_overrides_a_reason_and_emergencies_still_count(tmp_path):
    keywords = tmp_path / "keywords.yaml"
    keywords.write_text("human_request:\n  en: ['\\bduty manager\\b']\ncomplaint:\n  nl: ['onacceptabel']\n", encoding="utf-8")
    app = make_app(tmp_path, env={"KEYWORDS_FILE": str(keywords)})
    try:
        responder = Responder(app, app.services.get(HotelProfile))
        reasons = {body: plan(responder, body).meta.get("escalation_reason") for body in (
            "Could the duty manager call me?", "Can I talk to a human?", "Dit is onacceptabel", "Help! Fire!")}
    finally:
        app.engine.dispose()
    assert reasons == {
        "Could the duty manager call me?": "human_request",  # the hotel's own keyword
        "Can I talk to a human?": "no_confident_answer",  # the package's English list was replaced
        "Dit is onacceptabel": "complaint",  # a language's list added
        "Help! Fire!": "emergency",  # reasons the file does not name keep the package's keywords
    }


@pytest.mark.parametrize(("content", "error"), [
    ("panic:\n  en: ['x']\n", "unknown reason 'panic'"),
    ("complaint:\n  xx: ['x']\n", "unknown language 'xx' in 'complaint'"),
    ("complaint:\n  en: 'rude'\n", "'complaint.en' must be a list of non-empty keywords"),
    ("complaint:\n  en: ['(rude']\n", "keyword '(rude' is not a valid regular expression"),
    ("complaint:\n  en: ['rude|']\n", "matches an empty text, so every message"),
    ("emergency:\n  en: []\n", "'emergency.en' may not be empty"),
    ("complaint: [\n", "invalid YAML"),
])
def test_a_bad_keywords_file_is_refused_at_start_with_one_line(tmp_path, content, error):
    keywords = tmp_path / "keywords.yaml"
    keywords.write_text(content, encoding="utf-8")
    with pytest.raises(SettingsError, match=re.escape(error)) as refused:
        make_app(tmp_path, env={"KEYWORDS_FILE": str(keywords)})
    assert "\n" not in str(refused.value)


def test_jack_refuses_to_start_with_a_missing_keywords_file(tmp_path):
    result = run_jack(tmp_path, "db", "migrate", env={"KEYWORDS_FILE": str(tmp_path / "missing.yaml")})
    assert result.returncode != 0
    assert "KEYWORDS_FILE" in result.stderr and "cannot read" in result.stderr and "Traceback" not in result.stderr, result.stderr
