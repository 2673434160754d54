"""WhatsApp Business Cloud API channel: the channel object (sending and health)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from jack_channel_whatsapp.graph_api import REENGAGEMENT_REQUIRED, GraphClient
from jack_channel_whatsapp.settings import allow_unsigned
from jack_host.contract.interfaces import (
    Channel,
    ComponentHealth,
    OutboundMessage,
    PermanentSendError,
    SendResult,
    TransientSendError,
)
from jack_host.kit.webhook_metrics import count_webhook_failure

if TYPE_CHECKING:
    from jack_host.contract.app import App

log = logging.getLogger("jack.whatsapp")
#: WhatsApp allows free-form replies only this long after the guest's last message.
SERVICE_WINDOW = dt.timedelta(hours=24)


class WhatsappChannel(Channel):
    name = "whatsapp"
    required_settings = ("WHATSAPP_ACCESS_TOKEN", "WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN")

    def __init__(self, app: App):
        self.app = app

    def setting(self, key: str) -> str:
        return str(self.app.settings.get(key) or "").strip()

    def webhook_refusal(self) -> str | None:
        """Why webhooks cannot be accepted now, or ``None``."""
        if not self.setting("WHATSAPP_APP_SECRET") and not allow_unsigned(self.app.settings):
            return (
                "WHATSAPP_APP_SECRET is not set, so webhook signatures cannot be checked; set it "
                "(or WHATSAPP_ALLOW_UNSIGNED=true outside production for local tests)"
            )
        return None

    def client(self) -> GraphClient:
        missing = [key for key in ("WHATSAPP_ACCESS_TOKEN", "WHATSAPP_PHONE_NUMBER_ID") if not self.setting(key)]
        if missing:
            raise self.not_configured_error(self.app.settings)
        return GraphClient(self.setting("WHATSAPP_API_URL"), self.setting("WHATSAPP_ACCESS_TOKEN"),
                           self.setting("WHATSAPP_PHONE_NUMBER_ID"))

    async def health(self) -> ComponentHealth:
        missing = self.missing_settings(self.app.settings)
        if "WHATSAPP_APP_SECRET" in missing and allow_unsigned(self.app.settings):
            missing.remove("WHATSAPP_APP_SECRET")
        if missing:
            return ComponentHealth.not_configured(f"set {', '.join(missing)}")
        return await self.client().health()

    async def send(self, message: OutboundMessage) -> SendResult:
        client = self.client()
        try:
            if in_service_window(message.metadata.get("last_guest_message_at")):
                try:
                    wamid = await client.send(message.guest_address, text_payload(message.body))
                    return SendResult(provider_message_id=wamid)
                except PermanentSendError as exc:
                    # Our clock and Meta's may disagree at the edge of the window.
                    if getattr(exc, "code", None) != REENGAGEMENT_REQUIRED:
                        raise
            return await self._send_template(client, message)
        except (TransientSendError, PermanentSendError) as exc:
            count_webhook_failure(self.app, self.name, "send_failure")
            log.warning("WhatsApp send of message %s failed: %s", message.message_id, exc)
            raise

    async def _send_template(self, client: GraphClient, message: OutboundMessage) -> SendResult:
        template = self.setting("WHATSAPP_TEMPLATE_NAME")
        last = message.metadata.get("last_guest_message_at") or "never"
        if not template:
            raise PermanentSendError(
                f"outside WhatsApp's 24-hour customer-service window (guest last wrote: {last}); WhatsApp only "
                "accepts an approved template now and WHATSAPP_TEMPLATE_NAME is not set"
            )
        language = self.setting("WHATSAPP_TEMPLATE_LANGUAGE") or "en_US"
        payload = {"type": "template", "template": {"name": template, "language": {"code": language}}}
        wamid = await client.send(message.guest_address, payload)
        return SendResult(provider_message_id=wamid, metadata={"template": template})


def text_payload(body: str) -> dict:
    return {"type": "text", "text": {"preview_url": False, "body": body}}


def in_service_window(last_guest_message_at: str | None, now: dt.datetime | None = None) -> bool:
    """True when the guest wrote less than 24 hours ago (ISO 8601; naive means UTC)."""
    if not last_guest_message_at:
        return False
    try:
        last = dt.datetime.fromisoformat(str(last_guest_message_at).replace("Z", "+00:00"))
    except ValueError:
        return False
    if last.tzinfo is None:
        last = last.replace(tzinfo=dt.UTC)
    return (now or dt.datetime.now(dt.UTC)) - last < SERVICE_WINDOW
