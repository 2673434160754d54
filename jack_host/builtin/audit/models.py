"""The audit feature's table (created by ``audit_0001``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from jack_host.db.models import utcnow


class AuditEntry(SQLModel, table=True):
    """One change: who, when, what, to what, old and new (secrets masked)."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=utcnow, index=True)
    actor: str
    action: str = Field(index=True)
    target: str = Field(index=True)
    old: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    new: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
