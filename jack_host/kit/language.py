"""The guest's language, and words that carry no meaning for search.

:func:`detect_language` reads the writing system first (Hangul is Korean, kana
Japanese, Han without kana Chinese, Arabic and Cyrillic letters Arabic and
Russian), then the greetings guests open with ("Hola", "Grazie"), and only then
asks the Lingua detector (``lingua-language-detector``, low-accuracy mode, the
twelve languages below: about 25 MB and 0.3 s to load, so it is not imported
while the server starts; :func:`load_detector` builds it in the background once
the server is ready, and the first Latin-script message builds it if that has
not finished).  A short or ambiguous message
falls back to the language already known (channel, conversation, hotel).
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from typing import Any

#: The languages Jack has texts and keywords for.
SUPPORTED_LANGUAGES = ("en", "es", "fr", "de", "it", "pt", "nl", "ru", "zh", "ja", "ar", "ko")

STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "a an the is are was were be been am i me my you your we our us it its this that these those to of in on at "
        "for with and or but do does did can could would should will shall may might what when where which who whom "
        "how why there here have has had please hi hello thanks thank any some there's what's is it not no yes so if "
        "from by about as into up down out just also get".split()
    ),
    "es": frozenset(
        "el la los las un una unos unas y o pero de del al a en con por para es son está están estoy soy hay que qué "
        "cuál cuándo dónde cómo quién me mi mis tu tus su sus nos se lo le les este esta esto eso hola gracias por favor "
        "tiene tienen tengo puedo puede hacer muy más también".split()
    ),
    "fr": frozenset(
        "le la les un une des et ou mais de du au aux à en avec pour par est sont suis je tu il elle nous vous ils elles "
        "me mon ma mes ton ta tes son sa ses ce cette ces que qu quoi quel quelle quand où comment qui y a bonjour merci "
        "s'il vous plaît svp pas ne plus aussi très avez avons peux peut".split()
    ),
    "de": frozenset(
        "der die das den dem des ein eine einen einem einer und oder aber von zu zum zur im in an am auf mit für bei ist "
        "sind bin ich du er sie es wir ihr mein meine dein ihr ihre was wann wo wie wer welche welcher hallo danke bitte "
        "gibt es haben habe hat kann können nicht kein auch sehr noch".split()
    ),
    "it": frozenset(
        "il lo la i gli le un uno una di del della dei da dal in nel nella con su per tra e o ma che chi cosa come dove "
        "quando quale sono sei è siamo avete ho hai ha mi ti ci vi si non anche molto ciao grazie prego".split()
    ),
    "pt": frozenset(
        "o os as um uma uns umas de do da dos das em no na nos nas com por para e ou mas que quem como onde quando qual "
        "sou é são estou está tem têm eu você meu minha seu sua não também muito olá obrigado obrigada favor".split()
    ),
    "nl": frozenset(
        "de het een en of maar van in op aan met voor bij uit naar om te is zijn ben ik je jij u we wij mijn uw wat "
        "wanneer waar hoe wie welke er niet geen ook heel hallo dank bedankt alstublieft graag".split()
    ),
}
ALL_STOPWORDS = frozenset().union(*STOPWORDS.values())
_WORD = re.compile(r"\w+", re.UNICODE)

#: Openers and thanks that decide a one- or two-word message on their own (folded).
GREETINGS: dict[str, tuple[str, ...]] = {
    "en": ("hi", "hello", "hey", "thanks", "thank you", "good morning", "good evening", "good night", "good afternoon", "cheers", "bye"),
    "es": ("hola", "gracias", "buenos dias", "buenas tardes", "buenas noches", "muchas gracias", "adios", "ayuda", "socorro"),
    "fr": ("bonjour", "bonsoir", "salut", "merci", "merci beaucoup", "bonne nuit", "au revoir", "au secours", "aide"),
    "de": ("hallo", "guten morgen", "guten tag", "guten abend", "danke", "danke schon", "vielen dank", "tschuss", "hilfe"),
    "it": ("ciao", "buongiorno", "buonasera", "grazie", "grazie mille", "arrivederci", "aiuto", "salve"),
    "pt": ("ola", "bom dia", "boa tarde", "boa noite", "obrigado", "obrigada", "muito obrigado", "tchau", "socorro"),
    "nl": ("goedemorgen", "goedemiddag", "goedenavond", "dank je", "dank je wel", "bedankt", "dank u wel", "doei", "hoi"),
}
_GREETING_LANGUAGE = {phrase: language for language, phrases in GREETINGS.items() for phrase in phrases}


def fold(text: str) -> str:
    """Lower-case without accents, so ``Café`` and ``cafe`` compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def script_language(text: str) -> str | None:
    """The language a non-Latin writing system names, when most letters are in it."""
    counts = {"ko": 0, "ja": 0, "zh": 0, "ar": 0, "ru": 0, "latin": 0}
    for ch in text:
        code = ord(ch)
        if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
            counts["ko"] += 1
        elif 0x3040 <= code <= 0x30FF:
            counts["ja"] += 1
        elif 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
            counts["zh"] += 1
        elif 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F:
            counts["ar"] += 1
        elif 0x0400 <= code <= 0x04FF:
            counts["ru"] += 1
        elif ch.isalpha():
            counts["latin"] += 1
    if counts["ja"]:
        # Japanese mixes kana with Han characters; any kana means Japanese.
        counts["ja"] += counts["zh"]
        counts["zh"] = 0
    best = max(("ko", "ja", "zh", "ar", "ru"), key=lambda lang: counts[lang])
    if counts[best] and counts[best] * 2 >= counts[best] + counts["latin"]:
        return best
    return None


#: One build of the detector at a time: the start-up warm-up and a first guest may ask at once.
_DETECTOR_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _built_detector() -> Any:
    # Lingua is imported on first use (25 MB of n-gram models) to keep it off the start-up path;
    # one read-only detector serves every app in the process, like the stem cache of the knowledge base.
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [getattr(IsoCode639_1, code.upper()) for code in SUPPORTED_LANGUAGES]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).with_low_accuracy_mode().with_preloaded_language_models().build()


def _detector() -> Any:
    with _DETECTOR_LOCK:
        return _built_detector()


def load_detector() -> None:
    """Build the Lingua detector now (blocking, about 0.6 s): the server's start-up warm-up calls it
    in a thread once the server is ready, so the first Latin-script guest message does not wait."""
    _detector()


def detector_loaded() -> bool:
    """Whether the Lingua detector is built in this process (for tests and diagnostics)."""
    return _built_detector.cache_info().currsize == 1


def _stopword_vote(tokens: list[str]) -> tuple[str | None, int, int]:
    """The language with most stop words in ``tokens``, its count and the runner-up's."""
    counts = sorted(((sum(1 for token in tokens if token in stop), language) for language, stop in STOPWORDS.items()), reverse=True)
    (best_hits, best), (second_hits, _) = counts[0], counts[1]
    return (best if best_hits else None), best_hits, second_hits


def detect_language(text: str, known: str | None = None) -> str | None:
    """The ISO 639-1 code of the language ``text`` is written in, of :data:`SUPPORTED_LANGUAGES`.

    ``known`` (the channel's, the conversation's or the hotel's language) wins
    when the text is too short or too ambiguous to tell; None when neither helps.
    """
    known = (known or "").split("-")[0].lower() or None
    by_script = script_language(text)
    if by_script:
        return by_script
    folded = " ".join(fold(text).replace("¡", " ").replace("¿", " ").split())
    tokens = _WORD.findall(folded)
    if not tokens:
        return known
    phrase = " ".join(tokens)
    if phrase in _GREETING_LANGUAGE:
        return _GREETING_LANGUAGE[phrase]
    if len(tokens) <= 3:
        for size in (2, 1):
            for start in range(len(tokens) - size + 1):
                hit = _GREETING_LANGUAGE.get(" ".join(tokens[start : start + size]))
                if hit:
                    return hit
    voted, hits, runner_up = _stopword_vote(words(text))
    if hits >= 3 and hits >= 2 * runner_up:
        return voted  # "When can I check in?": four English function words say more than trigrams
    ranked = _detector().compute_language_confidence_values(text)
    top = ranked[0] if ranked else None
    language = top.language.iso_code_639_1.name.lower() if top else None
    confidence = float(top.value) if top else 0.0
    if len(tokens) >= 3 and confidence >= 0.5:
        return language
    if hits >= 2 and hits > runner_up:
        return voted
    if known and (confidence < 0.8 or len(tokens) < 3):
        return known
    return language if confidence >= 0.5 else known


def guess_language(text: str, default: str | None = None) -> str | None:
    """:func:`detect_language` with ``default`` as the known language (the older name)."""
    return detect_language(text, default)
