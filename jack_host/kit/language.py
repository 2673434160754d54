"""Words that carry no meaning for search, per language, and a cheap language guess from them.

The guess only picks the language of the fixed "a person will follow up" text
when neither the model nor the channel said which language the guest writes in.
"""

from __future__ import annotations

import re
import unicodedata

STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "a an the is are was were be been am i me my you your we our us it its this that these those to of in on at "
        "for with and or but do does did can could would should will shall may might what when where which who whom "
        "how why there here have has had please hi hello thanks thank any some there's what's is it not no yes so if "
        "from by about as into up down out just also".split()
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
}
ALL_STOPWORDS = frozenset().union(*STOPWORDS.values())
_WORD = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    """Lower-case without accents, so ``Café`` and ``cafe`` compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def guess_language(text: str, default: str | None = None) -> str | None:
    """The language whose stop words occur most in ``text`` (needs at least two hits)."""
    tokens = words(text)
    best, best_hits = default, 1
    for language, stop in STOPWORDS.items():
        hits = sum(1 for token in tokens if token in stop)
        if hits > best_hits:
            best, best_hits = language, hits
    return best
