"""The table the host itself owns: a small key-value store of durable facts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


def utcnow() -> dt.datetime:
    # Aware: SQLModel's datetime columns refuse naive values (they would be ambiguous).
    return dt.datetime.now(dt.UTC)


def iso(value: dt.datetime | None) -> str | None:
    """A UTC datetime (naive ones are taken as UTC) -> ISO 8601 with an explicit offset."""
    if value is None:
        return None
    return (value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)).isoformat()


class StateEntry(SQLModel, table=True):
    """Small durable facts that must survive a restart (last drill, fired budget thresholds...)."""

    __tablename__ = "jack_state"

    key: str = Field(primary_key=True)
    value: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: dt.datetime = Field(default_factory=utcnow)
