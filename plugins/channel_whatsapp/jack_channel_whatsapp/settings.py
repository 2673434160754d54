"""The settings of the WhatsApp channel."""

from __future__ import annotations

from typing import Any

from jack_host.config.settings import Setting

DEFAULT_API_URL = "https://graph.facebook.com/v21.0"


def _check_url(value: str) -> str | None:
    if value and not value.startswith(("http://", "https://")):
        return "a URL such as https://graph.facebook.com/v21.0"
    return None


def declared_settings() -> list[Setting]:
    return [
        Setting("WHATSAPP_ACCESS_TOKEN", str, "", "system-user access token of the WhatsApp Business app", secret=True),
        Setting("WHATSAPP_PHONE_NUMBER_ID", str, "", "the Graph API id of the hotel's WhatsApp number"),
        Setting("WHATSAPP_APP_SECRET", str, "", "the Meta app secret; signs webhooks (X-Hub-Signature-256)", secret=True),
        Setting("WHATSAPP_VERIFY_TOKEN", str, "", "any string; Meta sends it back when you register the webhook", secret=True),
        Setting("WHATSAPP_API_URL", str, DEFAULT_API_URL, "Graph API base URL including the version", check=_check_url),
        Setting("WHATSAPP_TEMPLATE_NAME", str, "", "approved template sent outside the 24-hour customer-service window"),
        Setting("WHATSAPP_TEMPLATE_LANGUAGE", str, "en_US", "language code of that template"),
        Setting(
            "WHATSAPP_ALLOW_UNSIGNED",
            bool,
            False,
            "development only: accept webhooks without X-Hub-Signature-256 when no app secret is set",
        ),
    ]


def allow_unsigned(settings: Any) -> bool:
    """Unsigned webhooks are accepted only when asked for, without an app secret, and never in production."""
    return bool(settings.get("WHATSAPP_ALLOW_UNSIGNED")) and not settings.is_production
