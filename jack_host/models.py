"""Tables the host itself owns: recorded alerts and a small key-value state store."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


def utcnow() -> dt.datetime:
    # Aware: SQLModel's datetime columns refuse naive values (they would be ambiguous).
    return dt.datetime.now(dt.UTC)


class AlertRecord(SQLModel, table=True):
    """Every alert raised, and which routes delivered it (or why none did)."""

    __tablename__ = "alerts"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    severity: str
    summary: str
    details: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    dedup_key: str | None = Field(default=None, index=True)
    delivered_to: str = ""
    delivery_error: str = ""
    resolved: bool = False
    created_at: dt.datetime = Field(default_factory=utcnow, index=True)


class StateEntry(SQLModel, table=True):
    """Small durable facts that must survive a restart (last drill, fired budget thresholds...)."""

    __tablename__ = "jack_state"

    key: str = Field(primary_key=True)
    value: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: dt.datetime = Field(default_factory=utcnow)
