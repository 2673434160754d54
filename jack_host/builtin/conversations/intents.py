"""What a guest message wants, without a model: an inquiry, a request for a department, or small talk.

The vocabulary lives in data files: ``data/concepts.yaml`` (what a message is
about: towels, breakfast, a taxi, with the department that acts on it and the
English words that find its article) and ``data/intents.yaml`` (how it asks:
"send", "can I get", "no funciona", "几点").  Every language is tried on every
message, so a guest who mixes languages is still understood.

The rules lean to precision, because a wrong answer is worse than a hand-over:

- something broken, missing or an "acts alone" concept (locked out, noise) is a
  request, for maintenance unless the item names another department;
- an ask ("send", "necesito", "请给我") about an item a department handles is a
  request, unless the guest asks to be told (a question word: "what time", "几点");
- soft asks ("please", "extra") make a request only with such an item and no question;
- a message made only of greetings and thanks is small talk;
- anything else is an inquiry, answered only when the knowledge base matches it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from jack_host.kit.language import fold

DATA = Path(__file__).parent / "data"
#: Languages written without spaces between words (or with attached articles): forms match anywhere.
UNSEGMENTED = frozenset({"zh", "ja", "ko", "ar"})
#: Departments a broken thing goes to when its item names one of them; otherwise maintenance.
BROKEN_DEPARTMENTS = frozenset({"maintenance", "front_desk", "security"})

_ROOM_PATTERNS = [
    re.compile(r"(?:\broom|\brm|habitacion|chambre|zimmer|camera|quarto|kamer|номер[ае]?|\bsuite)\s*(?:no\.?|number|n[°ºo]\.?|nr\.?|#)?\s*(\d{2,5})\b"),
    re.compile(r"#\s*(\d{2,5})\b"),
    re.compile(r"(\d{2,5})\s*(?:号房|号房间|房间|房|号室|호실|호)"),
    re.compile(r"(?:غرفة|الغرفة|رقم)\s*(\d{2,5})"),
    re.compile(r"\b(?:in|to|at|for)\s+(\d{3,4})\b(?!\s*(?:am|pm|h\b|:|\.\d|uhr|hours|o'?clock))"),
]


@dataclass(frozen=True)
class Concept:
    name: str
    department: str | None
    search: str
    generic: bool
    acts_alone: bool


@dataclass
class Intent:
    """The no-model reading of one message."""

    #: ``request``, ``inquiry`` or ``small_talk``.
    kind: str
    department: str | None = None
    room: str | None = None
    #: Concept names found, in the order they appear.
    concepts: list[str] = field(default_factory=list)
    #: English words for the knowledge search (from the concepts; empty: none found).
    search: str = ""
    #: Which rule decided (for the conversation's record and the evaluation).
    why: str = ""


def normalize(text: str, language: str) -> str:
    """The text forms and patterns of ``language`` are compared on."""
    if language in UNSEGMENTED:
        return unicodedata.normalize("NFC", text.lower())
    return fold(text).replace("’", "'")


def _fold_pattern(pattern: str, language: str) -> str:
    if language in UNSEGMENTED:
        return unicodedata.normalize("NFC", pattern)
    decomposed = unicodedata.normalize("NFKD", pattern)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _form_pattern(form: str, language: str) -> str:
    form = normalize(str(form), language)
    if language in UNSEGMENTED:
        return re.escape(form)
    # A * ends a word of the form with any letters: "tarjeta* de credito", "туалетн* бумаг*".
    body = r"\w*".join(re.escape(part) for part in form.rstrip("*").split("*"))
    if form.endswith("*"):
        return r"(?<!\w)" + body
    return r"(?<!\w)" + body + r"(?:s|es)?(?!\w)"


class Lexicon:
    """The compiled concepts and cues (from the package's data files, or a hotel's own concepts file)."""

    def __init__(self, concepts: dict[str, Any], cues: dict[str, Any]):
        self.concepts: dict[str, Concept] = {}
        #: language -> [(concept name, compiled alternation of its forms)]
        self.forms: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
        for name, entry in concepts.items():
            self.concepts[name] = Concept(
                name, entry.get("department"), str(entry.get("search") or ""), bool(entry.get("generic")), bool(entry.get("acts_alone"))
            )
            for language, forms in entry.items():
                if language in ("department", "search", "generic", "acts_alone") or not forms:
                    continue
                pattern = re.compile("|".join(_form_pattern(f, language) for f in forms))
                self.forms.setdefault(language, []).append((name, pattern))
        self.cues: dict[str, dict[str, re.Pattern[str]]] = {}
        for kind, by_language in cues.items():
            if kind == "small_talk":
                continue
            self.cues[kind] = {
                language: re.compile("|".join(f"(?:{_fold_pattern(p, language)})" for p in patterns))
                for language, patterns in by_language.items() if patterns
            }
        self.small_talk: dict[str, list[str]] = {
            language: sorted((normalize(p, language) for p in phrases), key=len, reverse=True)
            for language, phrases in cues.get("small_talk", {}).items()
        }

    @classmethod
    def from_files(cls, concepts_file: Path | None = None) -> Lexicon:
        concepts = _load_yaml(DATA / "concepts.yaml")
        if concepts_file is not None:
            concepts = {**concepts, **_load_yaml(concepts_file)}
        return cls(concepts, _load_yaml(DATA / "intents.yaml"))

    # ------------------------------------------------------------------ reading

    def _texts(self, text: str) -> dict[str, str]:
        latin = normalize(text, "en")
        other = normalize(text, "zh")
        return {language: (other if language in UNSEGMENTED else latin) for language in set(self.forms) | set(self.small_talk) | {"en", "zh"}}

    def found_concepts(self, text: str, language: str | None = None) -> list[str]:
        """Concept names in ``text``, in order of first appearance.

        With the message's ``language`` known, only its forms (and English ones, which guests mix in)
        are tried, so Dutch "station" does not turn an English question about a charging station into
        one about the metro; with it unknown, every language's.
        """
        if language and language in self.forms:
            return self._concepts_in(text, {language, "en"})
        return self._concepts_in(text, set(self.forms))

    def _concepts_in(self, text: str, languages: set[str]) -> list[str]:
        texts = self._texts(text)
        first: dict[str, int] = {}
        for language, entries in self.forms.items():
            if language not in languages:
                continue
            subject = texts[language]
            for name, pattern in entries:
                match = pattern.search(subject)
                if match and (name not in first or match.start() < first[name]):
                    first[name] = match.start()
        return sorted(first, key=lambda name: first[name])

    def cue(self, kind: str, text: str) -> bool:
        texts = self._texts(text)
        return any(pattern.search(texts[language]) for language, pattern in self.cues.get(kind, {}).items())

    def is_small_talk(self, text: str) -> bool:
        texts = self._texts(text)
        for language, phrases in self.small_talk.items():
            rest = texts[language]
            for phrase in phrases:
                if language in UNSEGMENTED:
                    rest = rest.replace(phrase, " ")
                else:
                    rest = re.sub(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", " ", rest)
            rest = re.sub(r"\b(so|very|much|a lot|again|all|everyone|there|jack|team|guys|and|you|muy|mucho|tres|beaucoup|sehr)\b", " ", rest)
            if rest != texts[language] and not re.search(r"\w", rest):
                return True
        return False

    def classify(self, text: str, language: str | None = None) -> Intent:
        """Read one guest message (emergencies and complaints are the keyword rules' job, before this)."""
        concepts = self.found_concepts(text, language)
        room = room_number(text)
        search = " ".join(dict.fromkeys(self.concepts[c].search for c in concepts if self.concepts[c].search))
        topical = [c for c in concepts if not self.concepts[c].generic]
        with_department = [c for c in topical if self.concepts[c].department]
        if not topical and self.is_small_talk(text):
            return Intent("small_talk", why="greeting or thanks")
        question = self.cue("questions", text)
        alone = [c for c in with_department if self.concepts[c].acts_alone]
        if alone:
            return Intent("request", self.concepts[alone[0]].department, room, concepts, search, f"{alone[0]} acts alone")
        if self.cue("broken", text):
            department = next((self.concepts[c].department for c in with_department if self.concepts[c].department in BROKEN_DEPARTMENTS), "maintenance")
            return Intent("request", department, room, concepts, search, "something does not work")
        if with_department:
            department = _vote([self.concepts[c].department or "" for c in with_department])
            if self.cue("missing", text) and not question:
                return Intent("request", department, room, concepts, search, "something has run out")
            if not question and (self.cue("asks", text) or self.cue("soft_asks", text)):
                return Intent("request", department, room, concepts, search, "asks for an item or service")
        return Intent("inquiry", None, room, concepts, search, "a question" if question else "no request found")


def _vote(departments: list[str]) -> str:
    """The department named most often; the first named wins a tie."""
    counts: dict[str, int] = {}
    for department in departments:
        counts[department] = counts.get(department, 0) + 1
    return max(departments, key=lambda d: (counts[d], -departments.index(d)))


def room_number(text: str) -> str | None:
    """The room number the guest gives ("room 412", "412号房间", "chambre 215"), if any."""
    for subject in (normalize(text, "en"), normalize(text, "ko")):
        for pattern in _ROOM_PATTERNS:
            match = pattern.search(subject)
            if match:
                return match.group(1)
    return None


def _load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of names to entries")
    return data


@functools.lru_cache(maxsize=8)
def lexicon(concepts_file: str | None = None) -> Lexicon:
    """The compiled lexicon (built once per concepts file: the data files are read-only)."""
    return Lexicon.from_files(Path(concepts_file) if concepts_file else None)
