"""Hook implementations of the channel_whatsapp plugin."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from jack_channel_whatsapp.channel import WhatsappChannel
from jack_channel_whatsapp.settings import declared_settings
from jack_channel_whatsapp.webhook import WhatsappWebhook
from jack_host import hookimpl
from jack_host.contract.interfaces import Channel, DoctorCheck

if TYPE_CHECKING:
    from jack_host.config.settings import Setting
    from jack_host.contract.app import App

@hookimpl
def jack_settings_validators() -> list[Setting]:
    return declared_settings()


@hookimpl
def jack_register_channels(register: Callable[[Channel], None], app: App) -> None:
    register(WhatsappChannel(app))


@hookimpl
def jack_add_routes(app: App) -> None:
    channel = app.channels.get("whatsapp")
    if isinstance(channel, WhatsappChannel):
        app.add_route("/webhooks/whatsapp", WhatsappWebhook(channel))


@hookimpl
def jack_doctor_checks(app: App) -> list[DoctorCheck]:
    settings = app.settings
    in_use = bool(settings.get("WHATSAPP_ACCESS_TOKEN") or settings.get("WHATSAPP_PHONE_NUMBER_ID"))
    if not in_use:
        return [DoctorCheck("WhatsApp webhook secret", True, "WhatsApp is not set up", must_fix=False)]
    secret = bool(settings.get("WHATSAPP_APP_SECRET"))
    unsigned = bool(settings.get("WHATSAPP_ALLOW_UNSIGNED"))
    return [
        DoctorCheck(
            "WhatsApp webhook secret",
            secret,
            "WHATSAPP_APP_SECRET is set: webhooks are verified" if secret else "WHATSAPP_APP_SECRET is empty: webhooks are refused",
            "copy the App Secret from the Meta app dashboard (Settings > Basic) into WHATSAPP_APP_SECRET",
        ),
        DoctorCheck(
            "WhatsApp verify token",
            bool(settings.get("WHATSAPP_VERIFY_TOKEN")),
            "WHATSAPP_VERIFY_TOKEN is set" if settings.get("WHATSAPP_VERIFY_TOKEN") else "WHATSAPP_VERIFY_TOKEN is empty",
            "set WHATSAPP_VERIFY_TOKEN to a random string and enter the same one when registering the webhook",
        ),
        DoctorCheck(
            "WhatsApp unsigned webhooks off",
            not unsigned,
            "WHATSAPP_ALLOW_UNSIGNED=true" if unsigned else "only signed webhooks are accepted",
            "remove WHATSAPP_ALLOW_UNSIGNED: anyone could post fake guest messages",
            must_fix=settings.is_production,
        ),
    ]
