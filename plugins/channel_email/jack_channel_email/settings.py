"""The settings of the e-mail channel (SMTP out, IMAP in)."""

from __future__ import annotations

import email.utils
from pathlib import Path

from jack_host.config.settings import Setting

SECURITY = ("", "starttls", "tls", "none")


def _check_file(value: str) -> str | None:
    if value and not Path(value).is_file():
        return f"a readable PEM file (no file at {value})"
    return None


def _check_sender(value: str) -> str | None:
    address = email.utils.parseaddr(value or "")[1]
    if value and ("@" not in address or " " in address):
        return "an e-mail address, optionally with a name: Hotel Mirador <concierge@hotel.example>"
    return None


#: RFC 2177: servers may end an IDLE after 30 minutes; renew it before that.
MAX_IDLE_SECONDS = 29 * 60


def _check_idle_seconds(value: float) -> str | None:
    if value is not None and value > MAX_IDLE_SECONDS:
        return f"at most {MAX_IDLE_SECONDS} (29 minutes): servers drop an IDLE after 30 minutes"
    return None


def _check_folder(value: str) -> str | None:
    if value and (any(ord(c) < 32 for c in value) or value.strip() != value):
        return "an IMAP folder name such as Processed or INBOX/Jack, without control characters or edge spaces"
    return None


def declared_settings() -> list[Setting]:
    return [
        Setting("SMTP_HOST", str, "", "the SMTP server Jack sends e-mail through, e.g. smtp.gmail.com"),
        Setting("SMTP_PORT", int, 587, "587 (STARTTLS) or 465 (implicit TLS)", minimum=1),
        Setting("SMTP_USER", str, "", "the SMTP login"),
        Setting("SMTP_PASSWORD", str, "", "the SMTP password (an app password for Gmail)", secret=True),
        Setting("SMTP_FROM", str, "", "the sender, e.g. 'Hotel Mirador <concierge@hotel.example>'; default SMTP_USER",
                check=_check_sender),
        Setting("SMTP_SECURE", str, "", "starttls, tls (implicit, port 465) or none (tests only); empty: by port",
                choices=SECURITY),
        Setting("SMTP_TLS_CA_FILE", str, "", "a PEM file of CAs to trust for the SMTP server (a private CA)",
                check=_check_file),
        Setting("SMTP_TLS_VERIFY", bool, True, "check the SMTP server's certificate; false only for tests"),
        Setting("SMTP_TIMEOUT_SECONDS", float, 20.0, "connect and reply timeout for SMTP", minimum=1),
        Setting("IMAP_HOST", str, "", "the IMAP server Jack reads guest e-mail from; empty: no inbound e-mail"),
        Setting("IMAP_PORT", int, 993, "993 (implicit TLS) or 143 (STARTTLS)", minimum=1),
        Setting("IMAP_USER", str, "", "the IMAP login"),
        Setting("IMAP_PASSWORD", str, "", "the IMAP password", secret=True),
        Setting("IMAP_FOLDER", str, "INBOX", "the folder Jack reads", check=_check_folder),
        Setting("IMAP_PROCESSED_FOLDER", str, "",
                "move each mail here once it is stored (created if missing); empty: flag it seen and leave it",
                check=_check_folder),
        Setting("IMAP_IDLE", bool, True, "wait for new mail with IMAP IDLE when the server offers it; false: poll"),
        Setting("IMAP_IDLE_SECONDS", float, 1500.0, "how long one IDLE lasts before Jack renews it (at most 29 minutes)",
                minimum=0.1, check=_check_idle_seconds),
        Setting("IMAP_SECURE", str, "", "starttls, tls or none (tests only); empty: by port", choices=SECURITY),
        Setting("IMAP_TLS_CA_FILE", str, "", "a PEM file of CAs to trust for the IMAP server", check=_check_file),
        Setting("IMAP_TLS_VERIFY", bool, True, "check the IMAP server's certificate; false only for tests"),
        Setting("IMAP_POLL_SECONDS", float, 60.0, "how often Jack looks for new mail when the server has no IDLE (or IMAP_IDLE=false)", minimum=0.05),
        Setting("EMAIL_REPLIES_PER_HOUR", int, 10, "most replies Jack sends one address in an hour (stops mail loops)",
                minimum=1),
    ]


def security(mode: str, port: int, implicit_port: int) -> str:
    """``starttls``, ``tls`` or ``none``: the setting, or by port when it is empty."""
    mode = (mode or "").strip().lower()
    if mode:
        return mode
    return "tls" if port == implicit_port else "starttls"
