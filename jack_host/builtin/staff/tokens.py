"""Sign-in tokens: short-lived JWT access tokens and rotating, revocable refresh tokens.

Access tokens are HS256 JWTs signed with ``JWT_SECRET``; each carries the account's token
version (``ver``), and signing out bumps the version, so the account's access tokens stop
working at once instead of when they expire.  Refresh tokens are random
strings the server keeps only as SHA-256 digests; each use revokes the presented token
and issues the next one in the same family, and presenting a used token again revokes
the whole family, so a stolen refresh token stops working as soon as either party uses it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from jack_host.builtin.staff.models import RefreshToken, StaffUser, utcnow

log = logging.getLogger("jack.staff.tokens")
ALGORITHM = "HS256"
ISSUER = "jack"


class TokenError(Exception):
    """A token is missing, malformed, expired, revoked or signed with another key."""


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    role: str
    expires_at: dt.datetime
    token_version: int = 0


def resolve_secret(configured: str | None) -> str:
    """``JWT_SECRET``, or in development a random per-process one (with a warning).

    Production refuses to start without a proper secret (``Settings.validate_secrets``),
    so the random fallback only ever serves development and tests.
    """
    if configured:
        return configured
    log.warning(
        "JWT_SECRET is not set: using a random secret for this process only; "
        "staff must sign in again after every restart. Set JWT_SECRET (e.g. `openssl rand -hex 32`)."
    )
    return secrets.token_hex(32)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenService:
    """Issues and checks tokens for one app (its secret and lifetimes)."""

    def __init__(self, engine: Engine, secret: str, access_ttl_seconds: int, refresh_ttl_days: float):
        self.engine = engine
        self.secret = secret
        self.access_ttl = dt.timedelta(seconds=access_ttl_seconds)
        self.refresh_ttl = dt.timedelta(days=refresh_ttl_days)

    # ---- access tokens
    def issue_access(self, user: StaffUser) -> tuple[str, int]:
        """A signed access token and its lifetime in seconds."""
        now = dt.datetime.now(dt.UTC)
        claims: dict[str, Any] = {
            "sub": str(user.id),
            "role": user.role,
            "typ": "access",
            "iss": ISSUER,
            "iat": now,
            "exp": now + self.access_ttl,
            "jti": uuid.uuid4().hex,
            "ver": user.token_version,
        }
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM), int(self.access_ttl.total_seconds())

    def verify_access(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "sub", "iss", "typ"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("the access token has expired; get a new one from POST /api/v1/auth/refresh") from None
        except jwt.PyJWTError:
            raise TokenError("the access token is not valid") from None
        version = claims.get("ver", 0)
        if (claims.get("typ") != "access" or not str(claims.get("sub", "")).isdigit()
                or not isinstance(version, int) or isinstance(version, bool)):
            raise TokenError("the access token is not valid")
        return AccessClaims(
            user_id=int(claims["sub"]),
            role=str(claims.get("role", "")),
            expires_at=dt.datetime.fromtimestamp(claims["exp"], dt.UTC),
            token_version=version,
        )

    # ---- refresh tokens
    def issue_refresh(self, user_id: int, family: str | None = None, session: Session | None = None) -> str:
        token = secrets.token_urlsafe(32)
        record = RefreshToken(
            user_id=user_id,
            token_hash=hash_refresh_token(token),
            family=family or uuid.uuid4().hex,
            expires_at=utcnow() + self.refresh_ttl,
        )
        if session is not None:
            session.add(record)
            return token
        with Session(self.engine) as own:
            own.add(record)
            own.commit()
        return token

    def rotate(self, token: str) -> tuple[StaffUser, str]:
        """Spend ``token`` and return its account and the next refresh token; raise :class:`TokenError`."""
        digest = hash_refresh_token(token)
        with Session(self.engine, expire_on_commit=False) as session:
            record = session.exec(select(RefreshToken).where(RefreshToken.token_hash == digest)).first()
            if record is None:
                raise TokenError("unknown refresh token; sign in again")
            if record.revoked_at is not None:
                if record.revoked_reason == "rotated":
                    # A spent token came back: someone holds a copy. End the whole sign-in.
                    self._revoke_family(session, record.family, "reuse detected")
                    session.commit()
                    log.warning("refresh token reuse for staff user %s; signed out that session", record.user_id)
                raise TokenError("this refresh token was already used or revoked; sign in again")
            if record.expires_at < utcnow():
                raise TokenError("the refresh token has expired; sign in again")
            user = session.get(StaffUser, record.user_id)
            if user is None or not user.active:
                raise TokenError("this account is disabled")
            # The conditional update makes two concurrent refreshes with one token yield one winner.
            spent = session.execute(
                update(RefreshToken)
                .where(RefreshToken.id == record.id, RefreshToken.revoked_at.is_(None))
                .values(revoked_at=utcnow(), revoked_reason="rotated")
            )
            if spent.rowcount != 1:
                session.rollback()
                raise TokenError("this refresh token was already used or revoked; sign in again")
            new_token = self.issue_refresh(user.id, record.family, session=session)
            session.commit()
            return user, new_token

    def revoke(self, token: str, reason: str = "signed out") -> bool:
        """Revoke the sign-in that ``token`` belongs to (its whole family) and the account's
        access tokens; False if the token is unknown."""
        digest = hash_refresh_token(token)
        with Session(self.engine) as session:
            record = session.exec(select(RefreshToken).where(RefreshToken.token_hash == digest)).first()
            if record is None:
                return False
            self._revoke_family(session, record.family, reason)
            self._bump_version(session, record.user_id)
            session.commit()
            return True

    def revoke_access(self, user_id: int) -> None:
        """End every access token of the account now (other devices refresh theirs)."""
        with Session(self.engine) as session:
            self._bump_version(session, user_id)
            session.commit()

    @staticmethod
    def _bump_version(session: Session, user_id: int) -> None:
        session.execute(
            update(StaffUser).where(StaffUser.id == user_id).values(token_version=StaffUser.token_version + 1)
        )

    @staticmethod
    def _revoke_family(session: Session, family: str, reason: str) -> None:
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_reason=reason)
        )
