"""Building the e-mails Jack sends: text + HTML parts in UTF-8, threading headers, one ``Re:``."""

from __future__ import annotations

import email.policy
import email.utils
import html
import re
from email.headerregistry import Address
from email.message import EmailMessage

#: ``Re:``, ``RE :``, ``Re[2]:``, ``AW:``, ``SV:`` (German and Nordic clients) at the start of a subject.
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|antw)\s*(?:\[\d+\])?\s*[:：]\s*)+", re.IGNORECASE)


def reply_subject(subject: str | None) -> str:
    """``Re: <subject>`` with any reply prefixes the guest's client added folded into one."""
    bare = _REPLY_PREFIX.sub("", " ".join((subject or "").split()))
    return f"Re: {bare}" if bare else "Re: your message"


def html_body(text: str) -> str:
    """A simple HTML part: paragraphs and line breaks, escaped, direction left to the reader (RTL-safe)."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    inner = "\n".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return ('<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n'
            f'<body dir="auto" style="font-family: sans-serif">\n{inner}\n</body></html>\n')


def sender_domain(sender: str) -> str:
    address = email.utils.parseaddr(sender)[1]
    return address.rpartition("@")[2] or "jack.invalid"


def compose(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html_text: str | None = None,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """One mail with a plain-text and an HTML alternative; returns it with its ``Message-ID`` set."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = email.utils.make_msgid(domain=sender_domain(sender))
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = " ".join(references)
    # Jack's own answers are automatic replies (RFC 3834), so well-behaved responders stay quiet.
    message["Auto-Submitted"] = "auto-replied" if in_reply_to else "auto-generated"
    for key, value in (headers or {}).items():
        message[key] = value
    message.set_content(text, charset="utf-8")
    message.add_alternative(html_text or html_body(text), subtype="html", charset="utf-8")
    return message


def format_sender(value: str, fallback: str) -> str:
    """``SMTP_FROM`` as a header value (``Name <addr>`` or ``addr``), else ``fallback`` (the login)."""
    name, address = email.utils.parseaddr(value or fallback)
    if not address or "@" not in address:
        raise ValueError(f"SMTP_FROM must be an e-mail address such as 'Hotel <concierge@hotel.example>', got {value!r}")
    return str(Address(display_name=name, addr_spec=address)) if name else address
