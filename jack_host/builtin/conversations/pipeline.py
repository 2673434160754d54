"""The pipeline: the channel-agnostic entry point (``Inbox``) and the conversation operations staff use.

Channels call :meth:`Pipeline.receive`; it commits the message and its ``reply``
job before returning, so a channel acknowledges its provider only for messages
that are on disk.  Everything else here is a small synchronous transaction
followed by events; the slow work (model calls, sending) is done by the worker.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from jack_host.builtin.conversations import guest_profile_edit, jobs, queries, staff_notes, staff_views
from jack_host.builtin.conversations import statements as sql
from jack_host.builtin.conversations.answer_preview import preview_answer
from jack_host.builtin.conversations.models import INBOUND_STATUS, Conversation, Guest, Message, now_utc
from jack_host.builtin.conversations.records import conversation_dict, guest_dict, message_dict
from jack_host.contract.interfaces import InboundMessage, Inbox, Received
from jack_host.contract.services import CONVERSATION_STATES, ConversationNotFound, Conversations, ResultPage
from jack_host.db.models import StateEntry, iso
from jack_host.kit.phone import InvalidPhoneNumber, normalise_phone
from jack_host.kit.text_hygiene import clean_inbound, clean_outbound, has_text, limit_for, strip_control

if TYPE_CHECKING:
    from jack_host.builtin.conversations.events import EventBus
    from jack_host.builtin.conversations.hotel_profile import HotelProfileService
    from jack_host.contract.app import App

log = logging.getLogger("jack.pipeline")

#: Outbound statuses move forward only (``failed`` is handled apart).
STATUS_RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3}


def normalize_email(email: str | None) -> str | None:
    return email.strip().lower() if email and email.strip() else None


class Pipeline(Inbox, Conversations):
    """The conversation pipeline of one app: ``app.services.inbox`` for channels, ``.conversations`` for staff."""

    def __init__(self, app: App, events: EventBus, hotel_profile: HotelProfileService):
        self.app = app
        self.engine = app.engine
        self.events = events
        self.hotel_profile = hotel_profile
        #: Set when a job is added, so the worker wakes at once instead of polling.
        self.reply_wake = asyncio.Event()
        self.send_wake = asyncio.Event()
        #: Whether a delivery report may be parked (see :meth:`apply_parked_status`); None: not looked yet.
        self._parked: bool | None = None

    # ------------------------------------------------------------------ receiving

    async def receive(self, msg: InboundMessage) -> Received:
        """Store a guest message and its reply job (committed before returning); idempotent.

        :raises ValueError: unknown channel, or no message id / guest address.
        """
        if msg.channel not in self.app.channels:
            known = ", ".join(sorted(self.app.channels)) or "none"
            raise ValueError(f"unknown channel '{msg.channel}' (registered channels: {known})")
        if not str(msg.channel_message_id or "").strip():
            raise ValueError(f"channel '{msg.channel}' handed over a message without channel_message_id")
        # The channels clean their text; this holds for a channel that does not (control characters, the cap).
        msg.body, cut = clean_inbound(msg.body, msg.channel)
        if cut:
            msg.metadata = {**(msg.metadata or {}), "truncated": True}
        try:
            phone = normalise_phone(msg.sender_phone, self.app.settings.get("DEFAULT_COUNTRY_CODE")) if (msg.sender_phone or "").strip() else None
        except InvalidPhoneNumber as exc:
            raise ValueError(f"channel '{msg.channel}' handed over a message with a bad sender phone: {exc}") from None
        email = normalize_email(msg.sender_email)
        address = (msg.sender_address or "").strip() or phone or email
        if not address:
            raise ValueError(f"channel '{msg.channel}' handed over a message with no sender address, phone or e-mail")

        try:
            # No look-up first: the unique (channel, channel_message_id) index turns a retry
            # into an IntegrityError, handled below, so the common case costs one transaction.
            # The common case (a known conversation) is SQLAlchemy Core on the session's
            # connection: the ORM's unit of work cost more than the statements themselves.
            with Session(self.engine, expire_on_commit=False) as session:
                connection = session.connection()
                if msg.conversation_id is not None:
                    # The channel matched the message to its thread (e-mail In-Reply-To/References).
                    open_row = connection.execute(sql.OPEN_CONVERSATION_BY_ID, {"cid": msg.conversation_id, "channel": msg.channel}).first()
                elif msg.starts_conversation:
                    open_row = None
                else:
                    open_row = connection.execute(sql.OPEN_CONVERSATION, {"channel": msg.channel, "address": address}).first()
                created = open_row is None
                now = now_utc()
                if open_row is None:
                    # A new conversation: find the guest (by phone or e-mail) or create one.
                    guest = self._find_or_create_guest(session, phone, email, msg.sender_name, msg.language)
                    conversation = self._new_conversation(session, guest, msg.channel, address)
                    conversation_id, guest_id = conversation.id, conversation.guest_id
                else:
                    conversation_id, guest_id = open_row
                meta = dict(msg.metadata or {})
                if msg.sender_name:
                    meta.setdefault("sender_name", msg.sender_name)
                if msg.received_at is not None:
                    meta.setdefault("received_at", iso(msg.received_at))
                if msg.language:
                    meta.setdefault("language", msg.language)
                columns = {
                    "conversation_id": conversation_id,
                    "channel": msg.channel,
                    "direction": "inbound",
                    "sender": "guest",
                    "body": msg.body or "",
                    "status": INBOUND_STATUS,
                    "channel_message_id": msg.channel_message_id,
                    "meta": meta,
                    "created_at": now,
                    "updated_at": now,
                }
                message_id = int(connection.execute(sql.INSERT_MESSAGE, columns).inserted_primary_key[0])
                jobs.enqueue_now(connection, "reply", message_id, conversation_id)
                connection.execute(sql.GUEST_WROTE, {"cid": conversation_id, "at": now, "language": msg.language or None})
                session.commit()
        except IntegrityError:
            # A provider's retry (or two deliveries racing): the first one won.
            with Session(self.engine) as session:
                duplicate = self._existing(session, msg.channel, msg.channel_message_id)
            if duplicate is None:
                raise
            return duplicate
        message = SimpleNamespace(id=message_id, error=None, provider_message_id=None, **columns)
        self.events.publish("message.created", message_dict(cast(Message, message), address))
        if created:
            # What GUEST_WROTE stored, for the event (the object is no longer in a session).
            conversation.last_message_at = conversation.last_guest_message_at = conversation.updated_at = now
            conversation.language = msg.language or conversation.language
            self.events.publish("conversation.updated", conversation_dict(conversation, guest))
        self.reply_wake.set()
        return Received(message_id, conversation_id, guest_id, False)

    def _existing(self, session: Session, channel: str, channel_message_id: str) -> Received | None:
        row = session.exec(
            select(Message.id, Conversation.id, Conversation.guest_id)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.channel == channel, Message.channel_message_id == channel_message_id)
        ).first()
        if row is None:
            return None
        log.info("duplicate delivery of %s message %s ignored", channel, channel_message_id)
        return Received(row[0], row[1], row[2], True)

    def _find_or_create_guest(
        self, session: Session, phone: str | None, email: str | None, name: str | None, language: str | None
    ) -> Guest:
        conditions = []
        if phone:
            conditions.append(Guest.phone == phone)
        if email:
            conditions.append(Guest.email == email)
        guest = None
        if conditions:
            # Phone first: it identifies a person more reliably than a shared e-mail address.
            candidates = session.exec(select(Guest).where(or_(*conditions)).order_by(col(Guest.id))).all()
            guest = next((g for g in candidates if phone and g.phone == phone), None) or (candidates[0] if candidates else None)
        now = now_utc()
        if guest is None:
            guest = Guest(phone=phone, email=email, name=name, preferred_language=language, created_at=now, updated_at=now)
            session.add(guest)
            session.flush()
            return guest
        changed = False
        for attr, value in (("phone", phone), ("email", email), ("name", name), ("preferred_language", language)):
            if value and not getattr(guest, attr):
                setattr(guest, attr, value)
                changed = True
        if changed:
            guest.updated_at = now
            session.add(guest)
        return guest

    def _new_conversation(self, session: Session, guest: Guest, channel: str, address: str) -> Conversation:
        now = now_utc()
        conversation = Conversation(
            guest_id=guest.id,
            channel=channel,
            guest_address=address,
            state="ai",
            language=guest.preferred_language,
            created_at=now,
            updated_at=now,
            last_message_at=now,
        )
        session.add(conversation)
        session.flush()
        return conversation

    # ------------------------------------------------------------------ delivery status

    async def update_delivery_status(self, channel: str, provider_message_id: str, status: str, error: str | None = None) -> bool:
        """Apply a provider's delivery report; never moves backwards; False when the id is unknown.

        :raises ValueError: ``status`` is not queued/sent/delivered/read/failed.
        """
        if status not in (*STATUS_RANK, "failed"):
            raise ValueError(f"unknown delivery status '{status}': expected one of queued, sent, delivered, read, failed")
        with Session(self.engine, expire_on_commit=False) as session:
            message = self._message_by_provider_id(session, channel, provider_message_id)
            if message is None:
                # The report may beat the outbox, which stores the provider's id only after send()
                # returns. Park it; the outbox applies it once the id is stored.
                self._park_early_status(session, channel, provider_message_id, status, error)
                session.commit()
                message = self._message_by_provider_id(session, channel, provider_message_id)
                if message is None:
                    return False
                session.delete(session.get(StateEntry, _early_key(channel, provider_message_id)))
                session.commit()
            if not _status_advances(message.status, status):
                return True
            message.status = status
            message.error = error if status == "failed" else message.error
            message.updated_at = now_utc()
            session.add(message)
            session.commit()
            address = self._address(session, message.conversation_id)
        self.events.publish("message.status", message_dict(message, address))
        return True

    @staticmethod
    def _message_by_provider_id(session: Session, channel: str, provider_message_id: str) -> Message | None:
        return session.exec(
            select(Message).where(Message.channel == channel, Message.provider_message_id == provider_message_id)
        ).first()

    def _park_early_status(self, session: Session, channel: str, provider_message_id: str, status: str, error: str | None) -> None:
        key = _early_key(channel, provider_message_id)
        # Set before the row commits: the outbox checks this flag right after storing the provider's
        # id, so it can never skip a report that was parked in between.
        self._parked = True
        parked = session.get(StateEntry, key)
        if parked is not None and not _status_advances(parked.value.get("status", "queued"), status):
            return
        session.merge(StateEntry(key=key, value={"status": status, "error": error}, updated_at=now_utc()))

    async def apply_parked_status(self, channel: str, provider_message_id: str) -> None:
        """Apply a delivery report that arrived before the provider's id was stored (called by the outbox).

        Early reports are rare, so the look-up is skipped while none is parked: the flag is
        loaded from the database on first use (reports parked before a restart) and set by
        :meth:`_park_early_status`.
        """
        if self._parked is None:
            self._parked = self._any_parked()
        if not self._parked:
            return
        with Session(self.engine) as session:
            parked = session.get(StateEntry, _early_key(channel, provider_message_id))
            if parked is None:
                return
            value = dict(parked.value)
            session.delete(parked)
            session.commit()
        self._parked = self._any_parked()
        await self.update_delivery_status(channel, provider_message_id, value["status"], value.get("error"))

    def _any_parked(self) -> bool:
        with Session(self.engine) as session:
            return session.exec(select(StateEntry.key).where(col(StateEntry.key).startswith("delivery.early."))).first() is not None

    # ------------------------------------------------------------------ staff side

    async def send_staff_reply(self, conversation_id: int, body: str, staff_user_id: int | None) -> int:
        """Queue a staff member's reply on the guest's channel; returns the message id.

        Replying puts the conversation in ``staff`` state (the AI stays quiet) and
        assigns it to the sender when nobody holds it.

        :raises ConversationNotFound: no such conversation.
        :raises ValueError: empty body.
        """
        if not has_text(body):
            raise ValueError("a reply needs some text (control characters and blanks do not count)")
        with Session(self.engine, expire_on_commit=False) as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                raise ConversationNotFound(f"conversation {conversation_id} does not exist")
            length, limit = len(strip_control(body).strip()), limit_for(conversation.channel)
            if length > limit:
                raise ValueError(f"the reply is {length} characters long; a {conversation.channel} message carries at most {limit}")
            state_changed = conversation.state != "staff"
            message = self.add_outbound(
                session, conversation, body.strip(), "staff", meta={"staff_user_id": staff_user_id} if staff_user_id else {}
            )
            message.staff_user_id = staff_user_id
            conversation.state = "staff"
            conversation.closed_at = None
            if conversation.assignee_id is None:
                conversation.assignee_id = staff_user_id
            session.add(conversation)
            session.commit()
        self.events.publish("message.created", message_dict(message, conversation.guest_address))
        if state_changed:
            self.events.publish("conversation.updated", conversation_dict(conversation))
        self.send_wake.set()
        return message.id

    def add_outbound(
        self,
        session: Session,
        conversation: Conversation,
        body: str,
        sender: str,
        meta: dict[str, Any] | None = None,
        reply_to_id: int | None = None,
    ) -> Message:
        """Add an outbound message and its pending ``send`` job to the caller's transaction."""
        now = now_utc()
        message = Message(
            conversation_id=conversation.id,
            channel=conversation.channel,
            direction="outbound",
            sender=sender,
            body=clean_outbound(body, conversation.channel),  # no control characters, within the channel's cap
            status="queued",
            reply_to_id=reply_to_id,
            meta=dict(meta or {}),
            created_at=now,
            updated_at=now,
        )
        session.add(message)
        session.flush()
        jobs.enqueue(session, "send", message.id, conversation.id)
        conversation.last_message_at = now
        conversation.updated_at = now
        session.add(conversation)  # flushed with the job by the caller's commit
        return message

    def set_state(self, conversation_id: int, state: str, staff_user_id: int | None = None) -> dict[str, Any]:
        """Take over (``staff``), hand back (``ai``), escalate or close a conversation.

        ``staff`` assigns it to ``staff_user_id``; ``ai`` clears the assignee so the AI
        answers again; ``closed`` ends it (the guest's next message opens a new one).

        :raises ConversationNotFound: no such conversation.
        :raises ValueError: unknown state.
        """
        if state not in CONVERSATION_STATES:
            raise ValueError(f"unknown conversation state '{state}': expected one of {', '.join(CONVERSATION_STATES)}")
        with Session(self.engine, expire_on_commit=False) as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                raise ConversationNotFound(f"conversation {conversation_id} does not exist")
            now = now_utc()
            conversation.state = state
            conversation.updated_at = now
            if state == "staff":
                conversation.assignee_id = staff_user_id if staff_user_id is not None else conversation.assignee_id
                conversation.closed_at = None
            elif state == "ai":
                conversation.assignee_id = None
                conversation.closed_at = None
            elif state == "closed":
                conversation.closed_at = now
            session.add(conversation)
            session.commit()
            guest = session.get(Guest, conversation.guest_id)
            data = conversation_dict(conversation, guest)
        self.events.publish("conversation.updated", data)
        if state == "ai":
            self.reply_wake.set()
        return data

    def take_over(self, conversation_id: int, staff_user_id: int | None) -> dict[str, Any]:
        return self.set_state(conversation_id, "staff", staff_user_id)

    def hand_back(self, conversation_id: int) -> dict[str, Any]:
        return self.set_state(conversation_id, "ai")

    def close(self, conversation_id: int) -> dict[str, Any]:
        return self.set_state(conversation_id, "closed")

    # ------------------------------------------------------------------ reading

    def history(self, conversation_id: int, limit: int = 100, before_id: int | None = None) -> list[dict[str, Any]]:
        """The last ``limit`` messages of a conversation (older than ``before_id`` if given), oldest first."""
        with Session(self.engine) as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                return []
            query = select(Message).where(Message.conversation_id == conversation_id)
            if before_id is not None:
                query = query.where(col(Message.id) < before_id)
            rows = session.exec(query.order_by(col(Message.id).desc()).limit(limit)).all()
            return [message_dict(m, conversation.guest_address) for m in reversed(rows)]

    def get_message(self, message_id: int) -> dict[str, Any] | None:
        """One message with its conversation's ``guest_address``, or ``None``."""
        return queries.get_message(self.engine, message_id)

    def find_conversation_id(self, channel: str, guest_address: str) -> int | None:
        """The open conversation on ``channel`` with ``guest_address`` (else the latest closed one)."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(Conversation.id, Conversation.state)
                .where(Conversation.channel == channel, Conversation.guest_address == guest_address)
                .order_by(col(Conversation.id).desc())
            ).all()
        for conversation_id, state in rows:
            if state != "closed":
                return conversation_id
        return rows[0][0] if rows else None

    def get_conversation(self, conversation_id: int) -> dict[str, Any] | None:
        with Session(self.engine) as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                return None
            return conversation_dict(conversation, session.get(Guest, conversation.guest_id))

    def list_conversations(
        self,
        *,
        state: str | None = None,
        channel: str | None = None,
        assignee_id: int | None = None,
        unassigned: bool = False,
        q: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> ResultPage:
        """One page of conversations, most recently active first, and the total (see :func:`queries.list_conversations`)."""
        return queries.list_conversations(
            self.engine,
            state=state,
            channel=channel,
            assignee_id=assignee_id,
            unassigned=unassigned,
            q=q,
            limit=limit,
            offset=offset,
        )

    def get_guest(self, guest_id: int) -> dict[str, Any] | None:
        with Session(self.engine) as session:
            guest = session.get(Guest, guest_id)
            return guest_dict(guest) if guest else None

    def health_summary(self) -> dict[str, Any]:
        """``{"queue": {...}}`` for ``/health``: jobs waiting (alert above 100/500) and recent failures."""
        counts = jobs.counts(self.engine, failed_since=now_utc() - dt.timedelta(hours=24))
        reply, send = counts.get("reply", {}), counts.get("send", {})
        replies_pending = reply.get("pending", 0) + reply.get("running", 0)
        outbox_pending = send.get("pending", 0) + send.get("running", 0)
        return {
            "queue": {
                "pending": replies_pending + outbox_pending,
                "failed": reply.get("failed", 0) + send.get("failed", 0),
                "replies_pending": replies_pending,
                "outbox_pending": outbox_pending,
            }
        }

    def count_state(self, state: str) -> int:
        with Session(self.engine) as session:
            return int(session.exec(select(func.count()).select_from(Conversation).where(Conversation.state == state)).one())

    # ------------------------------------------------------------------ staff tools (the dashboard's)

    def guest_conversations(self, guest_id: int) -> list[dict[str, Any]]:
        return staff_views.guest_conversations(self.engine, guest_id)

    def update_guest(self, guest_id: int, **fields: Any) -> dict[str, Any]:
        return guest_profile_edit.update_guest(self.engine, guest_id, **fields)

    def add_note(self, conversation_id: int, staff_user_id: int | None, body: str) -> dict[str, Any]:
        return staff_notes.add_note(self.engine, conversation_id, staff_user_id, body)

    def list_notes(self, conversation_id: int, limit: int = 200) -> list[dict[str, Any]]:
        return staff_notes.list_notes(self.engine, conversation_id, limit)

    async def preview_answer(self, body: str) -> dict[str, Any]:
        return await preview_answer(self.app, self.hotel_profile, body)

    def _address(self, session: Session, conversation_id: int) -> str | None:
        conversation = session.get(Conversation, conversation_id)
        return conversation.guest_address if conversation else None


def _status_advances(current: str, new: str) -> bool:
    if current == new:
        return False
    if new == "failed":
        # A message the guest already received cannot fail any more.
        return STATUS_RANK.get(current, 0) < STATUS_RANK["delivered"]
    if current == "failed":
        # The provider found it after all.
        return STATUS_RANK[new] >= STATUS_RANK["delivered"]
    return STATUS_RANK[new] > STATUS_RANK.get(current, -1)


def _early_key(channel: str, provider_message_id: str) -> str:
    return f"delivery.early.{channel}.{provider_message_id}"
