"""Guest chat sessions: an opaque token in the browser, only its hash in the database.

The token lets a reload or a second tab find the same conversation.  It is bound
to the origin it was issued to, and it lapses after ``WEBCHAT_SESSION_IDLE_HOURS``
without activity.  The pipeline never sees the token: it sees ``address``, a
separate random id, so staff screens and logs cannot leak a usable credential.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

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


@dataclass(eq=False)
class Session:
    """One guest chat.  The tabs of a session share this object, so ``stored`` flips once for all."""

    address: str
    origin: str
    language: str | None
    #: Only set when the session was just issued (the one time the token is known in clear).
    token: str | None = None
    token_hash: str = ""
    #: False until the guest's first message: a chat that never says anything leaves no row.
    stored: bool = True
    issued_at: float = field(default_factory=time.monotonic)


class SessionStore:
    """Issue, store, restore and expire sessions.  Blocking (SQL); call it in a worker thread.

    A new session lives in memory only (``_pending``, bounded) until its first message,
    when :meth:`store` writes its row: opening the chat, or a script opening thousands,
    costs no database rows.  A reload or a second tab before that message finds the
    pending session by its token.
    """

    #: Pending sessions kept for reloads and second tabs; the oldest are forgotten first
    #: (their tabs keep working: :meth:`store` needs only the session object).
    MAX_PENDING = 10_000

    def __init__(self, engine: Engine, idle_seconds: float):
        self.engine = engine
        self.idle = dt.timedelta(seconds=idle_seconds)
        self._pending: collections.OrderedDict[str, Session] = collections.OrderedDict()
        self._lock = threading.Lock()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def create(self, origin: str, language: str | None) -> Session:
        """A new session, not stored yet (see :meth:`store`)."""
        token = secrets.token_urlsafe(32)
        session = Session(
            address="wc_" + secrets.token_hex(12), origin=origin, language=language,
            token=token, token_hash=hash_token(token), stored=False,
        )
        with self._lock:
            self._pending[session.token_hash] = session
            while len(self._pending) > self.MAX_PENDING:
                self._pending.popitem(last=False)
        return session

    def store(self, session: Session) -> None:
        """Write the session's row (its first message is about to be stored); harmless when it exists."""
        if session.stored:
            return
        now = utcnow()
        # Not under the lock: the event loop takes it in create(), and must never wait on the database.
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(webchat_sessions).values(
                        token_hash=session.token_hash, address=session.address, origin=session.origin,
                        language=session.language, created_at=now, last_seen_at=now,
                    )
                )
        except IntegrityError:
            pass  # another tab of the session stored it a moment before
        with self._lock:
            session.stored = True
            self._pending.pop(session.token_hash, None)

    def restore(self, token: str, origin: str, language: str | None) -> tuple[Session | None, str]:
        """Return the live session for ``token`` at ``origin``, or ``(None, reason)``.

        Restoring counts as activity, so the idle clock starts again.
        """
        now = utcnow()
        token_hash = hash_token(token)
        with self.engine.begin() as connection:
            row = connection.execute(
                select(webchat_sessions).where(webchat_sessions.c.token_hash == token_hash)
            ).mappings().first()
            if row is None:
                return self._restore_pending(token_hash, origin, language)
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
        return Session(address=row["address"], origin=row["origin"], language=language or row["language"],
                       token_hash=token_hash), ""

    def _restore_pending(self, token_hash: str, origin: str, language: str | None) -> tuple[Session | None, str]:
        with self._lock:
            session = self._pending.get(token_hash)
            if session is None:
                return None, "unknown"
            if session.origin != origin:
                return None, "origin"
            if time.monotonic() - session.issued_at > self.idle.total_seconds():
                del self._pending[token_hash]
                return None, "expired"
            self._pending.move_to_end(token_hash)
            if language:
                session.language = language
            return session, ""

    def touch(self, addresses: list[str]) -> None:
        """Mark sessions active now (guests still connected are not idle)."""
        if not addresses:
            return
        with self.engine.begin() as connection:
            connection.execute(
                update(webchat_sessions).where(webchat_sessions.c.address.in_(addresses)).values(last_seen_at=utcnow())
            )

    def delete_expired(self) -> int:
        """Delete idle sessions' rows and forget pending sessions older than the idle time."""
        oldest = time.monotonic() - self.idle.total_seconds()
        with self._lock:
            for token_hash in [h for h, s in self._pending.items() if s.issued_at < oldest]:
                del self._pending[token_hash]
        cutoff = utcnow() - self.idle
        with self.engine.begin() as connection:
            result = connection.execute(delete(webchat_sessions).where(webchat_sessions.c.last_seen_at < cutoff))
        return result.rowcount or 0
