"""Which numbers have opted out of SMS, kept durably in the host's ``jack_state`` table.

One entry per number that ever sent a keyword: ``sms.opt_out.+15551234567`` ->
``{"opted_out": bool, "keyword": "STOP", "at": ISO time}``.  Handled keyword messages are
remembered too (``sms.keyword.<MessageSid>``) so a retried STOP or HELP is acted on once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from jack_host.db.models import StateEntry


def _key(phone: str) -> str:
    return f"sms.opt_out.{phone}"


def is_opted_out(engine: Engine, phone: str) -> bool:
    with Session(engine) as session:
        entry = session.get(StateEntry, _key(phone))
    return bool(entry and entry.value.get("opted_out"))


def set_opted_out(session: Session, phone: str, opted_out: bool, keyword: str) -> None:
    now = dt.datetime.now(dt.UTC)
    value = {"opted_out": opted_out, "keyword": keyword, "at": now.isoformat()}
    session.merge(StateEntry(key=_key(phone), value=value, updated_at=now))


def apply_keyword(engine: Engine, message_sid: str, phone: str, action: str, keyword: str) -> bool:
    """Act on a keyword message once, in one transaction; False when ``message_sid`` was handled before."""
    with Session(engine) as session:
        # updated_at given explicitly: the host's default is naive and SQLModel refuses naive datetimes.
        session.add(StateEntry(key=f"sms.keyword.{message_sid}", value={"from": phone, "action": action},
                               updated_at=dt.datetime.now(dt.UTC)))
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
