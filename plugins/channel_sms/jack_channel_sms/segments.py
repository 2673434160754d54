"""How many SMS segments a text costs: GSM-7 160/153 characters, otherwise UCS-2 70/67.

Carriers bill per segment.  A long message is split into parts that carry a small header,
hence 153 and 67; a GSM-7 escape pair (``€``, ``{``...) or a UTF-16 surrogate pair is never
split across two parts.
"""

from __future__ import annotations

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: Characters of the extension table: each costs two septets (escape + character).
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _units(text: str) -> tuple[list[int], int, int]:
    """Cost of each character in encoding units, and the single/multi-part capacities."""
    if is_gsm7(text):
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text], 160, 153
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text], 70, 67


def count_segments(text: str) -> int:
    """Segments needed for ``text`` (an empty text still sends one)."""
    costs, single, part = _units(text)
    if sum(costs) <= single:
        return 1
    segments, used = 1, 0
    for cost in costs:
        if used + cost > part:
            segments += 1
            used = 0
        used += cost
    return segments


def encoding(text: str) -> str:
    return "GSM-7" if is_gsm7(text) else "UCS-2"
