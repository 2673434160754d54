"""Guest mails as a mail client writes them, and looks at the IMAP mailbox."""

from __future__ import annotations

import email.policy
import email.utils
import imaplib
import ssl
from email.message import EmailMessage


def guest_mail(body: str, *, subject: str = "Late arrival", sender: str = "Anna Schmidt <anna@example.com>",
               message_id: str | None = None, in_reply_to: str | None = None, references: list[str] | None = None,
               html: str | None = None, headers: dict[str, str] | None = None) -> EmailMessage:
    mail = EmailMessage(policy=email.policy.SMTP)
    mail["From"] = sender
    mail["To"] = "Hotel Mirador <concierge@hotel.example>"
    mail["Subject"] = subject
    mail["Date"] = email.utils.formatdate()
    mail["Message-ID"] = message_id or email.utils.make_msgid(domain="example.com")
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
        mail["References"] = " ".join(references or [in_reply_to])
    for key, value in (headers or {}).items():
        mail[key] = value
    if html is not None and not body:
        mail.set_content(html, subtype="html")
    else:
        mail.set_content(body)
    return mail


def unseen(dovecot) -> int:
    """How many mails in the INBOX are not flagged seen."""
    client = imaplib.IMAP4("127.0.0.1", dovecot.port)
    client.starttls(ssl_context=ssl.create_default_context(cafile=str(dovecot.cert)))
    client.login(dovecot.user, dovecot.password)
    client.select("INBOX")
    count = len(client.search(None, "UNSEEN")[1][0].split())
    client.logout()
    return count


def text_of(mail, kind: str = "plain") -> str:
    return mail.get_body((kind,)).get_content().replace("\r\n", "\n").strip()
