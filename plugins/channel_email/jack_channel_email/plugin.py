"""Hook implementations of the channel_email plugin."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from jack_channel_email.channel import EmailChannel
from jack_host import hookimpl
from jack_host.contract.interfaces import Channel

if TYPE_CHECKING:
    from jack_host.contract.app import App


@hookimpl
def jack_register_channels(register: Callable[[Channel], None], app: App) -> None:
    register(EmailChannel(app))
