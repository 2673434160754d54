"""The guest-facing texts of the reply without a model, in every supported language.

The texts ship in ``data/texts.yaml`` (kinds ``handover``, ``holding``,
``emergency``, ``on_its_way``, ``room_suffix``, ``departments``, ``welcome``,
``thanks``).  A hotel overrides any of them with ``TEXTS_FILE``: a YAML file of
the same shape holding only what it changes, for example::

    handover:
      en: "Thanks! Our front desk team will reply within minutes."
    on_its_way:
      it: "Grazie! La sua richiesta è in arrivo{room}."

A text missing in the guest's language falls back to English.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from jack_host.builtin.conversations.override_files import read_by_language

DATA = Path(__file__).parent / "data" / "texts.yaml"
KINDS = ("handover", "holding", "emergency", "on_its_way", "room_suffix", "departments", "welcome", "thanks")


class TextsFileError(ValueError):
    """The hotel's TEXTS_FILE cannot be used; the message says why, in one line."""


class Texts:
    """Texts by kind and language, the package's merged with the hotel's overrides."""

    def __init__(self, texts: dict[str, dict[str, Any]]):
        self.texts = texts

    @classmethod
    def load(cls, override: str | Path | None = None) -> Texts:
        texts = yaml.safe_load(DATA.read_text(encoding="utf-8"))
        if override:
            for kind, by_language in read_override(Path(override)).items():
                for language, value in by_language.items():
                    if kind == "departments":
                        texts[kind][language] = {**texts[kind].get(language, {}), **value}
                    else:
                        texts[kind][language] = value
        return cls(texts)

    def get(self, kind: str, language: str | None) -> Any:
        by_language = self.texts[kind]
        code = (language or "en").split("-")[0].lower()
        return by_language.get(code) or by_language["en"]

    def handover(self, language: str | None, emergency: bool = False) -> str:
        return self.get("emergency" if emergency else "handover", language)

    def on_its_way(self, language: str | None, department: str, room: str | None) -> str:
        departments = self.get("departments", language)
        name = departments.get(department) or self.get("departments", "en").get(department, department.replace("_", " "))
        suffix = self.get("room_suffix", language).format(room=room) if room else ""
        return self.get("on_its_way", language).format(department=name, room=suffix)


def read_override(path: Path) -> dict[str, dict[str, Any]]:
    """Read and check a TEXTS_FILE. :raises TextsFileError: unreadable, not YAML, an unknown kind or language."""
    where = f"TEXTS_FILE {path}"

    def check(kind: str, language: str, value: Any) -> Any:
        wanted = dict if kind == "departments" else str
        if not isinstance(value, wanted) or not value:
            raise TextsFileError(f"{where}: '{kind}.{language}' must be a non-empty {'mapping' if wanted is dict else 'text'}")
        if kind == "on_its_way" and isinstance(value, str):
            try:
                value.format(department="x", room="")
            except (KeyError, IndexError, ValueError):
                raise TextsFileError(f"{where}: '{kind}.{language}' may only use {{department}} and {{room}}") from None
        return value

    return read_by_language(path, where, KINDS, TextsFileError, noun=("kind", "kinds"), values="texts", check=check)


@functools.lru_cache(maxsize=1)
def default_texts() -> Texts:
    """The package's texts, without a hotel's overrides (read once: the file is read-only)."""
    return Texts.load()
