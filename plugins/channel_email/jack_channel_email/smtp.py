"""The SMTP sender (aiosmtplib): one connection per mail, STARTTLS or implicit TLS, errors sorted for the outbox."""

from __future__ import annotations

import email.utils
import logging
import ssl
from email.message import EmailMessage
from typing import TYPE_CHECKING

import aiosmtplib

from jack_channel_email.compose import compose, format_sender
from jack_channel_email.settings import security
from jack_host.contract.interfaces import (
    ComponentHealth,
    NotConfiguredError,
    PermanentSendError,
    TransientSendError,
)

if TYPE_CHECKING:
    from jack_host.contract.app import App

log = logging.getLogger("jack.email")
REQUIRED = ("SMTP_HOST", "SMTP_USER", "SMTP_PASSWORD")


def tls_context(ca_file: str, verify: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_file or None)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def describe(exc: Exception) -> str:
    """The server's reply (``550 5.1.1 no such user``) or what went wrong on the wire, in one line."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{exc.code} {' '.join(str(exc.message).split())}"
    return " ".join(str(exc).split()) or type(exc).__name__


def is_transient(exc: Exception) -> bool:
    if isinstance(exc, aiosmtplib.SMTPNotSupported):  # no AUTH or no STARTTLS: a setting to fix, not a moment
        return False
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(400 <= r.code < 500 for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException) and not isinstance(exc, aiosmtplib.SMTPConnectResponseError):
        return 400 <= exc.code < 500
    # Refused or lost connections, timeouts: the server may be back later.
    return isinstance(exc, (aiosmtplib.SMTPException, OSError, TimeoutError))


class SmtpSender:
    """Jack's SMTP sender: the channel's outbound path and the contract's ``Mailer`` service."""

    def __init__(self, app: App):
        self.app = app
        #: The outcome of the last login (a send or a health check): ``None`` until one was tried.
        self.last_login: ComponentHealth | None = None

    def setting(self, key: str) -> str:
        return str(self.app.settings.get(key) or "").strip()

    def missing(self) -> list[str]:
        return [key for key in REQUIRED if not self.setting(key)]

    def is_configured(self) -> bool:
        return not self.missing()

    @property
    def sender(self) -> str:
        return format_sender(self.setting("SMTP_FROM"), self.setting("SMTP_USER"))

    def security(self) -> str:
        return security(self.setting("SMTP_SECURE"), int(self.app.settings.get("SMTP_PORT") or 587), 465)

    def _client(self) -> aiosmtplib.SMTP:
        if self.missing():
            raise NotConfiguredError(f"e-mail is not configured: set {', '.join(self.missing())} in .env or the environment")
        mode = self.security()
        verify = bool(self.app.settings.get("SMTP_TLS_VERIFY", True))
        return aiosmtplib.SMTP(
            hostname=self.setting("SMTP_HOST"),
            port=int(self.app.settings.get("SMTP_PORT") or 587),
            username=self.setting("SMTP_USER"),
            password=self.setting("SMTP_PASSWORD"),
            use_tls=mode == "tls",
            start_tls=True if mode == "starttls" else False,
            validate_certs=verify,
            tls_context=tls_context(self.setting("SMTP_TLS_CA_FILE"), verify) if mode != "none" else None,
            timeout=float(self.app.settings.get("SMTP_TIMEOUT_SECONDS") or 20),
        )

    async def deliver(self, message: EmailMessage) -> None:
        """Hand ``message`` to the SMTP server.

        :raises TransientSendError: 4xx, refused or lost connection, timeout (the outbox retries).
        :raises PermanentSendError: 5xx, with the server's reply.
        """
        client = self._client()
        try:
            async with client:  # connect, STARTTLS, AUTH: aiosmtplib does them in that order
                self.last_login = ComponentHealth.connected(self._where())
                await client.send_message(message)
        except aiosmtplib.SMTPAuthenticationError as exc:
            self.last_login = ComponentHealth.error(f"SMTP login refused: {describe(exc)}")
            raise PermanentSendError(f"SMTP login refused by {self._where()}: {describe(exc)}") from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            if isinstance(exc, ssl.SSLCertVerificationError) or not is_transient(exc):
                raise PermanentSendError(f"SMTP server {self._where()} refused the mail: {describe(exc)}") from None
            if not isinstance(exc, aiosmtplib.SMTPResponseException):
                self.last_login = ComponentHealth.error(f"cannot reach {self._where()}: {describe(exc)}")
            raise TransientSendError(f"SMTP server {self._where()} said: {describe(exc)}") from None

    def _where(self) -> str:
        return f"{self.setting('SMTP_HOST')}:{self.app.settings.get('SMTP_PORT') or 587}"

    async def send_mail(self, to: str, subject: str, text: str, *, html: str | None = None,
                        headers: dict[str, str] | None = None) -> str:
        """Send one mail (text + HTML) from ``SMTP_FROM``; returns its ``Message-ID``."""
        thread = dict(headers or {})
        in_reply_to = thread.pop("In-Reply-To", None)
        references = thread.pop("References", "").split() or None
        message = compose(sender=self.sender, to=to, subject=subject, text=text, html_text=html,
                          in_reply_to=in_reply_to, references=references, headers=thread)
        await self.deliver(message)
        return str(message["Message-ID"])

    async def check_login(self) -> ComponentHealth:
        """Connect and log in (no mail sent); the result is also kept in ``last_login``."""
        if self.missing():
            return ComponentHealth.not_configured(f"set {', '.join(self.missing())}")
        try:
            client = self._client()
            async with client:
                pass
        except aiosmtplib.SMTPAuthenticationError as exc:
            self.last_login = ComponentHealth.error(f"SMTP login refused by {self._where()}: {describe(exc)}")
        except (aiosmtplib.SMTPException, OSError, TimeoutError, ssl.SSLError, ValueError) as exc:
            self.last_login = ComponentHealth.error(f"SMTP {self._where()}: {describe(exc)}")
        else:
            self.last_login = ComponentHealth.connected(f"SMTP {self._where()} ({self.security()}) as {self.setting('SMTP_USER')}")
        return self.last_login


def address_of(value: str) -> str:
    return email.utils.parseaddr(value)[1].lower()
