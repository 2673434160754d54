"""Hook implementations of the channel_sms plugin."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from jack_channel_sms.alert_route import PhoneAlertRoute, alert_route_settings
from jack_channel_sms.channel import STATUS_PATH, SmsChannel
from jack_channel_sms.settings import declared_settings
from jack_channel_sms.webhook import SmsStatusWebhook, SmsWebhook
from jack_host import hookimpl
from jack_host.contract.interfaces import AlertRoute, Channel, DoctorCheck

if TYPE_CHECKING:
    from jack_host.config.settings import Setting
    from jack_host.contract.app import App


@hookimpl
def jack_settings_validators() -> list[Setting]:
    return [*declared_settings(), *alert_route_settings()]


@hookimpl
def jack_register_channels(register: Callable[[Channel], None], app: App) -> None:
    register(SmsChannel(app))


@hookimpl
def jack_register_alert_routes(register: Callable[[AlertRoute], None], app: App) -> None:
    register(PhoneAlertRoute(app))


@hookimpl
def jack_register_migrations(register: Callable[[Path], None]) -> None:
    # sms_0001 makes the opt-out tables and moves the opt-outs kept in jack_state before 0.2.
    register(Path(__file__).parent / "migrations")


@hookimpl
def jack_add_routes(app: App) -> None:
    channel = app.channels.get("sms")
    if isinstance(channel, SmsChannel):
        app.add_route("/webhooks/sms", SmsWebhook(channel))
        app.add_route(STATUS_PATH, SmsStatusWebhook(channel))


@hookimpl
def jack_doctor_checks(app: App) -> list[DoctorCheck]:
    settings = app.settings
    if not settings.get("TWILIO_ACCOUNT_SID"):
        return [DoctorCheck("SMS webhook secret", True, "SMS is not set up", must_fix=False)]
    token = bool(settings.get("TWILIO_AUTH_TOKEN"))
    public_url = str(settings.get("PUBLIC_URL") or "")
    return [
        DoctorCheck(
            "SMS webhook secret",
            token,
            "TWILIO_AUTH_TOKEN is set: webhooks are verified" if token else "TWILIO_AUTH_TOKEN is empty: webhooks are refused",
            "copy the Auth Token from the Twilio console into TWILIO_AUTH_TOKEN",
        ),
        DoctorCheck(
            "SMS signatures checked against the public URL",
            public_url.startswith("https://"),
            f"PUBLIC_URL={public_url}" if public_url else "PUBLIC_URL is not set: the URL is rebuilt from proxy headers",
            "set PUBLIC_URL to the https:// address Twilio calls, so signatures match behind the proxy",
            must_fix=False,
        ),
    ]
