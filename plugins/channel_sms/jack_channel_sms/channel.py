"""SMS channel through Twilio: the channel object (sending, opt-out enforcement, cost, health)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from jack_channel_sms import opt_outs
from jack_channel_sms.segments import count_segments, encoding
from jack_channel_sms.twilio_api import UNSUBSCRIBED_RECIPIENT, TwilioClient
from jack_host.contract.interfaces import (
    Channel,
    ComponentHealth,
    OutboundMessage,
    PermanentSendError,
    SendResult,
    TransientSendError,
)
from jack_host.contract.services import Costs
from jack_host.kit.phone import InvalidPhoneNumber, normalise_phone
from jack_host.kit.webhook_metrics import count_webhook_failure

if TYPE_CHECKING:
    from jack_host.contract.app import App

log = logging.getLogger("jack.sms")
#: Twilio's US rate, used when the costs feature is disabled.
DEFAULT_COST_PER_SEGMENT = 0.0075
STATUS_PATH = "/webhooks/sms/status"


class SmsChannel(Channel):
    name = "sms"
    required_settings = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")

    def __init__(self, app: App):
        self.app = app
        #: The public base URL Twilio last reached us at (a signed request proved it), used for
        #: StatusCallback when PUBLIC_URL is not set.
        self.seen_public_url: str | None = None

    def setting(self, key: str) -> str:
        return str(self.app.settings.get(key) or "").strip()

    def missing_settings(self, settings: object) -> list[str]:
        missing = super().missing_settings(settings)
        if not self.setting("TWILIO_PHONE_NUMBER") and not self.setting("TWILIO_MESSAGING_SERVICE_SID"):
            missing.append("TWILIO_PHONE_NUMBER (or TWILIO_MESSAGING_SERVICE_SID)")
        return missing

    def client(self) -> TwilioClient:
        if self.missing_settings(self.app.settings):
            raise self.not_configured_error(self.app.settings)
        return TwilioClient(self.setting("TWILIO_API_URL"), self.setting("TWILIO_ACCOUNT_SID"), self.setting("TWILIO_AUTH_TOKEN"))

    def normalise(self, phone: str) -> str:
        return normalise_phone(phone, self.app.settings.get("DEFAULT_COUNTRY_CODE"))

    def cost_per_segment(self) -> float:
        """USD per segment from the ``Costs`` service (``costs.sms.per_message_cost``), if the costs feature is on."""
        costs = self.app.services.find(Costs)
        return costs.sms_cost_per_segment() if costs is not None else DEFAULT_COST_PER_SEGMENT

    def status_callback(self) -> str | None:
        base = str(self.app.settings.get("PUBLIC_URL") or "").rstrip("/") or self.seen_public_url
        return base + STATUS_PATH if base else None

    async def health(self) -> ComponentHealth:
        missing = self.missing_settings(self.app.settings)
        if missing:
            return ComponentHealth.not_configured(f"set {', '.join(missing)}")
        return await self.client().health()

    async def send(self, message: OutboundMessage) -> SendResult:
        client = self.client()
        try:
            to = self.normalise(message.guest_address)
        except InvalidPhoneNumber as exc:
            raise PermanentSendError(f"cannot send SMS: {exc}") from None
        if opt_outs.is_opted_out(self.app.engine, to):
            raise PermanentSendError("guest opted out of SMS")
        form = {"To": to, "Body": message.body}
        if self.setting("TWILIO_MESSAGING_SERVICE_SID"):
            form["MessagingServiceSid"] = self.setting("TWILIO_MESSAGING_SERVICE_SID")
        else:
            form["From"] = self.setting("TWILIO_PHONE_NUMBER")
        callback = self.status_callback()
        if callback:
            form["StatusCallback"] = callback
        else:
            log.warning("PUBLIC_URL is not set: SMS delivery reports cannot be requested for message %s", message.message_id)
        try:
            sid = await client.send(form)
        except (TransientSendError, PermanentSendError) as exc:
            count_webhook_failure(self.app, self.name, "send_failure")
            if getattr(exc, "code", None) == UNSUBSCRIBED_RECIPIENT:
                opt_outs.record_refusal(self.app.engine, to)
                raise PermanentSendError("guest opted out of SMS") from None
            log.warning("SMS send of message %s failed: %s", message.message_id, exc)
            raise
        segments = count_segments(message.body)
        cost = round(segments * self.cost_per_segment(), 6)
        return SendResult(provider_message_id=sid,
                          metadata={"sms": {"segments": segments, "cost_usd": cost, "encoding": encoding(message.body)}})
