"""Hook implementations of the channel_email plugin."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jack_channel_email.channel import EmailChannel
from jack_channel_email.imap import ImapReader
from jack_channel_email.settings import declared_settings
from jack_channel_email.tls_checks import doctor_checks
from jack_host import hookimpl
from jack_host.contract.interfaces import Channel, DoctorCheck
from jack_host.contract.services import Mailer

if TYPE_CHECKING:
    from jack_host.config.settings import Setting
    from jack_host.contract.app import App


@hookimpl
def jack_settings_validators() -> list[Setting]:
    return declared_settings()


@hookimpl
def jack_register_channels(register: Callable[[Channel], None], app: App) -> None:
    channel = EmailChannel(app)
    if str(app.settings.get("IMAP_HOST") or "").strip():
        channel.reader = ImapReader(app)
    register(channel)


def _reader(app: App) -> ImapReader | None:
    channel = app.channels.get("email")
    return channel.reader if isinstance(channel, EmailChannel) else None


@hookimpl
def jack_startup(app: App) -> None:
    reader = _reader(app)
    if reader is not None:
        reader.start()


@hookimpl
async def jack_shutdown(app: App) -> None:
    reader = _reader(app)
    if reader is not None:
        await reader.stop()


@hookimpl
def jack_register_services(provide: Callable[[type, Any], None], app: App) -> None:
    channel = app.channels.get("email")
    if isinstance(channel, EmailChannel):
        # The same sender answers guests, and sends alerts and staff notifications by e-mail.
        provide(Mailer, channel.sender)


@hookimpl
def jack_register_migrations(register: Callable[[Path], None]) -> None:
    # email_0001: the thread index (Message-ID -> conversation).
    register(Path(__file__).parent / "migrations")


@hookimpl
def jack_doctor_checks(app: App) -> list[DoctorCheck]:
    return doctor_checks(app)
