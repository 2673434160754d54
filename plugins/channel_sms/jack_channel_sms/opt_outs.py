"""Which numbers have opted out of SMS, in the plugin's own tables (revision ``sms_0001``).

``sms_opt_outs``: one row per number that ever sent a keyword (or that Twilio refused with
error 21610): whether it is opted out now, the word that set it and when.
``sms_keyword_events``: every handled keyword message by ``MessageSid``, so a retried STOP or
HELP is acted on once.

Until 0.2 these lived in the host's ``jack_state`` (``sms.opt_out.<phone>``,
``sms.keyword.<MessageSid>``); ``sms_0001`` moves them here.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import registry
from sqlmodel import Field, Session, SQLModel


def utcnow() -> dt.datetime:
    # Aware: SQLModel's datetime columns refuse naive values.
    return dt.datetime.now(dt.UTC)


class SmsTable(SQLModel, registry=registry()):
    """Base of the plugin's tables: a registry (and metadata) of their own, not the host's.

    The plugin's Alembic revisions create these tables; the host's metadata lists only its own.
    """


class SmsOptOut(SmsTable, table=True):
    """Whether a number may be messaged; a row is kept after START too (``opted_out`` False)."""

    __tablename__ = "sms_opt_outs"

    phone: str = Field(primary_key=True)  # E.164
    opted_out: bool
    #: The keyword as the guest sent it (``STOP``, ``UNSTOP``...) or ``twilio-21610``.
    keyword: str
    updated_at: dt.datetime = Field(default_factory=utcnow)


class SmsKeywordEvent(SmsTable, table=True):
    """A keyword message that was acted on: its ``MessageSid`` is the idempotency key."""

    __tablename__ = "sms_keyword_events"

    message_sid: str = Field(primary_key=True)
    phone: str = Field(index=True)
    action: str  # opt_out, opt_in or help
    created_at: dt.datetime = Field(default_factory=utcnow)


def is_opted_out(engine: Engine, phone: str) -> bool:
    with Session(engine) as session:
        entry = session.get(SmsOptOut, phone)
    return bool(entry and entry.opted_out)


def set_opted_out(session: Session, phone: str, opted_out: bool, keyword: str) -> None:
    """Insert or update the number's row in ``session``'s transaction (the caller commits)."""
    values = {"phone": phone, "opted_out": opted_out, "keyword": keyword, "updated_at": utcnow()}
    dialect = session.get_bind().dialect.name
    # An upsert, not a read then a write: two first keywords from one number at once must not
    # collide on the primary key (the loser would be taken for a repeated delivery and dropped).
    if dialect in ("sqlite", "postgresql"):
        insert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(SmsOptOut.__table__).values(values)
        changed = {key: insert.excluded[key] for key in ("opted_out", "keyword", "updated_at")}
        session.connection().execute(insert.on_conflict_do_update(index_elements=["phone"], set_=changed))
    else:
        session.merge(SmsOptOut(**values))


def apply_keyword(engine: Engine, message_sid: str, phone: str, action: str, keyword: str) -> bool:
    """Act on a keyword message once, in one transaction; False when ``message_sid`` was handled before."""
    with Session(engine) as session:
        session.add(SmsKeywordEvent(message_sid=message_sid, phone=phone, action=action))
        try:
            session.flush()  # a repeated delivery stops here, before the opt-out is touched
            if action in ("opt_out", "opt_in"):
                set_opted_out(session, phone, action == "opt_out", keyword)
            session.commit()
        except IntegrityError:
            session.rollback()
            return False
    return True


def record_refusal(engine: Engine, phone: str) -> None:
    """Twilio says the number is unsubscribed (error 21610): remember it like a STOP."""
    with Session(engine) as session:
        set_opted_out(session, phone, True, "twilio-21610")
        session.commit()
