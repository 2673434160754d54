"""The web chat as a :class:`~jack_host.contract.interfaces.Channel`: replies go to every open tab of the session."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from jack_channel_webchat.service import WebchatService
from jack_host.contract.interfaces import Channel, ComponentHealth, OutboundMessage, SendResult

if TYPE_CHECKING:
    from jack_host.contract.app import App


class WebchatChannel(Channel):
    name = "webchat"
    required_settings = ()

    def __init__(self, app: App):
        self.app = app

    @property
    def service(self) -> WebchatService:
        return WebchatService.of(self.app)

    async def health(self) -> ComponentHealth:
        service = self.service
        if service.pipeline is None:
            return ComponentHealth.error("the conversation pipeline is not loaded; guest messages cannot be stored")
        if not service.serving:
            return ComponentHealth.not_configured("the server has not started")
        return ComponentHealth.connected(f"{service.connections.total} open chats")

    async def show_typing(self, guest_address: str, active: bool) -> None:
        await self.service.connections.push(guest_address, {"type": "typing", "active": active})

    async def send(self, message: OutboundMessage) -> SendResult:
        """Push the reply to every open tab; with none open it waits in the history for the next visit."""
        frame = {
            "type": "message",
            "id": message.message_id,
            "sender": message.sender,
            "body": message.body,
            "created_at": dt.datetime.now(dt.UTC).isoformat(),
            "status": "sent",
            "client_id": None,
        }
        tabs = await self.service.connections.push(message.guest_address, frame)
        return SendResult(
            provider_message_id=f"webchat-{message.message_id}",
            status="delivered" if tabs else "sent",
            metadata={"webchat": {"tabs": tabs}},
        )
