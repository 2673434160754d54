"""WhatsApp Business Cloud API channel: the channel object."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jack_host.interfaces import Channel, ComponentHealth, NotConfiguredError, OutboundMessage, SendResult

if TYPE_CHECKING:
    from jack_host.app import JackApp


class WhatsappChannel(Channel):
    name = "whatsapp"
    required_settings = ('WHATSAPP_ACCESS_TOKEN', 'WHATSAPP_PHONE_NUMBER_ID', 'WHATSAPP_APP_SECRET', 'WHATSAPP_VERIFY_TOKEN')

    def __init__(self, app: JackApp):
        self.app = app

    async def health(self) -> ComponentHealth:
        return ComponentHealth.not_configured("this channel is not available yet in this version")

    async def send(self, message: OutboundMessage) -> SendResult:
        raise NotConfiguredError("channel 'whatsapp' is not available yet in this version; messages cannot be sent on it")
