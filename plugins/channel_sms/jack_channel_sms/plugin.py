"""Hook implementations of the channel_sms plugin."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from jack_channel_sms.channel import STATUS_PATH, SmsChannel
from jack_channel_sms.settings import declared_settings
from jack_channel_sms.webhook import SmsStatusWebhook, SmsWebhook
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
    register(SmsChannel(app))


@hookimpl
def jack_add_routes(app: JackApp) -> None:
    channel = app.channels.get("sms")
    if isinstance(channel, SmsChannel):
        app.add_route("/webhooks/sms", SmsWebhook(channel))
        app.add_route(STATUS_PATH, SmsStatusWebhook(channel))
