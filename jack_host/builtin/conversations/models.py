"""Tables of the conversation pipeline (created by Alembic revision ``conversations_0001``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


def now_utc() -> dt.datetime:
    """Aware UTC (SQLModel's datetime columns refuse naive values and return aware UTC)."""
    return dt.datetime.now(dt.UTC)


#: Inbound messages are stored with this status.
INBOUND_STATUS = "received"
#: Task statuses that still need someone (of ``TASK_STATUSES`` in the contract).
OPEN_TASK_STATUSES = ("open", "in_progress")


class Guest(SQLModel, table=True):
    """One person, whichever channels they write on (matched by phone or e-mail)."""

    __tablename__ = "guests"

    id: int | None = Field(default=None, primary_key=True)
    name: str | None = None
    phone: str | None = Field(default=None, index=True)
    email: str | None = Field(default=None, index=True)
    preferred_language: str | None = None
    notes: str = ""
    created_at: dt.datetime = Field(default_factory=now_utc)
    updated_at: dt.datetime = Field(default_factory=now_utc)


class Conversation(SQLModel, table=True):
    """A guest talking to the hotel on one channel and address."""

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_channel_address", "channel", "guest_address"),)

    id: int | None = Field(default=None, primary_key=True)
    guest_id: int = Field(foreign_key="guests.id", index=True)
    channel: str
    guest_address: str
    state: str = Field(default="ai", index=True)
    #: Staff user id (no foreign key: the users table belongs to another revision).
    assignee_id: int | None = Field(default=None, index=True)
    language: str | None = None
    created_at: dt.datetime = Field(default_factory=now_utc)
    updated_at: dt.datetime = Field(default_factory=now_utc)
    last_message_at: dt.datetime = Field(default_factory=now_utc, index=True)
    last_guest_message_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None


class Message(SQLModel, table=True):
    """One message in or out; outbound ones carry their delivery status."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "channel_message_id", name="uq_messages_channel_message_id"),
        Index("ix_messages_channel_provider_id", "channel", "provider_message_id"),
        Index("ix_messages_conversation_created", "conversation_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversations.id")
    channel: str
    direction: str  # inbound / outbound
    sender: str  # guest / ai / staff / system
    body: str
    #: ``received`` for inbound; queued/sent/delivered/read/failed for outbound.
    status: str = "queued"
    error: str | None = None
    #: The channel's own id of an inbound message: the idempotency key with ``channel``.
    channel_message_id: str | None = None
    #: The provider's id of an outbound message, for delivery-status webhooks.
    provider_message_id: str | None = None
    #: The guest message an AI reply answers; unique, so a message is answered once.
    reply_to_id: int | None = Field(default=None, unique=True)
    staff_user_id: int | None = None
    meta: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: dt.datetime = Field(default_factory=now_utc)
    updated_at: dt.datetime = Field(default_factory=now_utc)


class Job(SQLModel, table=True):
    """Durable work: ``reply`` to a guest message, or ``send`` an outbound one (the outbox)."""

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("kind", "message_id", name="uq_jobs_kind_message"),
        Index("ix_jobs_claim", "kind", "state", "run_after"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str  # reply / send
    message_id: int = Field(foreign_key="messages.id")
    conversation_id: int = Field(index=True)
    state: str = "pending"  # pending / running / done / failed
    attempts: int = 0
    run_after: dt.datetime = Field(default_factory=now_utc)
    #: Who holds the job and until when; an expired lease is claimable again.
    locked_by: str | None = None
    locked_until: dt.datetime | None = None
    last_error: str | None = None
    created_at: dt.datetime = Field(default_factory=now_utc)
    updated_at: dt.datetime = Field(default_factory=now_utc)
    finished_at: dt.datetime | None = None


class Task(SQLModel, table=True):
    """Work for a department, usually born from an escalation."""

    __tablename__ = "tasks"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int | None = Field(default=None, foreign_key="conversations.id", index=True)
    guest_id: int | None = Field(default=None, index=True)
    department: str = "front_desk"
    priority: str = "standard"
    status: str = Field(default="open", index=True)
    title: str = ""
    description: str = ""
    reason: str = ""
    sla_due_at: dt.datetime | None = Field(default=None, index=True)
    assignee_id: int | None = Field(default=None, index=True)
    created_at: dt.datetime = Field(default_factory=now_utc)
    updated_at: dt.datetime = Field(default_factory=now_utc)
    claimed_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    #: Set once when the SLA check first sees the task late (counted and announced once).
    sla_breached_at: dt.datetime | None = None


class HotelProfile(SQLModel, table=True):
    """The single row describing the hotel (id 1), seeded from ``HOTEL_*`` settings."""

    __tablename__ = "hotel_profile"

    id: int | None = Field(default=None, primary_key=True)
    name: str = "Our hotel"
    timezone: str = "UTC"
    check_in_time: str = "15:00"
    check_out_time: str = "11:00"
    languages: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    phone: str = ""
    email: str = ""
    address: str = ""
    website: str = ""
    updated_at: dt.datetime = Field(default_factory=now_utc)
