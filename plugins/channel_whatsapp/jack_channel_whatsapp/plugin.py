"""Hook implementations of the channel_whatsapp plugin."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from jack_channel_whatsapp.channel import WhatsappChannel
from jack_host import hookimpl
from jack_host.interfaces import Channel

if TYPE_CHECKING:
    from jack_host.app import JackApp


@hookimpl
def jack_register_channels(register: Callable[[Channel], None], app: JackApp) -> None:
    register(WhatsappChannel(app))
