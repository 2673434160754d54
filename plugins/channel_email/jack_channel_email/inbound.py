"""Reading one guest mail: is it automatic (never answered), what is the new text, what came with it."""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import logging
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

log = logging.getLogger("jack.email")
#: Kept whole for staff in the message's metadata, up to this many characters.
ORIGINAL_LIMIT = 100_000
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")
_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pl", "sv", "da", "ja", "zh", "ko"]


@dataclass
class GuestMail:
    message_id: str
    sender: str
    sender_name: str | None
    subject: str
    text: str
    #: Message-IDs this mail answers, the direct parent first.
    parents: list[str]
    references: list[str]
    automatic: str | None
    metadata: dict[str, Any] = field(default_factory=dict)


def message_ids(value: str | None) -> list[str]:
    return _MESSAGE_ID.findall(str(value or ""))


def automatic_reason(mail: EmailMessage, sender: str) -> str | None:
    """Why this mail must never be answered (an auto-reply, a bounce, a list), or ``None``."""
    auto = str(mail.get("Auto-Submitted", "")).strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = str(mail.get("Precedence", "")).strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    for header in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"):
        if header in mail and (header != "X-Auto-Response-Suppress" or "all" in str(mail[header]).lower()):
            return f"{header} header"
    if "List-Id" in mail or "List-Unsubscribe" in mail:
        return "a mailing list"
    local = sender.partition("@")[0].lower()
    if local in _DAEMONS or not sender:
        return f"sent by {sender or 'an empty sender (a bounce)'}"
    if mail.get_content_type() == "multipart/report":
        return "a delivery report"
    return None


def html_to_text(html: str) -> str:
    import html2text  # only for HTML-only mail

    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    converter.ignore_links = False
    # Markdown escapes and hard-break spaces mean nothing to a reader, and would hide a "-- " signature line.
    lines = [re.sub(r"^\\(?=[-+#>*])", "", line.rstrip()) for line in converter.handle(html).splitlines()]
    return "\n".join(lines).strip()


def new_text(text: str) -> str:
    """The guest's new words: quoted history and signature removed (mail-parser-reply)."""
    from mailparser_reply import EmailReplyParser

    try:
        replies = EmailReplyParser(languages=_LANGUAGES).read(text=text).replies
        body = replies[0].body.strip() if replies else ""
    except Exception:  # a parser bug must not lose the mail: keep the whole text
        log.exception("could not strip the quoted text of a mail")
        body = ""
    body = body or text.strip()
    # A quote at the end with no "On ... wrote:" line before it (some clients, forwarded replies).
    lines = body.splitlines()
    while lines and (lines[-1].startswith(">") or not lines[-1].strip()):
        lines.pop()
    return "\n".join(lines).strip() or body


def read_mail(raw: bytes) -> GuestMail:
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(mail, EmailMessage)
    name, sender = email.utils.parseaddr(str(mail.get("From", "")))
    sender = sender.strip().lower()
    ids = message_ids(mail.get("Message-ID"))
    # Without a Message-ID the raw bytes are the identity: the same mail polled twice hashes the same.
    message_id = ids[0] if ids else f"<sha256.{hashlib.sha256(raw).hexdigest()}@jack.invalid>"
    subject = " ".join(str(mail.get("Subject", "")).split())
    plain = mail.get_body(("plain",))
    html_part = mail.get_body(("html",))
    if plain is not None:
        full = plain.get_content()
        source = "text"
    elif html_part is not None:
        full = html_to_text(html_part.get_content())
        source = "html"
    else:
        full, source = "", "none"
    full = full.replace("\r\n", "\n")
    attachments = [
        {"name": part.get_filename() or "(unnamed)", "content_type": part.get_content_type(),
         "size": len(part.get_payload(decode=True) or b"")}
        for part in mail.iter_attachments()
    ]
    parents = message_ids(mail.get("In-Reply-To"))
    references = message_ids(mail.get("References"))
    text = new_text(full) if full.strip() else ""
    if attachments:
        text = (text + "\n\n" + " ".join(f"[attachment: {a['name']}]" for a in attachments)).strip()
    metadata = {"email": {
        "message_id": message_id, "subject": subject, "from": str(mail.get("From", "")), "to": str(mail.get("To", "")),
        "date": str(mail.get("Date", "")), "in_reply_to": parents, "references": references, "body_source": source,
        "original": full[:ORIGINAL_LIMIT], "attachments": attachments,
    }}
    return GuestMail(message_id, sender, name or None, subject, text, parents + list(reversed(references)), references,
                     automatic_reason(mail, sender), metadata)
