"""Phone numbers in E.164 (``+<country><number>``), so one guest is one guest on every channel.

Providers send numbers in different shapes: WhatsApp gives bare digits (``15551234567``),
Twilio gives E.164, guests type ``(555) 123-4567`` or ``0044 20 ...``.  The pipeline matches
guests by ``sender_phone``, so every channel normalises with this one function.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s().\-/]")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class InvalidPhoneNumber(ValueError):
    """The text cannot be read as a phone number; the message quotes it."""


def normalise_phone(raw: str, default_country_code: str | int | None = None) -> str:
    """Return ``raw`` in E.164.

    ``+``-prefixed and ``00``-prefixed numbers are international.  A national number with
    a leading trunk ``0`` (e.g. ``020 7946 0018``) or bare digits that are too short to carry a
    country code get ``default_country_code`` (``DEFAULT_COUNTRY_CODE``) in front.  Bare digits
    of 11+ characters are taken as already international, because that is how WhatsApp sends them.

    :raises InvalidPhoneNumber: letters, too few or too many digits, or no country code known.
    """
    text = _SEPARATORS.sub("", str(raw or "").strip())
    if text.lower().startswith("whatsapp:"):  # Twilio's WhatsApp addresses
        text = text[len("whatsapp:"):]
    country = str(default_country_code or "").strip().lstrip("+")
    if text.startswith("+"):
        candidate = "+" + text[1:]
    elif text.startswith("00"):
        candidate = "+" + text[2:]
    elif not text.isdigit():
        raise InvalidPhoneNumber(f"{raw!r} is not a phone number (expected digits, optionally with a leading +)")
    elif text.startswith("0") or len(text) <= 10:
        if not country:
            raise InvalidPhoneNumber(
                f"{raw!r} has no country code and DEFAULT_COUNTRY_CODE is not set (e.g. DEFAULT_COUNTRY_CODE=1)"
            )
        candidate = "+" + country + text.lstrip("0")
    else:
        candidate = "+" + text
    if not _E164.match(candidate):
        raise InvalidPhoneNumber(f"{raw!r} is not a valid phone number (E.164 allows 7 to 15 digits after the +)")
    return candidate


def check_country_code(value: str) -> str | None:
    """Setting check for ``DEFAULT_COUNTRY_CODE``: 1 to 3 digits, an optional leading +."""
    if value and not re.fullmatch(r"\+?[1-9]\d{0,2}", value.strip()):
        return "a country calling code of 1 to 3 digits, e.g. 1, 44 or +351"
    return None
