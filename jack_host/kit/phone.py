"""Phone numbers in E.164 (``+<country><number>``), so one guest is one guest on every channel.

Numbers are read with Google's libphonenumber rules (the ``phonenumbers`` package): a
national number is read in the hotel's region, taken from ``DEFAULT_COUNTRY_CODE``
(``39`` -> Italy), so ``06 6982 1234`` and ``+39 06 6982 1234`` are the same
``+390669821234`` (Italy keeps the leading 0; the UK drops it).

Two strengths:

- :func:`normalise_phone` for numbers a provider (WhatsApp, Twilio) or a guest hands over:
  the number must have a possible length for its country.  Metadata lags behind new
  number ranges, and refusing a real guest's message because of it would lose the message.
- :func:`validate_phone` for numbers staff type in (the hotel's phone, on-call contacts):
  the number must also be in an assigned range of its country, so typos are caught.
"""

from __future__ import annotations

import re

import phonenumbers

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class InvalidPhoneNumber(ValueError):
    """The text cannot be read as a phone number; the message quotes it and says why."""


def region_for(default_country_code: str | int | None) -> str | None:
    """``39`` -> ``IT``, ``+44`` -> ``GB``, ``1`` -> ``US`` (the main region of a shared code); None when unset."""
    code = str(default_country_code or "").strip().lstrip("+")
    if not code.isdigit():
        return None
    region = phonenumbers.region_code_for_country_code(int(code))
    return None if region == phonenumbers.UNKNOWN_REGION else region


def _parse(raw: str, default_country_code: str | int | None) -> phonenumbers.PhoneNumber:
    text = str(raw or "").strip()
    if text.lower().startswith("whatsapp:"):  # Twilio's WhatsApp addresses
        text = text[len("whatsapp:") :]
    if not text or re.search(r"[A-Za-z]", text):
        raise InvalidPhoneNumber(f"{raw!r} is not a phone number (expected digits, optionally with a leading +)")
    compact = re.sub(r"[\s().\-/]", "", text)
    region = region_for(default_country_code)
    if compact.startswith("00"):
        text = "+" + compact[2:]
    elif compact.isdigit() and not compact.startswith("0") and len(compact) >= 11:
        # Bare digits long enough to carry a country code (WhatsApp's wa_id shape): international,
        # unless they are a valid national number of the hotel's region (a Chinese mobile has 11).
        if region is not None:
            national = _try_parse(compact, region)
            if national is not None and phonenumbers.is_valid_number(national):
                return national
        text = "+" + compact
    elif not compact.startswith("+") and region is None:
        raise InvalidPhoneNumber(f"{raw!r} has no country code and DEFAULT_COUNTRY_CODE is not set (e.g. DEFAULT_COUNTRY_CODE=1)")
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"{raw!r} is not a phone number ({_why(exc)})") from None


def _try_parse(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None


def _why(exc: phonenumbers.NumberParseException) -> str:
    return {
        phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
        phonenumbers.NumberParseException.NOT_A_NUMBER: "expected digits, optionally with a leading +",
        phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too few digits after the international prefix",
        phonenumbers.NumberParseException.TOO_SHORT_NSN: "too few digits",
        phonenumbers.NumberParseException.TOO_LONG: "too many digits",
    }.get(exc.error_type, str(exc))


def _e164(number: phonenumbers.PhoneNumber, raw: str) -> str:
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        why = {
            phonenumbers.ValidationResult.TOO_SHORT: "too few digits",
            phonenumbers.ValidationResult.TOO_LONG: "too many digits",
            phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
            phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "a local number without its area code",
        }.get(reason, "a length no number of that country has")
        raise InvalidPhoneNumber(f"{raw!r} is not a valid phone number for country code +{number.country_code} ({why})")
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not _E164.match(formatted):
        raise InvalidPhoneNumber(f"{raw!r} is not a valid phone number (E.164 allows 7 to 15 digits after the +)")
    return formatted


def normalise_phone(raw: str, default_country_code: str | int | None = None) -> str:
    """Return ``raw`` in E.164; a number without a country code is read in ``DEFAULT_COUNTRY_CODE``'s region.

    :raises InvalidPhoneNumber: letters, a length no number of that country has, or no country code known.
    """
    return _e164(_parse(raw, default_country_code), raw)


def validate_phone(raw: str, default_country_code: str | int | None = None) -> str:
    """Like :func:`normalise_phone`, and the number must be in an assigned range (for numbers staff type in).

    Use it wherever a number is entered: the staff API, settings, on-call contacts.

    :raises InvalidPhoneNumber: as :func:`normalise_phone`, or the number is not assigned in its country.
    """
    number = _parse(raw, default_country_code)
    formatted = _e164(number, raw)
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(f"{raw!r} is not a valid phone number: no such number range for country code +{number.country_code}")
    return formatted


def check_phone_setting(value: str) -> str | None:
    """Setting check for a phone number given with its country code (e.g. ``HOTEL_PHONE``): None when fine or empty."""
    if not str(value or "").strip():
        return None
    try:
        validate_phone(value)
    except InvalidPhoneNumber as exc:
        return f"a phone number with its country code, e.g. +39 06 6982 1234 ({exc})"
    return None


def check_country_code(value: str) -> str | None:
    """Setting check for ``DEFAULT_COUNTRY_CODE``: 1 to 3 digits, an optional leading +, a code that exists."""
    if not value:
        return None
    if not re.fullmatch(r"\+?[1-9]\d{0,2}", value.strip()):
        return "a country calling code of 1 to 3 digits, e.g. 1, 44 or +351"
    if region_for(value) is None:
        return f"a country calling code in use, e.g. 1, 44 or +351 (no country has +{value.strip().lstrip('+')})"
    return None
