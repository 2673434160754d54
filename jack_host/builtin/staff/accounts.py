"""Staff accounts: argon2 password hashes, roles, creating, listing and disabling.

Functions here are synchronous (SQLAlchemy + argon2 are CPU/IO bound); the API calls
them through ``asyncio.to_thread`` so hashing never blocks the event loop.
"""

from __future__ import annotations

import functools
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from jack_host.builtin.staff.models import ROLES, RefreshToken, StaffUser, utcnow
from jack_host.contract.services import STAFF_MIN_PASSWORD_LENGTH

MIN_PASSWORD_LENGTH = STAFF_MIN_PASSWORD_LENGTH
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_hasher = PasswordHasher()  # argon2id with the library's recommended parameters; stateless


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the e-mail is unknown, so a wrong address costs as long as a wrong password.

    Made on first use: hashing at import cost every ``jack`` command 0.3 s.
    """
    return _hasher.hash("jack-dummy-password-for-timing")


class AccountError(ValueError):
    """A request about accounts cannot be done; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class EmailTaken(AccountError):
    """An account with this e-mail already exists."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


def check_email(email: str) -> str | None:
    return None if _EMAIL.match(normalize_email(email)) else "not an e-mail address"


def check_password(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"at least {MIN_PASSWORD_LENGTH} characters"
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def create_user(engine: Engine, email: str, password: str, *, name: str = "", role: str = "staff") -> StaffUser:
    """Create an account; raise :class:`AccountError` / :class:`EmailTaken` with a clear reason."""
    email = normalize_email(email)
    if problem := check_email(email):
        raise AccountError(f"email: {problem}", field="email")
    if role not in ROLES:
        raise AccountError(f"role: expected one of {', '.join(ROLES)}", field="role")
    if problem := check_password(password):
        raise AccountError(f"password: {problem}", field="password")
    user = StaffUser(email=email, name=name.strip(), role=role, password_hash=hash_password(password))
    with Session(engine, expire_on_commit=False) as session:
        if session.exec(select(StaffUser.id).where(StaffUser.email == email)).first() is not None:
            raise EmailTaken(f"an account with e-mail {email} already exists", field="email")
        session.add(user)
        try:
            session.commit()
        except IntegrityError:  # created concurrently between our check and insert
            raise EmailTaken(f"an account with e-mail {email} already exists", field="email") from None
        session.refresh(user)
    return user


def authenticate(engine: Engine, email: str, password: str) -> StaffUser | None:
    """The active account with this e-mail and password, else None (same cost either way)."""
    with Session(engine, expire_on_commit=False) as session:
        user = session.exec(select(StaffUser).where(StaffUser.email == normalize_email(email))).first()
        if user is None:
            verify_password(_dummy_hash(), password)
            return None
        if not verify_password(user.password_hash, password) or not user.active:
            return None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.last_login_at = utcnow()
        session.add(user)
        session.commit()
        session.refresh(user)
        return user


def get_user(engine: Engine, user_id: int) -> StaffUser | None:
    with Session(engine, expire_on_commit=False) as session:
        return session.get(StaffUser, user_id)


def list_users(engine: Engine) -> list[StaffUser]:
    with Session(engine, expire_on_commit=False) as session:
        return list(session.exec(select(StaffUser).order_by(StaffUser.id)).all())


def set_active(engine: Engine, user_id: int, active: bool) -> StaffUser | None:
    """Enable or disable an account; disabling also revokes every refresh and access token it holds."""
    with Session(engine, expire_on_commit=False) as session:
        user = session.get(StaffUser, user_id)
        if user is None:
            return None
        user.active = active
        if not active:
            user.token_version += 1  # its access tokens stay dead even if the account is enabled again
        session.add(user)
        if not active:
            session.execute(
                update(RefreshToken)
                .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
                .values(revoked_at=utcnow(), revoked_reason="account disabled")
            )
        session.commit()
        session.refresh(user)
        return user


def admin_exists(engine: Engine) -> bool:
    """Whether any admin account exists (enabled or not): the dashboard's first-run page closes then."""
    with Session(engine) as session:
        return session.exec(select(StaffUser.id).where(StaffUser.role == "admin")).first() is not None


def set_role(engine: Engine, user_id: int, role: str) -> StaffUser | None:
    """Change an account's role; it applies at the next request (every request loads the account)."""
    if role not in ROLES:
        raise AccountError(f"role: expected one of {', '.join(ROLES)}", field="role")
    with Session(engine, expire_on_commit=False) as session:
        user = session.get(StaffUser, user_id)
        if user is None:
            return None
        user.role = role
        session.add(user)
        session.commit()
        session.refresh(user)
        return user


def set_password(engine: Engine, user_id: int, password: str) -> StaffUser | None:
    """Reset an account's password; every sign-in it holds ends (tokens revoked)."""
    if problem := check_password(password):
        raise AccountError(f"password: {problem}", field="password")
    with Session(engine, expire_on_commit=False) as session:
        user = session.get(StaffUser, user_id)
        if user is None:
            return None
        user.password_hash = hash_password(password)
        user.token_version += 1
        session.add(user)
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_reason="password reset")
        )
        session.commit()
        session.refresh(user)
        return user
