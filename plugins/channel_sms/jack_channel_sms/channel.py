"""SMS channel through Twilio: the channel object."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jack_host.interfaces import Channel, ComponentHealth, NotConfiguredError, OutboundMessage, SendResult

if TYPE_CHECKING:
    from jack_host.app import JackApp


class SmsChannel(Channel):
    name = "sms"
    required_settings = ('TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_PHONE_NUMBER')

    def __init__(self, app: JackApp):
        self.app = app

    async def health(self) -> ComponentHealth:
        return ComponentHealth.not_configured("this channel is not available yet in this version")

    async def send(self, message: OutboundMessage) -> SendResult:
        raise NotConfiguredError("channel 'sms' is not available yet in this version; messages cannot be sent on it")
