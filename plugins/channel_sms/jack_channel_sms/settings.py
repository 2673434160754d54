"""The settings of the SMS (Twilio) channel."""

from __future__ import annotations

from jack_host.config.settings import Setting

DEFAULT_API_URL = "https://api.twilio.com"
DEFAULT_HELP_TEXT = (
    "{hotel}: this number is the hotel's guest messaging service. Reply with your question, "
    "or STOP to stop messages, START to resume. Msg & data rates may apply."
)


def _check_url(value: str) -> str | None:
    if value and not value.startswith(("http://", "https://")):
        return "a URL such as https://api.twilio.com"
    return None


def declared_settings() -> list[Setting]:
    return [
        Setting("TWILIO_ACCOUNT_SID", str, "", "the Twilio account SID (AC...)"),
        Setting("TWILIO_AUTH_TOKEN", str, "", "the account's auth token; also signs webhooks", secret=True),
        Setting("TWILIO_PHONE_NUMBER", str, "", "the hotel's SMS number in E.164, e.g. +15550100"),
        Setting("TWILIO_MESSAGING_SERVICE_SID", str, "", "a Messaging Service (MG...) to send from instead of one number"),
        Setting("TWILIO_API_URL", str, DEFAULT_API_URL, "Twilio REST API base URL", check=_check_url),
        Setting("SMS_HELP_TEXT", str, DEFAULT_HELP_TEXT, "answer to HELP/INFO; {hotel} becomes HOTEL_NAME"),
    ]
