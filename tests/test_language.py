"""The guest's language: detected per message (Lingua + script and greeting rules), and the texts that follow it."""

from __future__ import annotations

import asyncio

import pytest

from jack_host.builtin.conversations.ai_reply import Responder
from jack_host.builtin.conversations.texts import default_texts
from jack_host.contract.services import HotelProfile
from jack_host.kit.language import SUPPORTED_LANGUAGES, detect_language
from jack_host.testing import make_app

#: One message per language that nothing answers: it must get that language's hand-over text.
UNANSWERABLE = {
    "en": "I have a question about my booking for next month.",
    "es": "Tengo una pregunta sobre mi reserva del mes que viene.",
    "fr": "J'ai une question sur ma réservation du mois prochain.",
    "de": "Ich habe eine Frage zu meiner Buchung für nächsten Monat.",
    "it": "Ho una domanda sulla mia prenotazione del mese prossimo.",
    "pt": "Tenho uma pergunta sobre a minha reserva do próximo mês.",
    "nl": "Ik heb een vraag over mijn boeking voor volgende maand.",
    "ru": "У меня вопрос о моём бронировании на следующий месяц.",
    "zh": "我有一个关于下个月预订的问题。",
    "ja": "来月の予約について質問があります。",
    "ar": "لدي سؤال عن حجزي للشهر القادم.",
    "ko": "다음 달 예약에 대해 질문이 있습니다.",
}
#: What guests often send alone: one or two words.
SHORT = {
    "en": "Thanks!", "es": "Gracias", "fr": "Merci", "de": "Danke", "it": "Grazie", "pt": "Obrigado", "nl": "Bedankt",
    "ru": "Спасибо", "zh": "谢谢", "ja": "ありがとう", "ar": "شكرا", "ko": "감사합니다",
}


@pytest.fixture(scope="module")
def responder(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("language"))
    yield Responder(app, app.services.get(HotelProfile))
    app.engine.dispose()


def plan(responder, body: str, **conversation):
    return asyncio.run(responder.plan(
        body=body, conversation={"id": 1, "channel": "test", "language": None, **conversation},
        guest={"id": 1, "preferred_language": None}, history=[], message_meta={},
    ))


def test_every_supported_language_has_a_sample():
    assert set(UNANSWERABLE) == set(SHORT) == set(SUPPORTED_LANGUAGES)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_one_sample_per_language_is_detected_and_gets_its_own_handover_text(responder, language):
    assert detect_language(UNANSWERABLE[language]) == language
    result = plan(responder, UNANSWERABLE[language])
    assert result.language == language and result.meta["path"] == "holding"
    assert result.body == default_texts().handover(language)
    if language != "en":
        assert result.body != default_texts().handover("en")
    assert result.escalation is not None and result.escalation.hand_over


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_short_messages_are_detected_and_answered_in_their_language(responder, language):
    assert detect_language(SHORT[language]) == language
    result = plan(responder, SHORT[language])
    assert result.meta["path"] == "small_talk" and result.escalation is None
    assert result.body == default_texts().get("thanks", language)


def test_a_greeting_gets_a_greeting_back(responder):
    for body, language in (("Hola", "es"), ("Good morning", "en"), ("你好", "zh"), ("Buongiorno", "it"), ("Bonjour", "fr")):
        result = plan(responder, body)
        assert (result.language, result.meta["path"]) == (language, "small_talk")
        assert result.body == default_texts().get("welcome", language)


def test_known_language_decides_what_the_text_cannot():
    assert detect_language("ok", known="it") == "it"  # too short to tell: the conversation's language
    assert detect_language("12:30?", known="pt-BR") == "pt"
    assert detect_language("Ciao", known="es") == "it"  # the message's own evidence wins
    assert detect_language("") is None


def test_conversation_language_is_the_fallback_for_an_ambiguous_message(responder):
    result = plan(responder, "ok 👍", language="ja")
    assert result.language == "ja"
