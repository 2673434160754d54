"""E.164 normalisation shared by the phone channels."""

import pytest

from jack_host.kit.phone import InvalidPhoneNumber, check_country_code, normalise_phone


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("+1 (555) 123-4567", None, "+15551234567"),
        ("15551234567", None, "+15551234567"),  # WhatsApp's wa_id shape
        ("0044 20 7946 0018", None, "+442079460018"),
        ("020 7946 0018", "44", "+442079460018"),
        ("555.123.4567", "+1", "+15551234567"),
        ("whatsapp:+351912345678", None, "+351912345678"),
    ],
)
def test_normalise_phone(raw, country, expected):
    assert normalise_phone(raw, country) == expected


@pytest.mark.parametrize(
    ("raw", "country", "message"),
    [
        ("call me", None, "not a phone number"),
        ("5551234567", None, "DEFAULT_COUNTRY_CODE is not set"),
        ("+12", None, "7 to 15 digits"),
        ("+1234567890123456", None, "7 to 15 digits"),
    ],
)
def test_invalid_numbers_say_why(raw, country, message):
    with pytest.raises(InvalidPhoneNumber, match=message):
        normalise_phone(raw, country)


def test_country_code_setting_check():
    assert check_country_code("44") is None and check_country_code("+351") is None
    assert "1 to 3 digits" in check_country_code("4444")
