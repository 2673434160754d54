"""The alerts feature's table (created by ``alerts_0001``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from jack_host.db.models import utcnow


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
