"""When a conversation goes to staff: keywords, the guest-facing hand-over text, and the task.

Keyword rules (``data/escalation_keywords.yaml``: emergency, complaint,
human_request, in the twelve supported languages) run on every guest message
before the model, so an emergency is recognised even with no model and no
knowledge, and an emergency is urgent whatever a model says.  Every language's
keywords are tried on every message.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from jack_host.builtin.conversations.intents import _fold_pattern, normalize
from jack_host.builtin.conversations.texts import default_texts
from jack_host.kit.language import detect_language

KEYWORDS_FILE = Path(__file__).parent / "data" / "escalation_keywords.yaml"
#: Checked in this order: the most serious reason wins.
SEVERITY = ("emergency", "complaint", "human_request")
ROUTING = {
    "emergency": ("security", "urgent"),
    "complaint": ("front_desk", "high"),
    "human_request": ("front_desk", "standard"),
}


@functools.lru_cache(maxsize=1)
def compiled_keywords() -> dict[str, dict[str, re.Pattern[str]]]:
    """reason -> language -> one compiled alternation (the data file is read once)."""
    data = yaml.safe_load(KEYWORDS_FILE.read_text(encoding="utf-8"))
    return {
        reason: {
            language: re.compile("|".join(f"(?:{_fold_pattern(p, language)})" for p in patterns))
            for language, patterns in data[reason].items()
        }
        for reason in SEVERITY
    }


@dataclass(frozen=True)
class KeywordHit:
    reason: str  # emergency / complaint / human_request
    language: str
    department: str
    priority: str


@dataclass(frozen=True)
class Escalation:
    """Why and to whom a conversation goes; becomes a task.

    ``hand_over`` False: a request staff carry out while the AI keeps the conversation
    (the guest was told it is on its way); True: staff take the conversation over.
    """

    reason: str
    department: str
    priority: str
    summary: str = ""
    hand_over: bool = True


def detect(text: str) -> KeywordHit | None:
    """The most serious keyword reason found in ``text`` (and the language it was written in)."""
    subjects = {"latin": normalize(text, "en"), "other": normalize(text, "zh")}
    for reason, by_language in compiled_keywords().items():
        languages = [
            language for language, pattern in by_language.items()
            if pattern.search(subjects["other" if language in ("zh", "ja", "ko", "ar") else "latin"])
        ]
        if languages:
            guessed = detect_language(text)
            language = guessed if guessed in languages else languages[0]
            department, priority = ROUTING[reason]
            return KeywordHit(reason, language, department, priority)
    return None


def handover_text(language: str | None, emergency: bool = False) -> str:
    """The guest-facing "a person will follow up" message (English when the language is not known)."""
    return default_texts().handover(language, emergency)
