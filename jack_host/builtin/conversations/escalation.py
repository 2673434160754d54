"""When a conversation goes to staff: keywords, the guest-facing hand-over text, and the task.

Keyword rules (``data/escalation_keywords.yaml``: emergency, complaint,
human_request, in the twelve supported languages) run on every guest message
before the model, so an emergency is recognised even with no model and no
knowledge, and an emergency is urgent whatever a model says.  Every language's
keywords are tried on every message.

A hotel overrides them with ``KEYWORDS_FILE``: a YAML file of the same shape
holding only what it changes.  A reason's list for a language replaces the
package's list for that reason and language; ``[]`` turns that language's
keywords for the reason off (refused for ``emergency``: an emergency is always
recognised).  For example::

    human_request:
      en: ['\\bmanager\\b', 'real person', 'duty manager']
    complaint:
      nl: ['klacht', 'onacceptabel']
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from jack_host.builtin.conversations.intents import _fold_pattern, normalize
from jack_host.builtin.conversations.override_files import read_by_language
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


class KeywordsFileError(ValueError):
    """The hotel's KEYWORDS_FILE cannot be used; the message says why, in one line."""


@functools.lru_cache(maxsize=8)
def compiled_keywords(override: str | None = None) -> dict[str, dict[str, re.Pattern[str]]]:
    """reason -> language -> one compiled alternation (read once per file: the files are read-only).

    ``override`` is the hotel's KEYWORDS_FILE. :raises KeywordsFileError: it cannot be used.
    """
    data = yaml.safe_load(KEYWORDS_FILE.read_text(encoding="utf-8"))
    if override:
        for reason, by_language in read_override(Path(override)).items():
            data[reason].update(by_language)
    return {
        reason: {
            language: re.compile("|".join(f"(?:{_fold_pattern(p, language)})" for p in patterns))
            for language, patterns in data[reason].items() if patterns
        }
        for reason in SEVERITY
    }


def read_override(path: Path) -> dict[str, dict[str, list[str]]]:
    """Read and check a KEYWORDS_FILE. :raises KeywordsFileError: unreadable, not YAML, an unknown
    reason or language, a pattern that is not a valid regular expression, or no emergency keywords."""
    where = f"KEYWORDS_FILE {path}"

    def check(reason: str, language: str, patterns: Any) -> list[str]:
        if patterns is None:
            patterns = []
        if not isinstance(patterns, list) or not all(isinstance(p, str) and p.strip() for p in patterns):
            raise KeywordsFileError(f"{where}: '{reason}.{language}' must be a list of non-empty keywords (regular expressions)")
        if reason == "emergency" and not patterns:
            raise KeywordsFileError(f"{where}: 'emergency.{language}' may not be empty: emergencies must always be recognised")
        for pattern in patterns:
            try:
                compiled = re.compile(_fold_pattern(pattern, language))
            except re.error as exc:
                raise KeywordsFileError(f"{where}: '{reason}.{language}' keyword {pattern!r} is not a valid regular expression ({exc})") from None
            if compiled.search(""):
                raise KeywordsFileError(f"{where}: '{reason}.{language}' keyword {pattern!r} matches an empty text, so every message")
        return patterns

    return read_by_language(path, where, SEVERITY, KeywordsFileError, noun=("reason", "reasons"),
                            values="lists of keywords", check=check)


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


def detect(text: str, keywords_file: str | None = None) -> KeywordHit | None:
    """The most serious keyword reason found in ``text`` (and the language it was written in),
    with the hotel's ``keywords_file`` (KEYWORDS_FILE) over the package's keywords."""
    subjects = {"latin": normalize(text, "en"), "other": normalize(text, "zh")}
    for reason, by_language in compiled_keywords(keywords_file or None).items():
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
