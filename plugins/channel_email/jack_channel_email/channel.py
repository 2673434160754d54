"""E-mail channel (SMTP out, IMAP/webhook in): the channel object."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jack_host.contract.interfaces import (
    Channel,
    ComponentHealth,
    NotConfiguredError,
    OutboundMessage,
    SendResult,
)

if TYPE_CHECKING:
    from jack_host.contract.app import App


class EmailChannel(Channel):
    name = "email"
    required_settings = ('SMTP_HOST', 'SMTP_USER', 'SMTP_PASSWORD')

    def __init__(self, app: App):
        self.app = app

    async def health(self) -> ComponentHealth:
        return ComponentHealth.not_configured("this channel is not available yet in this version")

    async def send(self, message: OutboundMessage) -> SendResult:
        raise NotConfiguredError("channel 'email' is not available yet in this version; messages cannot be sent on it")
