"""Guest and reply text made safe to store and send: control characters out, a length cap per channel.

Every channel's parser calls :func:`clean_inbound` on the text a guest sent, and the outbound
path calls :func:`clean_outbound` on what Jack or staff send.  Control characters (Unicode
category ``Cc``: NUL, escape sequences, DEL, C1) are removed, except newline and tab; a
carriage return before a newline is dropped and a lone one becomes a newline.  Text longer
than its channel's cap is cut at the cap (on a character, never inside one) and ``…`` marks
the cut.

The caps (characters, :data:`CHANNEL_LIMITS`) follow what each channel can carry:
WhatsApp text messages hold 4096 characters, an SMS through Twilio 1600 (ten segments),
the web chat widget 4000, e-mail 20000 (the readable part of a long mail).  Any other
channel gets :data:`DEFAULT_LIMIT`.
"""

from __future__ import annotations

import re
import unicodedata

#: The most characters stored or sent per message, by channel name.
CHANNEL_LIMITS: dict[str, int] = {"whatsapp": 4096, "sms": 1600, "webchat": 4000, "email": 20000}
#: The cap of a channel not listed in :data:`CHANNEL_LIMITS`.
DEFAULT_LIMIT = 4096
#: What replaces the end of a text cut at its cap.
CUT_MARK = "…"

_NEWLINES = re.compile(r"\r\n?")


def limit_for(channel: str) -> int:
    """The cap, in characters, of a message on ``channel``."""
    return CHANNEL_LIMITS.get(channel, DEFAULT_LIMIT)


def strip_control(text: str) -> str:
    """``text`` without control characters, except newline and tab; CR LF and lone CR become LF."""
    text = _NEWLINES.sub("\n", text)
    if text.isprintable():  # the common case: no scan per character
        return text
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")


def cap(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut to ``limit`` characters (the cut marked with ``…``); the flag says whether it was cut."""
    if len(text) <= limit:
        return text, False
    return text[: max(0, limit - len(CUT_MARK))].rstrip() + CUT_MARK, True


def clean_inbound(text: str | None, channel: str) -> tuple[str, bool]:
    """What a guest sent on ``channel``, ready to store: (clean text, whether it was cut)."""
    return cap(strip_control(str(text or "")), limit_for(channel))


def clean_outbound(text: str | None, channel: str) -> str:
    """What Jack or staff send on ``channel``: clean, within the channel's cap, surrounding blanks removed."""
    cleaned, _ = cap(strip_control(str(text or "")).strip(), limit_for(channel))
    return cleaned


def has_text(text: str | None) -> bool:
    """False when ``text`` is empty once control characters and blanks are removed (nothing to send)."""
    return bool(strip_control(str(text or "")).strip())
