"""The ``phone`` alert route: pages an on-call number by SMS through the SMS channel's Twilio account,
and where ``ALERT_PHONE_CALLS`` is on, also rings it through Twilio's Calls resource, reading the alert.

Acknowledgements and resolutions are not texted: the phone is for waking someone up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from jack_channel_sms.channel import SmsChannel
from jack_channel_sms.twilio_api import PROVIDER, twilio_error
from jack_host.config.settings import Setting
from jack_host.contract.interfaces import (
    Alert,
    AlertRoute,
    ComponentHealth,
    NotConfiguredError,
    PermanentSendError,
)
from jack_host.kit.provider_http import post

if TYPE_CHECKING:
    from jack_host.contract.app import App

#: Two SMS segments at most: the rest is in `jack alerts list`.
MAX_SMS = 300


def alert_route_settings() -> list[Setting]:
    return [
        Setting("ALERT_PHONE_CALLS", bool, False, "phone contacts of oncall.yaml are also called (Twilio voice, from TWILIO_PHONE_NUMBER) and hear the alert"),
    ]


def sms_text(alert: Alert) -> str:
    alert_id = alert.details.get("alert_id")
    text = f"[Jack {alert.severity.upper()}] {alert.summary}"
    suffix = f" Ack: jack alerts ack {alert_id}" if alert_id else ""
    return text[: MAX_SMS - len(suffix)] + suffix


def call_twiml(alert: Alert) -> str:
    words = f"This is Jack, the hotel concierge system. A {alert.severity} alert. {alert.summary}"
    return f'<Response><Say>{escape(words)}</Say><Pause length="1"/><Say>{escape(words)}</Say></Response>'


class PhoneAlertRoute(AlertRoute):
    name = "phone"
    contact_type = "phone"

    def __init__(self, app: App):
        self.app = app

    def channel(self) -> SmsChannel:
        channel = self.app.channels.get("sms")
        if not isinstance(channel, SmsChannel):
            raise NotConfiguredError("the SMS channel is disabled: phone contacts are texted through it")
        return channel

    async def health(self) -> ComponentHealth:
        try:
            channel = self.channel()
        except NotConfiguredError as exc:
            return ComponentHealth.not_configured(str(exc))
        missing = channel.missing_settings(self.app.settings)
        if missing:
            return ComponentHealth.not_configured(f"phone alerts use the SMS channel's Twilio account: set {', '.join(missing)}")
        calls = " and calls" if self.app.settings.get("ALERT_PHONE_CALLS") else ""
        return ComponentHealth.connected(f"texts{calls} on-call numbers through the SMS channel's Twilio account")

    async def send(self, alert: Alert) -> None:
        raise NotConfiguredError("the phone route only pages phone contacts of oncall.yaml")

    async def page(self, alert: Alert, target: str, action: str) -> str:
        if action != "trigger":
            return f"{action}: phones are not told"
        channel = self.channel()
        client = channel.client()
        try:
            to = channel.normalise(target)
        except ValueError as exc:
            raise PermanentSendError(f"cannot text {target}: {exc}") from None
        form = {"To": to, "Body": sms_text(alert)}
        if channel.setting("TWILIO_MESSAGING_SERVICE_SID"):
            form["MessagingServiceSid"] = channel.setting("TWILIO_MESSAGING_SERVICE_SID")
        else:
            form["From"] = channel.setting("TWILIO_PHONE_NUMBER")
        sid = await client.send(form)
        result = f"SMS {sid}"
        if self.app.settings.get("ALERT_PHONE_CALLS"):
            result += "; " + await self.call(channel, to, alert)
        return result

    async def call(self, channel: SmsChannel, to: str, alert: Alert) -> str:
        """Ring ``to`` and read the alert; a failed call is reported, not retried (the SMS went out)."""
        caller = channel.setting("TWILIO_PHONE_NUMBER")
        if not caller:
            return "call not placed: TWILIO_PHONE_NUMBER is not set (a call needs a number to call from)"
        client = channel.client()
        url = f"{client.api_url}/2010-04-01/Accounts/{client.account_sid}/Calls.json"
        try:
            response = await post(url, PROVIDER, twilio_error, data={"To": to, "From": caller, "Twiml": call_twiml(alert)},
                                  auth=client.auth)
        except Exception as exc:  # the SMS is out: say what happened to the call instead of paging twice
            return f"call failed: {exc}"
        return f"call {response.json().get('sid', '?')}"
