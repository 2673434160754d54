"""Writing and reading the audit log, secrets masked on the way in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from jack_host.builtin.audit.models import AuditEntry
from jack_host.config.settings import SECRET_SUFFIXES, mask
from jack_host.contract.services import Audit, ResultPage
from jack_host.db.models import iso

if TYPE_CHECKING:
    from jack_host.contract.app import App

#: Keys masked whatever they are called by the caller (an account's password, a token).
ALWAYS_MASKED = frozenset({"password", "password_hash", "token", "secret", "api_key"})


def masked(values: dict[str, Any] | None, secret_keys: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """``values`` with every secret masked: listed keys, ``*_SECRET``/``*_TOKEN``/``*_KEY``... and passwords."""
    if values is None:
        return None
    listed = {key.upper() for key in secret_keys}
    shown: dict[str, Any] = {}
    for key, value in values.items():
        upper = str(key).upper()
        secret = upper in listed or upper.endswith(SECRET_SUFFIXES) or str(key).lower() in ALWAYS_MASKED
        if isinstance(value, dict):
            shown[key] = masked(value, secret_keys)
        else:
            shown[key] = mask(value) if (secret and value not in (None, "")) else value
    return shown


class AuditLog(Audit):
    """``app.services.audit.record("admin@hotel.test", "user.create", "user:3", None, {...})``."""

    def __init__(self, app: App):
        self.app = app

    def record(self, actor: str, action: str, target: str, old: dict[str, Any] | None = None,
               new: dict[str, Any] | None = None, *, secret_keys: tuple[str, ...] = ()) -> int:
        entry = AuditEntry(actor=actor or "?", action=action, target=target,
                           old=_jsonable(masked(old, secret_keys)), new=_jsonable(masked(new, secret_keys)))
        with Session(self.app.engine) as session:
            session.add(entry)
            session.commit()
            session.refresh(entry)
            return int(entry.id or 0)

    def entries(self, limit: int = 50, offset: int = 0, target: str | None = None) -> ResultPage:
        query = select(AuditEntry)
        count = select(func.count()).select_from(AuditEntry)
        if target:
            query = query.where(col(AuditEntry.target).startswith(target, autoescape=True))
            count = count.where(col(AuditEntry.target).startswith(target, autoescape=True))
        with Session(self.app.engine) as session:
            rows = session.exec(query.order_by(col(AuditEntry.id).desc()).limit(limit).offset(offset)).all()
            total = int(session.exec(count).one())
        return ResultPage([_entry_dict(row) for row in rows], total)


def _entry_dict(row: AuditEntry) -> dict[str, Any]:
    return {"id": row.id, "at": iso(row.at), "actor": row.actor, "action": row.action, "target": row.target,
            "old": row.old, "new": row.new}


def _jsonable(value: Any) -> Any:
    """Dates and other objects become text, so any record the callers hand in can be stored as JSON."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
