"""Guest chat sessions: an opaque token in the browser, only its hash in the database.

The token lets a reload or a second tab find the same conversation.  It is bound
to the origin it was issued to, and it lapses after ``WEBCHAT_SESSION_IDLE_HOURS``
without activity.  The pipeline never sees the token: it sees ``address``, a
separate random id, so staff screens and logs cannot leak a usable credential.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, delete, insert, select, update
from sqlalchemy.engine import Engine

# A table of our own metadata: the plugin must not add tables to the host's SQLModel
# metadata (this plugin's own Alembic revision webchat_0001 creates it).
metadata = MetaData()
webchat_sessions = Table(
    "webchat_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("address", String(64), nullable=False, unique=True),
    Column("origin", String, nullable=False),
    Column("language", String, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("last_seen_at", DateTime, nullable=False),
)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Session:
    address: str
    origin: str
    language: str | None
    #: Only set when the session was just created (the one time the token is known).
    token: str | None = None


class SessionStore:
    """Create, restore and expire sessions.  Blocking (SQL); call it in a worker thread."""

    def __init__(self, engine: Engine, idle_seconds: float):
        self.engine = engine
        self.idle = dt.timedelta(seconds=idle_seconds)

    def create(self, origin: str, language: str | None) -> Session:
        token = secrets.token_urlsafe(32)
        address = "wc_" + secrets.token_hex(12)
        now = utcnow()
        with self.engine.begin() as connection:
            connection.execute(
                insert(webchat_sessions).values(
                    token_hash=hash_token(token), address=address, origin=origin, language=language,
                    created_at=now, last_seen_at=now,
                )
            )
        return Session(address=address, origin=origin, language=language, token=token)

    def restore(self, token: str, origin: str, language: str | None) -> tuple[Session | None, str]:
        """Return the live session for ``token`` at ``origin``, or ``(None, reason)``.

        Restoring counts as activity, so the idle clock starts again.
        """
        now = utcnow()
        with self.engine.begin() as connection:
            row = connection.execute(
                select(webchat_sessions).where(webchat_sessions.c.token_hash == hash_token(token))
            ).mappings().first()
            if row is None:
                return None, "unknown"
            if row["origin"] != origin:
                # Never honoured elsewhere: a token copied to another site is useless there.
                return None, "origin"
            if now - row["last_seen_at"] > self.idle:
                connection.execute(delete(webchat_sessions).where(webchat_sessions.c.id == row["id"]))
                return None, "expired"
            values = {"last_seen_at": now}
            if language:
                values["language"] = language
            connection.execute(update(webchat_sessions).where(webchat_sessions.c.id == row["id"]).values(**values))
        return Session(address=row["address"], origin=row["origin"], language=language or row["language"]), ""

    def touch(self, addresses: list[str]) -> None:
        """Mark sessions active now (guests still connected are not idle)."""
        if not addresses:
            return
        with self.engine.begin() as connection:
            connection.execute(
                update(webchat_sessions).where(webchat_sessions.c.address.in_(addresses)).values(last_seen_at=utcnow())
            )

    def delete_expired(self) -> int:
        cutoff = utcnow() - self.idle
        with self.engine.begin() as connection:
            result = connection.execute(delete(webchat_sessions).where(webchat_sessions.c.last_seen_at < cutoff))
        return result.rowcount or 0
