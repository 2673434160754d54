"""``jack doctor``: is the SMTP (and IMAP) connection encrypted, with a certificate that checks out?

Doctor runs without a server or event loop, so the probe uses the standard library's
``smtplib``/``imaplib`` for the TLS handshake only (no login, no mail).
"""

from __future__ import annotations

import imaplib
import smtplib
import ssl
from typing import TYPE_CHECKING

from jack_channel_email.settings import security
from jack_channel_email.smtp import tls_context
from jack_host.contract.interfaces import DoctorCheck

if TYPE_CHECKING:
    from jack_host.contract.app import App

PROBE_TIMEOUT = 8.0
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _text(app: App, key: str) -> str:
    return str(app.settings.get(key) or "").strip()


def _describe_tls(sock: ssl.SSLSocket) -> str:
    cert = sock.getpeercert() or {}
    subject = dict(item[0] for item in cert.get("subject", ())) if cert else {}
    who = subject.get("commonName", "certificate not checked")
    expires = cert.get("notAfter")
    return f"{sock.version()}, {who}" + (f", valid until {expires}" if expires else "")


def probe_smtp(host: str, port: int, mode: str, context: ssl.SSLContext) -> str:
    """The TLS version and certificate the server shows; raises on any failure."""
    if mode == "tls":
        with smtplib.SMTP_SSL(host, port, context=context, timeout=PROBE_TIMEOUT) as client:
            return _describe_tls(client.sock)  # type: ignore[arg-type]
    with smtplib.SMTP(host, port, timeout=PROBE_TIMEOUT) as client:
        client.ehlo()
        if not client.has_extn("starttls"):
            raise ssl.SSLError("the server does not offer STARTTLS")
        client.starttls(context=context)
        return _describe_tls(client.sock)  # type: ignore[arg-type]


def probe_imap(host: str, port: int, mode: str, context: ssl.SSLContext) -> str:
    if mode == "tls":
        client: imaplib.IMAP4 = imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=PROBE_TIMEOUT)
    else:
        client = imaplib.IMAP4(host, port, timeout=PROBE_TIMEOUT)
        client.starttls(ssl_context=context)
    try:
        return _describe_tls(client.sock)  # type: ignore[arg-type]
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def _check(app: App, kind: str, default_port: int, implicit_port: int) -> list[DoctorCheck]:
    host = _text(app, f"{kind}_HOST")
    port = int(app.settings.get(f"{kind}_PORT") or default_port)
    mode = security(_text(app, f"{kind}_SECURE"), port, implicit_port)
    verify = bool(app.settings.get(f"{kind}_TLS_VERIFY", True))
    name = f"E-mail {kind} over TLS"
    checks = []
    if mode == "none":
        local = host in LOOPBACK
        checks.append(DoctorCheck(name, False, f"{kind}_SECURE=none: the password and guests' mail cross the network unencrypted",
                                  f"set {kind}_SECURE=starttls (port {default_port}) or tls (port {implicit_port})",
                                  must_fix=not local))
        return checks
    try:
        detail = (probe_smtp if kind == "SMTP" else probe_imap)(host, port, mode, tls_context(_text(app, f"{kind}_TLS_CA_FILE"), verify))
        checks.append(DoctorCheck(name, True, f"{host}:{port} {mode}: {detail}"))
    except (TimeoutError, OSError, smtplib.SMTPException, imaplib.IMAP4.error) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        fix = (f"set {kind}_TLS_CA_FILE to the CA that signed the server's certificate" if isinstance(exc, ssl.SSLCertVerificationError)
               else f"check {kind}_HOST, {kind}_PORT and {kind}_SECURE ({'starttls' if mode == 'starttls' else 'tls'} on {host}:{port})")
        checks.append(DoctorCheck(name, False, f"{host}:{port} {mode}: {reason}", fix))
    if not verify:
        checks.append(DoctorCheck(f"E-mail {kind} certificate checked", False,
                                  f"{kind}_TLS_VERIFY=false: any server can pretend to be {host}",
                                  f"remove {kind}_TLS_VERIFY (or set {kind}_TLS_CA_FILE for a private CA)", must_fix=False))
    return checks


def doctor_checks(app: App) -> list[DoctorCheck]:
    if not _text(app, "SMTP_HOST"):
        return [DoctorCheck("E-mail SMTP over TLS", True, "e-mail is not set up (SMTP_HOST is empty)", must_fix=False)]
    checks = _check(app, "SMTP", 587, 465)
    if _text(app, "IMAP_HOST"):
        checks += _check(app, "IMAP", 993, 993)
    return checks
