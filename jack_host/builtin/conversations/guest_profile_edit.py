"""Staff edits of a guest's profile (the dashboard's conversation page): name, numbers, language, notes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from jack_host.builtin.conversations.models import Guest, now_utc
from jack_host.builtin.conversations.records import guest_dict
from jack_host.contract.services import GUEST_EDITABLE_FIELDS as EDITABLE
from jack_host.contract.services import GuestNotFound

LIMITS = {"name": 200, "phone": 32, "email": 320, "preferred_language": 16, "notes": 4000}


def update_guest(engine: Engine, guest_id: int, **fields: Any) -> dict[str, Any]:
    """Set the given fields (empty text clears a field); raise ``ValueError`` naming a field that is too long."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        if len(str(value)) > LIMITS[name]:
            raise ValueError(f"{name}: at most {LIMITS[name]} characters")
    with Session(engine, expire_on_commit=False) as session:
        guest = session.get(Guest, guest_id)
        if guest is None:
            raise GuestNotFound(f"guest {guest_id} does not exist")
        for name, value in fields.items():
            text = str(value).strip()
            setattr(guest, name, text if (text or name == "notes") else None)
        guest.updated_at = now_utc()
        session.add(guest)
        session.commit()
        return guest_dict(guest)

