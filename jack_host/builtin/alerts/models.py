"""The alerts feature's tables: the log of alert events, the state of each alert, and each delivery attempt.

``alerts`` (``alerts_0001``) keeps every raise, escalation and resolution as it happened.
``alert_incidents`` and ``alert_deliveries`` (``alerts_0002``) hold what must survive a restart:
where each open alert is on its escalation path and which pages are still to be sent.
Times there are Unix seconds (UTC), so the escalation loop compares numbers on every database.
"""

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


#: ``open`` (paging), ``held`` (waiting for quiet hours to end), ``acknowledged``, ``resolved``.
INCIDENT_STATUSES = ("open", "held", "acknowledged", "resolved")


class AlertIncident(SQLModel, table=True):
    """One alert from its first raise to its resolution, and where it is on its escalation path."""

    __tablename__ = "alert_incidents"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    #: The stable key of the alert (its ``dedup_key``, else its name); PagerDuty's ``dedup_key`` too.
    key: str = Field(index=True)
    alert_type: str
    severity: str
    summary: str
    details: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="open", index=True)
    #: Index into the alert's escalation path (its levels for its type); -1 before the first page.
    level: int = -1
    level_name: str = ""
    #: When the next level is paged (or, when held, when quiet hours end); NULL: nothing is due.
    next_escalation_at: float | None = Field(default=None, index=True)
    acknowledged_at: float | None = None
    acknowledged_by: str = ""
    resolved_at: float | None = None
    created_at: float
    updated_at: float


class AlertDelivery(SQLModel, table=True):
    """One event (``trigger``, ``acknowledge``, ``resolve``) for one contact through one route, and its attempts."""

    __tablename__ = "alert_deliveries"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(index=True)
    level: int
    route: str
    contact_type: str
    target: str
    action: str
    #: ``pending``, ``sending`` (claimed by one process), ``sent``, ``failed`` or ``cancelled``.
    status: str = Field(default="pending", index=True)
    attempts: int = 0
    next_attempt_at: float = 0.0
    claimed_at: float | None = None
    detail: str = ""
    created_at: float
    updated_at: float
