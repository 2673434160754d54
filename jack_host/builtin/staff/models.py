"""Tables for staff accounts, their refresh tokens and the sign-in attempt counters."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from jack_host.contract.services import STAFF_ROLES

ROLES = STAFF_ROLES


def utcnow() -> dt.datetime:
    """Aware UTC: SQLModel stores ``datetime`` columns as UTC and refuses naive values."""
    return dt.datetime.now(dt.UTC)


class StaffUser(SQLModel, table=True):
    """A person who signs in to the staff dashboard or API."""

    __tablename__ = "staff_users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True)  # stored lower-cased
    name: str = ""
    role: str = "staff"
    password_hash: str
    active: bool = True
    # Every access token carries the version it was issued under; signing out bumps it.
    token_version: int = 0
    created_at: dt.datetime = Field(default_factory=utcnow)
    last_login_at: dt.datetime | None = None

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "role": self.role,
            "active": self.active,
            "created_at": iso(self.created_at),
            "last_login_at": iso(self.last_login_at),
        }


class RefreshToken(SQLModel, table=True):
    """One issued refresh token, kept only as a SHA-256 digest so a leaked table grants nothing.

    Tokens rotate: using one revokes it and issues the next in the same ``family``.
    Presenting an already-used token revokes the whole family (it was probably stolen).
    """

    __tablename__ = "staff_refresh_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="staff_users.id", index=True)
    token_hash: str = Field(unique=True, index=True)
    family: str = Field(index=True)
    created_at: dt.datetime = Field(default_factory=utcnow)
    expires_at: dt.datetime
    revoked_at: dt.datetime | None = None
    revoked_reason: str = ""


class LoginCounter(SQLModel, table=True):
    """Sign-in attempts for one key (an account and address, an address, an account) in a window.

    Kept in the database so every ``jack serve`` process and every restart sees the same counts.
    """

    __tablename__ = "staff_login_counters"

    key: str = Field(primary_key=True)
    window_start: float  # Unix time of the first attempt counted in this window
    attempts: int


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 UTC with an explicit offset, like the pipeline's dicts (naive values are UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat()
