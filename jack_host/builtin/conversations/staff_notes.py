"""Private staff notes on a conversation: written and read by staff only, never sent to the guest."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, select

from jack_host.builtin.conversations.models import Conversation, now_utc
from jack_host.db.models import iso

MAX_NOTE_CHARS = 4000


class StaffNote(SQLModel, table=True):
    """One note a staff member left on a conversation (table made by ``conversations_0003``)."""

    __tablename__ = "staff_notes"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversations.id")
    staff_user_id: int | None = None
    body: str
    created_at: dt.datetime = Field(default_factory=now_utc)


class NoteError(ValueError):
    """A note that cannot be stored; the message says why."""


def add_note(engine: Engine, conversation_id: int, staff_user_id: int | None, body: str) -> dict[str, Any]:
    text = body.strip()
    if not text or len(text) > MAX_NOTE_CHARS:
        raise NoteError(f"A note needs 1 to {MAX_NOTE_CHARS} characters.")
    with Session(engine, expire_on_commit=False) as session:
        if session.get(Conversation, conversation_id) is None:
            raise NoteError(f"conversation {conversation_id} does not exist")
        note = StaffNote(conversation_id=conversation_id, staff_user_id=staff_user_id, body=text)
        session.add(note)
        session.commit()
        return note_dict(note)


def list_notes(engine: Engine, conversation_id: int, limit: int = 200) -> list[dict[str, Any]]:
    """The conversation's notes, oldest first."""
    with Session(engine) as session:
        rows = session.exec(
            select(StaffNote).where(StaffNote.conversation_id == conversation_id)
            .order_by(col(StaffNote.id).desc()).limit(limit)
        ).all()
        return [note_dict(n) for n in reversed(rows)]


def note_dict(note: StaffNote) -> dict[str, Any]:
    return {"id": note.id, "conversation_id": note.conversation_id, "staff_user_id": note.staff_user_id,
            "body": note.body, "created_at": iso(note.created_at)}
