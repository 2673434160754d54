"""Deciding the answer to one guest message: ONE model call, or the knowledge base without a model.

The model gets the hotel profile, the best-matching knowledge articles and the
recent history, and must return one JSON object::

    {"reply": "...", "language": "es", "intent": "inquiry", "confident": true,
     "needs_human": false, "department": "front_desk", "urgency": "standard",
     "room": "412", "reason": ""}

``intent`` ``request`` makes a task for ``department`` while the AI keeps the
conversation (the reply tells the guest it is on its way).  The no-model rules
guard the model: an emergency keyword is urgent before any model is asked, and a
message the rules read as a request (something broken, "send towels") becomes a
task even when the model only answered it.

Anything else (no JSON, no reply text) counts as "no confident answer" and
escalates.  Every plan records how it was made in ``meta["path"]``:
``llm`` (the model answered), ``knowledge`` (no model answered; the answer is a
confidently matching article) or ``holding`` (a "someone will follow up" text), and,
when no model answered, why in ``meta["why"]`` (``no_model_configured``,
``ai_call_ceiling``, ``all_providers_failed`` with each provider's error in
``meta["provider_errors"]``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jack_host.builtin.conversations.escalation import Escalation, detect, handover_text
from jack_host.builtin.conversations.intents import Intent, lexicon
from jack_host.builtin.conversations.tasks import DEPARTMENTS, normalize_department, normalize_priority
from jack_host.builtin.conversations.texts import Texts, default_texts
from jack_host.contract.interfaces import LLMRequest
from jack_host.contract.services import (
    AICallCeilingReached,
    AllProvidersFailed,
    KnowledgeMatch,
    NoProviderConfigured,
)
from jack_host.kit.language import detect_language

if TYPE_CHECKING:
    from jack_host.builtin.conversations.hotel_profile import HotelProfileService
    from jack_host.contract.app import App

log = logging.getLogger("jack.ai_reply")
KNOWLEDGE_IN_PROMPT = 3
TEXTS_KEY = "jack.conversations.texts"


@dataclass
class ReplyPlan:
    body: str
    meta: dict[str, Any] = field(default_factory=dict)
    language: str | None = None
    escalation: Escalation | None = None


@dataclass
class ModelAnswer:
    reply: str
    language: str | None
    confident: bool
    needs_human: bool
    department: str
    urgency: str
    reason: str
    #: ``inquiry``, ``request``, ``small_talk`` or ``other``.
    intent: str = "inquiry"
    room: str | None = None


MODEL_INTENTS = ("inquiry", "request", "small_talk", "other")


def parse_model_answer(text: str) -> ModelAnswer | None:
    """Read the model's JSON object, tolerating code fences and chatter around it; None if unusable."""
    candidate = (text or "").strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", candidate, re.DOTALL)
    if fenced:
        candidate = fenced.group(1).strip()
    data: Any = None
    try:
        data = json.loads(candidate)
    except ValueError:
        start, end = candidate.find("{"), candidate.rfind("}")
        if start != -1 and end > start:
            try:
                data = json.loads(candidate[start : end + 1])
            except ValueError:
                data = None
    if not isinstance(data, dict):
        return None
    reply = data.get("reply")
    if not isinstance(reply, str):
        reply = ""
    needs_human = _flag(data.get("needs_human"))
    if not reply.strip() and not needs_human:
        return None
    language = data.get("language")
    intent = str(data.get("intent") or "inquiry").strip().lower()
    room = data.get("room")
    room_text = str(room).strip()[:12] if isinstance(room, (str, int)) and not isinstance(room, bool) and str(room).strip() else None
    return ModelAnswer(
        reply=reply.strip(),
        language=language.strip().lower()[:8] if isinstance(language, str) and language.strip() else None,
        confident=_flag(data.get("confident", True)),
        needs_human=needs_human,
        department=normalize_department(data.get("department")),
        urgency=normalize_priority(data.get("urgency")),
        reason=str(data.get("reason") or "")[:200],
        intent=intent if intent in MODEL_INTENTS else "other",
        room=room_text if room_text and re.fullmatch(r"[A-Za-z0-9-]{1,12}", room_text) else None,
    )


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "1"}
    return bool(value)


class Responder:
    """Plans the reply to a guest message (no database writes: the worker commits the plan)."""

    def __init__(self, app: App, hotel_profile: HotelProfileService):
        self.app = app
        self.hotel_profile = hotel_profile

    @property
    def texts(self) -> Texts:
        """The guest-facing texts with the hotel's TEXTS_FILE overrides (read once per app)."""
        texts = self.app.state.get(TEXTS_KEY)
        if texts is None:
            override = self.app.settings.get("TEXTS_FILE") or None
            texts = Texts.load(override) if override else default_texts()
            self.app.state[TEXTS_KEY] = texts
        return texts

    def _hotel_language(self) -> str | None:
        try:
            languages = self.hotel_profile.get().get("languages") or []
        except Exception:  # the profile table may be missing before the first migration
            return None
        return languages[0] if languages else None

    async def plan(
        self, *, body: str, conversation: dict[str, Any], guest: dict[str, Any], history: list[dict[str, Any]], message_meta: dict[str, Any]
    ) -> ReplyPlan:
        # The channel's word first; else this message, read with what is known (conversation, guest, hotel).
        known_language = message_meta.get("language") or detect_language(
            body, conversation.get("language") or guest.get("preferred_language") or self._hotel_language()
        )
        hit = detect(body, self.app.settings.get("KEYWORDS_FILE") or None)
        if hit is not None:
            # Keywords decide without the model: a guest in an emergency needs staff now, not prose.
            language = message_meta.get("language") or known_language or hit.language
            intent = lexicon().classify(body, detect_language(body))
            room = intent.room
            summary = f"Room {room}: {_summary(body)}" if room else _summary(body)
            return ReplyPlan(
                self.texts.handover(language, emergency=hit.reason == "emergency"),
                {"path": "holding", "escalation_reason": hit.reason, "language": language, **({"room": room} if room else {})},
                language,
                Escalation(hit.reason, hit.department, hit.priority, summary),
            )
        matches = self.app.services.knowledge.search(body, limit=KNOWLEDGE_IN_PROMPT)
        request = LLMRequest(messages=self.prompt(body, history, matches, conversation), json_mode=True)
        try:
            result = await self.app.services.llm.complete(request, conversation_id=conversation["id"], guest_id=guest["id"])
        except AICallCeilingReached as exc:
            # Spend is capped, the guest still gets an answer: the knowledge base's, or the holding reply.
            plan = self._without_model(body, matches, known_language)
            plan.meta.update(ai_ceiling=exc.limit, why="ai_call_ceiling")
            return plan
        except NoProviderConfigured:
            plan = self._without_model(body, matches, known_language)
            plan.meta["why"] = "no_model_configured"
            return plan
        except AllProvidersFailed as exc:
            # An outage the guest does not notice: the same decision as with no model at all.
            log.warning("every LLM provider failed for conversation %s: %s", conversation["id"], exc)
            plan = self._without_model(body, matches, known_language)
            plan.meta.update(why="all_providers_failed", provider_errors=[e[:300] for e in exc.errors[:5]])
            return plan
        model_meta = {
            "provider": result.provider,
            "model": result.response.model,
            "fallback": result.fallback,
            "latency_ms": round(result.latency_ms, 1),
            "knowledge_ids": [m.article["id"] for m in matches],
        }
        answer = parse_model_answer(result.response.text)
        if answer is None:
            language = known_language
            return ReplyPlan(
                handover_text(language),
                {"path": "holding", "escalation_reason": "unusable_model_reply", "language": language, **model_meta},
                language,
                Escalation("no_confident_answer", "front_desk", "standard", _summary(body)),
            )
        language = answer.language or known_language
        rules = self.lexicon.classify(body, detect_language(body))
        if answer.intent == "request" or (rules.kind == "request" and not answer.needs_human):
            # A request is a task, whoever read it: the model's department first, the rules' when the
            # model took it for a question (it would have answered "towels are in the wardrobe").
            department = answer.department if answer.intent == "request" else rules.department or "front_desk"
            room = answer.room or rules.room
            summary = f"Room {room}: {_summary(body)}" if room else _summary(body)
            reply = answer.reply if answer.intent == "request" and answer.reply else self.texts.on_its_way(language, department, room)
            return ReplyPlan(
                reply,
                {"path": "llm", "language": language, "intent": "request", "department": department,
                 "intent_source": "model" if answer.intent == "request" else "rules", **({"room": room} if room else {}), **model_meta},
                language,
                Escalation("guest_request", department, answer.urgency if answer.intent == "request" else "standard", summary, hand_over=False),
            )
        if answer.needs_human or not answer.confident:
            reason = "model_needs_human" if answer.needs_human else "no_confident_answer"
            return ReplyPlan(
                answer.reply or handover_text(language),
                {"path": "llm" if answer.reply else "holding", "escalation_reason": reason, "language": language, **model_meta},
                language,
                Escalation(reason, answer.department, answer.urgency, answer.reason or _summary(body)),
            )
        return ReplyPlan(answer.reply, {"path": "llm", "language": language, **model_meta}, language)

    def _without_model(self, body: str, matches: list[KnowledgeMatch], known_language: str | None) -> ReplyPlan:
        """The decision without a model: small talk answered, a request made a task, an inquiry
        answered only from a confidently matching article, anything else handed over."""
        language = known_language
        intent = self.lexicon.classify(body, detect_language(body))  # the text's own language, not a fallback
        meta: dict[str, Any] = {"language": language, "intent": intent.kind, "intent_why": intent.why}
        if intent.room:
            meta["room"] = intent.room
        if intent.kind == "small_talk":
            kind = "thanks" if _THANKS.search(body.lower()) else "welcome"
            return ReplyPlan(self.texts.get(kind, language), {"path": "small_talk", **meta}, language)
        if intent.kind == "request" and intent.department:
            summary = f"Room {intent.room}: {_summary(body)}" if intent.room else _summary(body)
            return ReplyPlan(
                self.texts.on_its_way(language, intent.department, intent.room),
                {"path": "task", "department": intent.department, **meta},
                language,
                Escalation("guest_request", intent.department, "standard", summary, hand_over=False),
            )
        match = self._knowledge_match(body, matches, intent, language)
        if match is not None:
            article = match.article
            return ReplyPlan(
                article["body"],
                {"path": "knowledge", "knowledge_id": article["id"], "knowledge_title": article["title"],
                 "score": match.score, "coverage": match.coverage, **meta},
                language,
            )
        return ReplyPlan(
            self.texts.handover(language),
            {"path": "holding", "escalation_reason": "no_confident_answer", **meta},
            language,
            Escalation("no_confident_answer", "front_desk", "standard", _summary(body)),
        )

    @property
    def lexicon(self) -> Any:
        return lexicon(self.app.settings.get("CONCEPTS_FILE") or None)

    def _knowledge_match(self, body: str, matches: list[KnowledgeMatch], intent: Intent, language: str | None) -> KnowledgeMatch | None:
        """The article to answer with: the message's own search when it is English (or of unknown
        language) and confident, else a search for the English words of the concepts it names
        (the articles are written in one language; "¿Se admiten perros?" looks for "pets dogs")."""
        if language in (None, "en") and matches and matches[0].confident:
            return matches[0]
        if not intent.search or all(self.lexicon.concepts[c].generic for c in intent.concepts):
            return None
        found = self.app.services.knowledge.search(intent.search, limit=1)
        return found[0] if found and found[0].confident else None

    def prompt(self, body: str, history: list[dict[str, Any]], matches: list[KnowledgeMatch], conversation: dict[str, Any]) -> list[dict[str, str]]:
        profile = self.hotel_profile.get()
        try:
            local_now = dt.datetime.now(self.app.hotel_timezone()).strftime("%A %Y-%m-%d %H:%M")
        except Exception:  # a bad timezone must not stop replies
            local_now = dt.datetime.now(dt.UTC).strftime("%A %Y-%m-%d %H:%M UTC")
        facts = [
            f"Hotel: {profile['name']}",
            f"Local time at the hotel: {local_now} ({profile['timezone']})",
            f"Check-in from {profile['check_in_time']}; check-out until {profile['check_out_time']}",
            f"Languages spoken by staff: {', '.join(profile['languages']) or 'en'}",
        ]
        for label, key in (("Phone", "phone"), ("E-mail", "email"), ("Address", "address"), ("Website", "website")):
            if profile.get(key):
                facts.append(f"{label}: {profile[key]}")
        articles = "\n\n".join(f"[{i}] {m.article['title']}\n{m.article['body']}" for i, m in enumerate(matches, 1)) or "(none match)"
        system = (
            f"You are the concierge of {profile['name']}, answering a guest on the {conversation['channel']} channel.\n\n"
            "Hotel facts:\n" + "\n".join(facts) + "\n\n"
            "Knowledge articles that may answer the guest:\n" + articles + "\n\n"
            "Answer only from the hotel facts and the articles. Be brief and warm. Always write the reply in the "
            "language the guest writes in (their last message), even when the articles are in another language. "
            "If the facts and articles do not answer the question, do not guess: set confident to false and say a "
            "colleague will follow up.\n"
            "Set intent to \"request\" when the guest asks staff to bring, do or fix something (towels, cleaning, "
            "a broken shower, room service, a taxi, a wake-up call, a new key card): name the department that acts "
            "(housekeeping for items and cleaning, maintenance for anything broken, food_beverage for food, drinks "
            "and table bookings, concierge for taxis, tours and tickets, front_desk for keys, wake-up calls, "
            "check-out and billing, security for noise and safety), give the room number if the guest said it, and "
            "tell the guest in the reply that it is on its way. Set intent to \"inquiry\" for a question, "
            "\"small_talk\" for a greeting or thanks, \"other\" for anything else. Set needs_human to true when "
            "the guest asks for a person, complains, reports an emergency (urgency urgent, department security) "
            "or wants a booking change.\n\n"
            "Respond with one JSON object and nothing else:\n"
            '{"reply": "text for the guest", "language": "ISO 639-1 code of the guest\'s language", '
            '"intent": "inquiry/request/small_talk/other", "confident": true, "needs_human": false, '
            f'"department": "one of {"/".join(DEPARTMENTS)}", "urgency": "urgent/high/standard/low", '
            '"room": "room number or null", "reason": "why staff are needed, if they are"}'
        )
        messages = [{"role": "system", "content": system}]
        for item in history:
            if item["sender"] == "guest":
                messages.append({"role": "user", "content": item["body"]})
            elif item["sender"] in ("ai", "staff"):
                prefix = "[staff] " if item["sender"] == "staff" else ""
                messages.append({"role": "assistant", "content": prefix + item["body"]})
        messages.append({"role": "user", "content": body})
        return messages


_THANKS = re.compile(r"thank|thx|cheers|gracias|merci|danke|grazie|obrigad|\bdank|bedankt|спасибо|谢|ありがと|감사|고맙|شكر")


def _summary(body: str) -> str:
    text = " ".join(body.split())
    return text if len(text) <= 120 else text[:117] + "..."
