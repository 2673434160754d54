"""Hook implementations of the channel_whatsapp plugin."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from jack_channel_whatsapp.channel import WhatsappChannel
from jack_channel_whatsapp.settings import declared_settings
from jack_channel_whatsapp.webhook import WhatsappWebhook
from jack_host import hookimpl
from jack_host.interfaces import Channel

if TYPE_CHECKING:
    from jack_host.app import JackApp
    from jack_host.settings import Setting


@hookimpl
def jack_settings_validators() -> list[Setting]:
    return declared_settings()


@hookimpl
def jack_register_channels(register: Callable[[Channel], None], app: JackApp) -> None:
    register(WhatsappChannel(app))


@hookimpl
def jack_add_routes(app: JackApp) -> None:
    channel = app.channels.get("whatsapp")
    if isinstance(channel, WhatsappChannel):
        app.add_route("/webhooks/whatsapp", WhatsappWebhook(channel))
