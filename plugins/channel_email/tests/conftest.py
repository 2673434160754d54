"""Fixtures for the e-mail channel tests: one real SMTP server (aiosmtpd, AUTH + STARTTLS) for the session."""

from __future__ import annotations

import jack_channel_email.plugin
import pytest

from jack_host.testing import make_app
from jack_host.testing.mail_servers import LoopbackSMTP

HOTEL_FROM = "Hotel Mirador <concierge@hotel.example>"
FAST_RETRIES = {"OUTBOX_BACKOFF_SECONDS": "0.05", "OUTBOX_MAX_BACKOFF_SECONDS": "0.2", "OUTBOX_MAX_ATTEMPTS": "3"}


@pytest.fixture(scope="session")
def smtp_server(tmp_path_factory):
    with LoopbackSMTP(tmp_path_factory.mktemp("smtp")) as server:
        yield server


@pytest.fixture
def smtp(smtp_server):
    """The shared server, emptied and with no scripted refusals left over."""
    with smtp_server._lock:
        smtp_server.received.clear()
        smtp_server.envelopes.clear()
        smtp_server._failures.clear()
    return smtp_server


@pytest.fixture
def make_email_app(tmp_path, smtp):
    def build(**overrides: str | None):
        env = {**smtp.env(), "SMTP_FROM": HOTEL_FROM, "HOTEL_NAME": "Hotel Mirador", **FAST_RETRIES, **overrides}
        return make_app(tmp_path, plugins=[("channel_email", jack_channel_email.plugin)],
                        env={k: v for k, v in env.items() if v is not None})

    return build


@pytest.fixture(scope="session")
def dovecot_server(tmp_path_factory):
    from jack_host.testing.mail_servers import Dovecot, dovecot_installed

    if not dovecot_installed():
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd; scripts/test installs it)")
    with Dovecot(tmp_path_factory.mktemp("dovecot")) as server:
        yield server


@pytest.fixture
def dovecot(dovecot_server):
    """The shared IMAP server with an empty mailbox."""
    dovecot_server.clear()
    return dovecot_server


@pytest.fixture
def make_mail_app(make_email_app, dovecot):
    """An app that reads the dovecot mailbox (polling fast) and answers through the loopback SMTP server."""
    def build(**overrides: str | None):
        return make_email_app(**{**dovecot.env(), "IMAP_POLL_SECONDS": "0.1", **overrides})

    return build
