"""The SQL of the per-message path, built once.

Every guest message runs about fifteen statements.  Building a SQLAlchemy
expression (and its cache key) each time cost more than executing it on SQLite,
so the statements the pipeline, the worker and the outbox run per message are
built here once, with bound parameters, and executed with a dict of values.
They are Core statements, so they run on PostgreSQL (``DATABASE_URL``) alike.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, insert, or_, select, update

from jack_host.builtin.conversations.models import Conversation, Guest, Message

messages = Message.__table__
conversations = Conversation.__table__
guests = Guest.__table__

#: ``{"channel", "address"}`` -> (id, guest_id) of the guest's open conversation on that channel.
OPEN_CONVERSATION = (
    select(conversations.c.id, conversations.c.guest_id)
    .where(
        conversations.c.channel == bindparam("channel"),
        conversations.c.guest_address == bindparam("address"),
        conversations.c.state != "closed",
    )
    .order_by(conversations.c.id.desc())
    .limit(1)
)

#: ``{"cid", "channel"}`` -> (id, guest_id) of that conversation while it is open on that channel
#: (``InboundMessage.conversation_id``: a reply the channel has matched to its thread).
OPEN_CONVERSATION_BY_ID = (
    select(conversations.c.id, conversations.c.guest_id)
    .where(
        conversations.c.id == bindparam("cid"),
        conversations.c.channel == bindparam("channel"),
        conversations.c.state != "closed",
    )
)

#: A message row; pass every column but ``id``.
INSERT_MESSAGE = insert(messages)

#: ``{"cid", "at", "language"}``: a guest wrote (``language`` None keeps the conversation's).
GUEST_WROTE = (
    update(conversations)
    .where(conversations.c.id == bindparam("cid"))
    .values(
        last_message_at=bindparam("at"),
        last_guest_message_at=bindparam("at"),
        updated_at=bindparam("at"),
        language=func.coalesce(bindparam("language", type_=conversations.c.language.type), conversations.c.language),
    )
)

#: ``{"cid", "at", "language", "state"}``: Jack answered (``language`` only fills a missing one).
AI_ANSWERED = (
    update(conversations)
    .where(conversations.c.id == bindparam("cid"))
    .values(
        last_message_at=bindparam("at"),
        updated_at=bindparam("at"),
        language=func.coalesce(conversations.c.language, bindparam("language", type_=conversations.c.language.type)),
        state=bindparam("state"),
    )
)

#: ``{"gid", "language", "at"}``: the guest's preferred language, when none is known yet.
GUEST_LANGUAGE = (
    update(guests)
    .where(guests.c.id == bindparam("gid"), or_(guests.c.preferred_language.is_(None), guests.c.preferred_language == ""))
    .values(preferred_language=bindparam("language"), updated_at=bindparam("at"))
)

#: ``{"cid"}`` -> the conversation row.
CONVERSATION = select(conversations).where(conversations.c.id == bindparam("cid"))

#: ``{"mid"}`` -> the message, its conversation and its guest, in one row.
MESSAGE_IN_CONTEXT = (
    select(messages, conversations, guests)
    .select_from(
        messages.join(conversations, conversations.c.id == messages.c.conversation_id).join(
            guests, guests.c.id == conversations.c.guest_id
        )
    )
    .where(messages.c.id == bindparam("mid"))
)

#: ``{"cid", "before", "limit"}`` -> the conversation's messages before ``before``, newest first.
HISTORY_BEFORE = (
    select(messages)
    .where(messages.c.conversation_id == bindparam("cid"), messages.c.id < bindparam("before"))
    .order_by(messages.c.id.desc())
    .limit(bindparam("limit"))
)

#: ``{"mid"}`` -> the message row.
MESSAGE = select(messages).where(messages.c.id == bindparam("mid"))

#: ``{"mid", "status", "provider_id", "meta", "at"}``: the channel took the message.
MESSAGE_SENT = (
    update(messages)
    .where(messages.c.id == bindparam("mid"))
    .values(
        status=bindparam("status"),
        provider_message_id=bindparam("provider_id"),
        error=None,
        meta=bindparam("meta", type_=messages.c.meta.type),
        updated_at=bindparam("at"),
    )
)
