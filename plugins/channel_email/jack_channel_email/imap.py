"""Inbound mail: read an IMAP folder, hand each new mail to the inbox once, then mark it done.

Order matters for "exactly once": a mail is fetched with ``BODY.PEEK[]`` (it stays unseen),
stored through ``Inbox.receive`` (committed, with its reply job), recorded in the thread index,
and only then flagged ``\\Seen``, or moved to ``IMAP_PROCESSED_FOLDER`` when that is set.  A
crash or an outage in between leaves it unseen in the folder; the next look hands it over again,
``receive`` answers ``duplicate=True`` (the ``Message-ID`` is the channel message id) and
nothing is answered twice.

When the server offers IDLE (and ``IMAP_IDLE`` is on), one connection stays open: search, then
IDLE until the server reports a change (``idle.py``), search again; the IDLE is renewed every
``IMAP_IDLE_SECONDS`` (servers drop it after 30 minutes). Otherwise Jack logs in every
``IMAP_POLL_SECONDS``. A lost connection or a failed login is retried after 0.5 s, doubling up to
5 minutes.

The standard library's ``imaplib`` does the talking, in a worker thread (``asyncio.to_thread``).
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import logging
import ssl
import threading
from typing import TYPE_CHECKING

from jack_channel_email import threads
from jack_channel_email.idle import idle, supports_idle
from jack_channel_email.inbound import read_mail
from jack_channel_email.settings import security
from jack_channel_email.smtp import tls_context
from jack_host.contract.interfaces import ComponentHealth, InboundMessage, Inbox
from jack_host.kit.text_hygiene import clean_inbound
from jack_host.kit.webhook_metrics import count_webhook_failure

if TYPE_CHECKING:
    from jack_host.contract.app import App

log = logging.getLogger("jack.email")
TIMEOUT = 20.0
MAX_BACKOFF_SECONDS = 300.0


class ImapReader:
    def __init__(self, app: App):
        self.app = app
        self.last_poll: ComponentHealth | None = None
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        #: Ends an IDLE in its worker thread (a wake-up or shutdown).
        self._end_idle = threading.Event()
        self.failures = 0
        #: IDLE commands issued, and whether one is running now (for tests and logs).
        self.idles = 0
        self.idling = False

    def setting(self, key: str) -> str:
        return str(self.app.settings.get(key) or "").strip()

    def _where(self) -> str:
        return f"{self.setting('IMAP_HOST')}:{self.port}"

    @property
    def port(self) -> int:
        return int(self.app.settings.get("IMAP_PORT") or 993)

    def connect(self) -> imaplib.IMAP4:
        """Log in and select the folder (blocking; run in a thread)."""
        mode = security(self.setting("IMAP_SECURE"), self.port, 993)
        verify = bool(self.app.settings.get("IMAP_TLS_VERIFY", True))
        context = tls_context(self.setting("IMAP_TLS_CA_FILE"), verify)
        if mode == "tls":
            client: imaplib.IMAP4 = imaplib.IMAP4_SSL(self.setting("IMAP_HOST"), self.port, ssl_context=context, timeout=TIMEOUT)
        else:
            client = imaplib.IMAP4(self.setting("IMAP_HOST"), self.port, timeout=TIMEOUT)
            if mode == "starttls":
                client.starttls(ssl_context=context)
        try:
            client.login(self.setting("IMAP_USER"), self.setting("IMAP_PASSWORD"))
            status, detail = client.select(_quoted(self.setting("IMAP_FOLDER") or "INBOX"))
            if status != "OK":
                raise imaplib.IMAP4.error(f"cannot open folder {self.setting('IMAP_FOLDER')}: {detail}")
            # Servers list more after the login (MOVE, UIDPLUS) than before it.
            status, data = client.capability()
            if status == "OK" and data and data[-1]:
                client.capabilities = tuple(data[-1].decode(errors="replace").upper().split())
            if self.processed_folder:
                if _same_folder(self.processed_folder, self.setting("IMAP_FOLDER") or "INBOX"):
                    # Moving a mail into the folder it came from would hand it over again, forever.
                    raise imaplib.IMAP4.error("IMAP_PROCESSED_FOLDER must differ from IMAP_FOLDER")
                self._ensure_folder(client, self.processed_folder)
        except BaseException:
            with contextlib.suppress(Exception):
                client.logout()
            raise
        return client

    @property
    def processed_folder(self) -> str:
        return self.setting("IMAP_PROCESSED_FOLDER")

    @staticmethod
    def _ensure_folder(client: imaplib.IMAP4, folder: str) -> None:
        status, found = client.list('""', _quoted(folder))
        if status == "OK" and any(found or ()):
            return
        status, detail = client.create(_quoted(folder))
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot create folder {folder} (IMAP_PROCESSED_FOLDER): {_describe_reply(detail)}")
        log.info("created IMAP folder %s for processed mail", folder)

    def _done_with(self, client: imaplib.IMAP4, uid: bytes, move: bool = True) -> None:
        """Mark a stored (or deliberately ignored) mail: move it to the processed folder, else flag it seen."""
        folder = self.processed_folder
        if not folder or not move:
            _ok(client.uid("STORE", uid, "+FLAGS", "(\\Seen)"), "flag a mail seen")
            return
        if "MOVE" in client.capabilities:  # RFC 6851: one atomic step
            _ok(client.uid("MOVE", uid, _quoted(folder)), f"move a mail to {folder}")
            return
        _ok(client.uid("COPY", uid, _quoted(folder)), f"copy a mail to {folder}")
        _ok(client.uid("STORE", uid, "+FLAGS", "(\\Deleted)"), "flag a copied mail deleted")
        # UID EXPUNGE (UIDPLUS) removes only this mail, not others someone flagged deleted.
        _ok(client.uid("EXPUNGE", uid) if "UIDPLUS" in client.capabilities else client.expunge(), "expunge a moved mail")

    async def check_login(self) -> ComponentHealth:
        def probe() -> None:
            self.connect().logout()

        try:
            await asyncio.to_thread(probe)
        except (OSError, imaplib.IMAP4.error, ssl.SSLError) as exc:
            return ComponentHealth.error(f"IMAP {self._where()}: {_describe(exc)}")
        if self.last_poll is not None and self.last_poll.state == "error":
            return self.last_poll
        return ComponentHealth.connected(f"IMAP {self._where()} {self.setting('IMAP_FOLDER') or 'INBOX'} as {self.setting('IMAP_USER')}")

    # ------------------------------------------------------------------ polling

    async def poll_once(self) -> int:
        """Log in, hand every unseen mail in the folder to the inbox, log out; returns how many were new."""
        client = await asyncio.to_thread(self.connect)
        try:
            return await self.poll(client)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(client.logout)

    async def poll(self, client: imaplib.IMAP4) -> int:
        """Hand every unseen mail in the selected folder to the inbox; returns how many were new to Jack."""
        inbox = self.app.services.find(Inbox)
        if inbox is None:
            return 0
        stored = 0
        # Whatever the server reports from here on (a mail arriving during this pass) means: look again.
        client.untagged_responses.pop("EXISTS", None)
        client.untagged_responses.pop("RECENT", None)
        status, data = await asyncio.to_thread(client.uid, "SEARCH", None, "UNSEEN")
        uids = (data[0] or b"").split() if status == "OK" else []
        for uid in uids:
            status, parts = await asyncio.to_thread(client.uid, "FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts or [] if isinstance(p, tuple)), None)
            if status != "OK" or raw is None:
                continue
            readable = True
            try:
                if await self.handle(inbox, raw):
                    stored += 1
            except (ValueError, LookupError, UnicodeError) as exc:
                # A mail Jack cannot read: skip it (marked seen, left in the folder for staff), so
                # it does not block the mails behind it. Storage failures propagate: retried later.
                log.warning("mail uid %s in %s skipped, it cannot be read: %s", uid.decode(), self._where(), exc)
                count_webhook_failure(self.app, "email", "parse_error")
                readable = False
            # Only now: the mail is stored (or deliberately ignored).
            await asyncio.to_thread(self._done_with, client, uid, readable)
        return stored

    async def handle(self, inbox: Inbox, raw: bytes) -> bool:
        """Store one mail; False for an automatic one (ignored) or a repeat."""
        mail = read_mail(raw)
        if mail.automatic:
            log.info("mail %s from %s ignored: %s", mail.message_id, mail.sender or "?", mail.automatic)
            count_webhook_failure(self.app, "email", "automatic_mail")
            return False
        if "@" not in mail.sender:
            log.warning("mail %s has no usable From address; ignored", mail.message_id)
            return False
        engine = self.app.engine
        # A reply joins the conversation of the mail it answers (two guests of one travel agent stay
        # apart); a fresh mail is a new thread; a reply to a mail Jack never saw goes by the sender.
        thread = threads.conversation_for(engine, mail.parents)
        body, cut = clean_inbound(mail.text, "email")  # no control characters, at most 20000 characters
        message = InboundMessage(
            channel="email", channel_message_id=mail.message_id, body=body or "(empty e-mail)",
            sender_email=mail.sender, sender_name=mail.sender_name, sender_address=mail.sender,
            metadata=mail.metadata | ({"truncated": True} if cut else {}), conversation_id=thread,
            starts_conversation=not mail.parents,
        )
        received = await inbox.receive(message)
        # Recorded after the store; a crash in between is repaired by the next poll (a duplicate still records).
        threads.record(engine, message_id=mail.message_id, conversation_id=received.conversation_id, direction="inbound",
                       address=mail.sender, subject=mail.subject, references=mail.references,
                       jack_message_id=received.message_id)
        return not received.duplicate

    async def run(self) -> None:
        interval = float(self.app.settings.get("IMAP_POLL_SECONDS") or 60)
        while True:
            try:
                await self.session()
                delay = interval
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # an outage: the mails stay unseen on the server; try again later
                self.failures += 1
                self.last_poll = ComponentHealth.error(f"IMAP {self._where()}: {_describe(exc)}")
                log.warning("reading %s failed (%d in a row): %s", self._where(), self.failures, _describe(exc))
                delay = min(0.5 * 2 ** min(self.failures - 1, 20), MAX_BACKOFF_SECONDS)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def session(self) -> None:
        """One connection: poll once, or, with IDLE, poll and idle until the connection fails."""
        client = await asyncio.to_thread(self.connect)
        try:
            use_idle = bool(self.app.settings.get("IMAP_IDLE", True)) and supports_idle(client)
            while True:
                await self.poll(client)
                self.last_poll = ComponentHealth.connected()
                self.failures = 0
                if not use_idle:
                    return
                await self._idle(client)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(client.logout)

    async def _idle(self, client: imaplib.IMAP4) -> None:
        """IDLE until the server reports a change, ``IMAP_IDLE_SECONDS`` pass, or :meth:`wake` is called."""
        if client.untagged_responses.get("EXISTS"):
            return  # a mail arrived while the last pass ran: look again first
        seconds = float(self.app.settings.get("IMAP_IDLE_SECONDS") or 1500)
        self._end_idle.clear()
        self.idles += 1
        self.idling = True
        waiting = asyncio.ensure_future(asyncio.to_thread(idle, client, seconds, self._end_idle))
        try:
            await asyncio.shield(waiting)
        except asyncio.CancelledError:
            # Shutting down: end the IDLE in its thread before the connection is logged out.
            self._end_idle.set()
            with contextlib.suppress(Exception):
                await waiting
            raise
        finally:
            self.idling = False

    def wake(self) -> None:
        """Look now (tests, and staff asking for a refresh)."""
        self._wake.set()
        self._end_idle.set()

    def start(self) -> None:
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self.run(), name="jack-email-imap")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def _same_folder(a: str, b: str) -> bool:
    # INBOX is case-insensitive (RFC 3501); other names are not.
    return a == b or a.upper() == b.upper() == "INBOX"


def _quoted(folder: str) -> str:
    return folder if folder.isalnum() else '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ok(answer: tuple[str, list], what: str) -> None:
    status, detail = answer
    if status != "OK":
        raise imaplib.IMAP4.error(f"cannot {what}: {_describe_reply(detail)}")


def _describe_reply(detail: list) -> str:
    return " ".join(part.decode(errors="replace") if isinstance(part, bytes) else str(part) for part in detail or ())


def _describe(exc: BaseException) -> str:
    text = exc.args[0] if exc.args else str(exc)
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return " ".join(str(text).split()) or type(exc).__name__
