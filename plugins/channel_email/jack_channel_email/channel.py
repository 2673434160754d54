"""The e-mail channel: answers go out by SMTP, threaded under the guest's last mail."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING

from jack_channel_email import threads
from jack_channel_email.compose import compose, reply_subject
from jack_channel_email.smtp import SmtpSender, address_of
from jack_host.contract.interfaces import (
    Channel,
    ComponentHealth,
    OutboundMessage,
    PermanentSendError,
    SendResult,
)
from jack_host.kit.webhook_metrics import count_webhook_failure

if TYPE_CHECKING:
    from jack_channel_email.imap import ImapReader
    from jack_host.contract.app import App

log = logging.getLogger("jack.email")


class EmailChannel(Channel):
    name = "email"
    required_settings = ("SMTP_HOST", "SMTP_USER", "SMTP_PASSWORD")

    def __init__(self, app: App):
        self.app = app
        self.sender = SmtpSender(app)
        #: Set by the plugin when IMAP_HOST is configured.
        self.reader: ImapReader | None = None
        self._cap_lock = asyncio.Lock()

    async def health(self) -> ComponentHealth:
        missing = self.missing_settings(self.app.settings)
        if missing:
            return ComponentHealth.not_configured(f"set {', '.join(missing)}")
        smtp = await self.sender.check_login()
        if smtp.state != "connected":
            return smtp
        if self.reader is None:
            return ComponentHealth.connected(f"{smtp.detail}; no inbound mail (IMAP_HOST not set)")
        imap = await self.reader.check_login()
        if imap.state != "connected":
            return imap
        return ComponentHealth.connected(f"{smtp.detail}; {imap.detail}")

    def reply_cap(self) -> int:
        return int(self.app.settings.get("EMAIL_REPLIES_PER_HOUR") or 10)

    async def send(self, message: OutboundMessage) -> SendResult:
        if self.missing_settings(self.app.settings):
            raise self.not_configured_error(self.app.settings)
        to = address_of(message.guest_address)
        if "@" not in to:
            raise PermanentSendError(f"cannot send e-mail: {message.guest_address!r} is not an e-mail address")
        if message.sender == "staff":  # a person writing is no mail loop
            return await self._send(message, to)
        # Count and send under one lock: answers to one address may be sent at the same moment.
        async with self._cap_lock:
            sent = threads.replies_since(self.app.engine, to, dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
            if sent >= self.reply_cap():
                raise PermanentSendError(f"not sent: Jack already answered {to} {sent} times in the last hour "
                                         "(EMAIL_REPLIES_PER_HOUR), which looks like a mail loop")
            return await self._send(message, to)

    async def _send(self, message: OutboundMessage, to: str) -> SendResult:
        engine = self.app.engine
        thread = threads.last_inbound(engine, message.conversation_id)
        if thread is not None:
            subject = reply_subject(thread.subject)
            in_reply_to, references = thread.message_id, [*thread.references, thread.message_id][-20:]
        else:
            hotel = str(self.app.settings.get("HOTEL_NAME") or "the hotel")
            subject = str(message.metadata.get("subject") or f"Your message to {hotel}")
            in_reply_to, references = None, []
        mail = compose(sender=self.sender.sender, to=to, subject=subject, text=message.body,
                       in_reply_to=in_reply_to, references=references)
        try:
            await self.sender.deliver(mail)
        except Exception:
            count_webhook_failure(self.app, self.name, "send_failure")
            raise
        message_id = str(mail["Message-ID"])
        threads.record(engine, message_id=message_id, conversation_id=message.conversation_id, direction="outbound",
                       address=to, subject=subject, references=references, jack_message_id=message.message_id)
        return SendResult(provider_message_id=message_id,
                          metadata={"email": {"message_id": message_id, "subject": subject, "in_reply_to": in_reply_to}})
