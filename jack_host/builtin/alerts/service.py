"""Raising alerts and walking them through the on-call escalation (``oncall.yaml``).

An alert is logged in ``alerts`` and becomes an incident in ``alert_incidents``; each page is a
row in ``alert_deliveries`` written in the same transaction as the escalation step that needs it,
then sent.  So a process killed between two levels leaves the next level due in the database,
and the process that starts next pages it, once: a delivery is claimed by one process with a
conditional update before it is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import update
from sqlmodel import Session, select

from jack_host.builtin.alerts.detectors import raise_health_alerts
from jack_host.builtin.alerts.models import AlertDelivery, AlertIncident, AlertRecord
from jack_host.builtin.alerts.oncall import ALERT_TYPES, Level, OnCall, parse_oncall, severity_rank
from jack_host.config.settings import SettingsError
from jack_host.contract.interfaces import (
    Alert,
    AlertRoute,
    NotConfiguredError,
    PermanentSendError,
    TransientSendError,
)
from jack_host.contract.services import AlertNotFound, Alerts

if TYPE_CHECKING:
    from jack_host.contract.app import App

log = logging.getLogger("jack.alerts")

#: Alert-name prefixes of the deployment document's alert-routing table (``details["alert_type"]`` wins).
TYPE_BY_PREFIX = (
    (("health.", "container."), "container_unhealthy"),
    (("database.", "db."), "database_error"),
    (("channel.", "webhook."), "channel_outage"),
    (("ai.", "llm."), "ai_provider_down"),
    (("security.",), "security_alert"),
    (("sla.", "guest_complaint."), "guest_complaint_sla"),
    (("budget.", "costs.", "backup."), "other"),
)
TYPE_BY_WORD = (
    ("health", "container_unhealthy"),
    ("database", "database_error"),
    ("webhook", "channel_outage"),
    ("channel", "channel_outage"),
    ("ai", "ai_provider_down"),
    ("llm", "ai_provider_down"),
    ("security", "security_alert"),
    ("sla", "guest_complaint_sla"),
)
ACTIVE = ("open", "held", "acknowledged")
#: A delivery claimed this long ago by a process that never finished it is taken over.
STALE_CLAIM_SECONDS = 120.0
PAGE_TIMEOUT = 30.0


def alert_type(alert: Alert) -> str:
    """The alert-routing table's type of ``alert``."""
    declared = alert.details.get("alert_type") if isinstance(alert.details, dict) else None
    if declared in ALERT_TYPES:
        return str(declared)
    for prefixes, kind in TYPE_BY_PREFIX:
        if alert.name.startswith(prefixes):
            return kind
    # Threshold alerts are named after their metric (``jack_health_check_failures``, ``sla_breaches``...).
    words = set(re.split(r"[^a-z0-9]+", alert.name.lower()))
    for word, kind in TYPE_BY_WORD:
        if word in words:
            return kind
    return "other"


def iso(seconds: float | None) -> str | None:
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="seconds")


class AlertService(Alerts):
    """``await app.services.alerts.raise_alert(Alert(...))`` from anywhere in the host or a plugin.

    Every alert is stored whatever happens to delivery.  Routes without a contact type (the log)
    get every alert as it is raised; the others page the contacts of the escalation level due.
    A failing route does not stop the next one; failed pages are retried with backoff.

    ``clock`` (Unix seconds) may be replaced by tests.

    :raises SettingsError: ``oncall.yaml`` is malformed (one line per problem).
    """

    def __init__(self, app: App):
        self.app = app
        self.oncall: OnCall
        self.oncall, errors = parse_oncall(
            app.settings.get("escalation"),
            app.settings.get("alert_routing"),
            pagerduty_key=str(app.settings.get("PAGERDUTY_SERVICE_KEY") or "").strip(),
        )
        if errors:
            raise SettingsError(errors)
        self.clock: Callable[[], float] = time.time

    # ------------------------------------------------------------------ routes
    def paging_routes(self) -> dict[str, AlertRoute]:
        """Contact type -> the route that pages it."""
        return {route.contact_type: route for route in self.app.alert_routes.values() if route.contact_type}

    def broadcast_routes(self) -> dict[str, AlertRoute]:
        return {name: route for name, route in self.app.alert_routes.items() if not route.contact_type}

    def _settings_float(self, key: str, default: float) -> float:
        try:
            return float(self.app.settings.get(key) or default)
        except (TypeError, ValueError):
            return default

    # ------------------------------------------------------------------ raising
    async def raise_alert(self, alert: Alert) -> AlertRecord | None:
        """Record ``alert`` and start (or escalate, or resolve) its incident; page what is due now.

        Raising an alert that is already active at the same or a lower severity changes nothing and
        returns ``None``; a higher severity escalates the same incident.
        """
        now = self.clock()
        key = alert.dedup_key or alert.name
        with Session(self.app.engine) as session:
            incident = session.exec(
                select(AlertIncident).where(AlertIncident.key == key, AlertIncident.status.in_(ACTIVE))  # type: ignore[attr-defined]
                .order_by(AlertIncident.id.desc())  # type: ignore[union-attr]
            ).first()
            if alert.resolved:
                if incident is None:
                    return None
                self._resolve(session, incident, now, "resolved by its source")
            elif incident is not None:
                if severity_rank(alert.severity) <= severity_rank(incident.severity):
                    return None
                self._escalate_severity(session, incident, alert, now)
            else:
                incident = self._open(session, alert, key, now)
            session.commit()
            incident_id = incident.id
        delivered, failures = await self._broadcast(alert)
        outcomes = await self.deliver_due(incident_id=incident_id)
        delivered += sorted({o["route"] for o in outcomes if o["status"] == "sent"} - set(delivered))
        failures += [f"{o['route']}: {o['detail']}" for o in outcomes if o["status"] != "sent"]
        record = AlertRecord(
            name=alert.name,
            severity=alert.severity,
            summary=alert.summary,
            details=alert.details,
            dedup_key=alert.dedup_key,
            delivered_to=",".join(delivered),
            delivery_error="; ".join(failures),
            resolved=alert.resolved,
        )
        with Session(self.app.engine) as session:
            session.add(record)
            session.commit()
            session.refresh(record)
        return record

    async def _broadcast(self, alert: Alert) -> tuple[list[str], list[str]]:
        delivered: list[str] = []
        failures: list[str] = []

        async def one(name: str, route: AlertRoute) -> None:
            try:
                health = await asyncio.wait_for(route.health(), PAGE_TIMEOUT)
                if health.state == "not_configured":
                    return
                await asyncio.wait_for(route.send(alert), PAGE_TIMEOUT)
                delivered.append(name)
            except Exception as exc:  # a route failing must never hide the alert or block the others
                failures.append(f"{name}: {exc}")
                log.warning("alert route %s failed for %s: %s", name, alert.name, exc)

        await asyncio.gather(*(one(name, route) for name, route in self.broadcast_routes().items()))
        return delivered, failures

    def _open(self, session: Session, alert: Alert, key: str, now: float) -> AlertIncident:
        incident = AlertIncident(
            name=alert.name,
            key=key,
            alert_type=alert_type(alert),
            severity=alert.severity,
            summary=alert.summary,
            details=alert.details,
            status="open",
            created_at=now,
            updated_at=now,
        )
        session.add(incident)
        session.flush()
        self._start(session, incident, now)
        return incident

    def _start(self, session: Session, incident: AlertIncident, now: float) -> None:
        """Page the first level, or hold the incident until quiet hours end."""
        path = self.oncall.path(incident.alert_type)
        if not path or incident.severity == "info":
            incident.next_escalation_at = None
            return
        quiet = self.oncall.quiet_hours
        if quiet is not None and not quiet.pages(incident.severity):
            local = dt.datetime.fromtimestamp(now, self.app.hotel_timezone())
            if quiet.active(local):
                incident.status = "held"
                incident.next_escalation_at = quiet.ends_after(local).timestamp()
                incident.updated_at = now
                return
        incident.status = "open"
        self._enter_level(session, incident, 0, path, now)

    def _enter_level(self, session: Session, incident: AlertIncident, index: int, path: tuple[Level, ...], now: float) -> None:
        level = path[index]
        incident.level = index
        incident.level_name = level.name
        incident.next_escalation_at = now + level.wait_minutes * 60 if index + 1 < len(path) else None
        incident.updated_at = now
        routes = self.paging_routes()
        for contact in level.contacts:
            if not contact.target:
                continue  # an unset ${VARIABLE}: `jack doctor` names it
            route = routes.get(contact.type)
            session.add(AlertDelivery(
                incident_id=incident.id,
                level=index,
                route=route.name if route else contact.type,
                contact_type=contact.type,
                target=contact.target,
                action="trigger",
                status="pending" if route else "failed",
                detail="" if route else f"no alert route for {contact.type} contacts is installed",
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            ))

    def _escalate_severity(self, session: Session, incident: AlertIncident, alert: Alert, now: float) -> None:
        incident.severity = alert.severity
        incident.summary = alert.summary
        incident.details = alert.details
        incident.updated_at = now
        if incident.status == "held":
            quiet = self.oncall.quiet_hours
            if quiet is None or quiet.pages(incident.severity):
                self._start(session, incident, now)
        elif incident.status == "open" and incident.level >= 0:
            # The level being paged hears about the new severity (PagerDuty updates the same incident).
            path = self.oncall.path(incident.alert_type)
            if incident.level < len(path):
                next_at = incident.next_escalation_at
                self._enter_level(session, incident, incident.level, path, now)
                incident.next_escalation_at = next_at
        elif incident.status == "open":
            self._start(session, incident, now)

    def _queue_update(self, session: Session, incident: AlertIncident, action: str, now: float) -> None:
        """Tell every contact that was paged about the incident (PagerDuty closes its own incident)."""
        session.execute(
            update(AlertDelivery)
            .where(AlertDelivery.incident_id == incident.id, AlertDelivery.status == "pending")  # type: ignore[arg-type]
            .values(status="cancelled", detail=f"not sent: the alert was {action}d first", updated_at=now)
        )
        sent = session.exec(
            select(AlertDelivery).where(AlertDelivery.incident_id == incident.id, AlertDelivery.action == "trigger",
                                        AlertDelivery.status == "sent")
        ).all()
        for route, contact_type, target in sorted({(d.route, d.contact_type, d.target) for d in sent}):
            session.add(AlertDelivery(
                incident_id=incident.id, level=incident.level, route=route, contact_type=contact_type, target=target,
                action=action, next_attempt_at=now, created_at=now, updated_at=now,
            ))

    def _resolve(self, session: Session, incident: AlertIncident, now: float, why: str) -> None:
        incident.status = "resolved"
        incident.resolved_at = now
        incident.next_escalation_at = None
        incident.updated_at = now
        self._queue_update(session, incident, "resolve", now)
        log.info("alert %s (%s) resolved: %s", incident.id, incident.key, why)

    # ------------------------------------------------------------------ staff actions
    def _get(self, session: Session, alert_id: int) -> AlertIncident:
        incident = session.get(AlertIncident, alert_id)
        if incident is None:
            raise AlertNotFound(f"no alert has id {alert_id}")
        return incident

    async def acknowledge(self, alert_id: int, by: str = "") -> dict[str, Any]:
        """Stop the escalation of an alert; PagerDuty hears the acknowledgement.

        :raises AlertNotFound: no such alert.
        :raises ValueError: the alert is already acknowledged or resolved.
        """
        now = self.clock()
        with Session(self.app.engine) as session:
            incident = self._get(session, alert_id)
            if incident.status in ("acknowledged", "resolved"):
                raise ValueError(f"alert {alert_id} is already {incident.status}")
            incident.status = "acknowledged"
            incident.acknowledged_at = now
            incident.acknowledged_by = by
            incident.next_escalation_at = None
            incident.updated_at = now
            self._queue_update(session, incident, "acknowledge", now)
            session.commit()
        await self.deliver_due(incident_id=alert_id)
        return self.get(alert_id)  # type: ignore[return-value]

    async def resolve(self, alert_id: int, by: str = "") -> dict[str, Any]:
        """Close an alert by hand; contacts that were paged hear it where their route can say so.

        :raises AlertNotFound: no such alert.
        :raises ValueError: the alert is already resolved.
        """
        now = self.clock()
        with Session(self.app.engine) as session:
            incident = self._get(session, alert_id)
            if incident.status == "resolved":
                raise ValueError(f"alert {alert_id} is already resolved")
            self._resolve(session, incident, now, f"by {by or 'hand'}")
            session.commit()
        await self.deliver_due(incident_id=alert_id)
        return self.get(alert_id)  # type: ignore[return-value]

    # ------------------------------------------------------------------ reading
    def get(self, alert_id: int) -> dict[str, Any] | None:
        with Session(self.app.engine) as session:
            incident = session.get(AlertIncident, alert_id)
            if incident is None:
                return None
            deliveries = session.exec(
                select(AlertDelivery).where(AlertDelivery.incident_id == alert_id).order_by(AlertDelivery.id)  # type: ignore[arg-type]
            ).all()
            return self._as_dict(incident, list(deliveries))

    def list(self, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Alerts newest first; ``status`` is one of the incident statuses, ``active`` (not resolved) or ``all``."""
        with Session(self.app.engine) as session:
            query = select(AlertIncident).order_by(AlertIncident.id.desc()).limit(limit)  # type: ignore[union-attr]
            if status == "active":
                query = query.where(AlertIncident.status.in_(ACTIVE))  # type: ignore[attr-defined]
            elif status and status != "all":
                query = query.where(AlertIncident.status == status)
            incidents = list(session.exec(query).all())
            ids = [i.id for i in incidents]
            deliveries: dict[int, list[AlertDelivery]] = {}
            if ids:
                for d in session.exec(select(AlertDelivery).where(AlertDelivery.incident_id.in_(ids)).order_by(AlertDelivery.id)).all():  # type: ignore[attr-defined]
                    deliveries.setdefault(d.incident_id, []).append(d)
            return [self._as_dict(i, deliveries.get(i.id or 0, [])) for i in incidents]

    def _as_dict(self, incident: AlertIncident, deliveries: list[AlertDelivery]) -> dict[str, Any]:
        path = self.oncall.path(incident.alert_type)
        return {
            "id": incident.id,
            "name": incident.name,
            "key": incident.key,
            "type": incident.alert_type,
            "severity": incident.severity,
            "summary": incident.summary,
            "details": incident.details,
            "status": incident.status,
            "level": incident.level,
            "level_name": incident.level_name,
            "levels": [level.name for level in path],
            "next_escalation_at": iso(incident.next_escalation_at),
            "acknowledged_at": iso(incident.acknowledged_at),
            "acknowledged_by": incident.acknowledged_by,
            "resolved_at": iso(incident.resolved_at),
            "created_at": iso(incident.created_at),
            "deliveries": [
                {
                    "id": d.id,
                    "level": d.level,
                    "route": d.route,
                    "contact": self._shown(d),
                    "action": d.action,
                    "status": d.status,
                    "attempts": d.attempts,
                    "detail": d.detail,
                    "at": iso(d.updated_at),
                }
                for d in deliveries
            ],
        }

    @staticmethod
    def _shown(delivery: AlertDelivery) -> str:
        if delivery.contact_type == "pagerduty":
            return f"pagerduty:...{delivery.target[-4:]}"
        return f"{delivery.contact_type}:{delivery.target}"

    # ------------------------------------------------------------------ the escalation loop
    def escalate_due(self) -> int:
        """Move every unacknowledged alert whose wait is over to its next level; return how many moved."""
        now = self.clock()
        moved = 0
        with Session(self.app.engine) as session:
            due = session.exec(
                select(AlertIncident).where(
                    AlertIncident.status.in_(("open", "held")),  # type: ignore[attr-defined]
                    AlertIncident.next_escalation_at <= now,  # type: ignore[operator]
                )
            ).all()
            for incident in due:
                # Claim the step: another process (a CLI command, a second server) may be at it too.
                claimed = session.execute(
                    update(AlertIncident)
                    .where(AlertIncident.id == incident.id, AlertIncident.updated_at == incident.updated_at,  # type: ignore[arg-type]
                           AlertIncident.status == incident.status)
                    .values(updated_at=now)
                ).rowcount
                if claimed != 1:
                    continue
                incident.updated_at = now
                path = self.oncall.path(incident.alert_type)
                if incident.status == "held":
                    self._start(session, incident, now)
                elif incident.level + 1 < len(path):
                    self._enter_level(session, incident, incident.level + 1, path, now)
                    log.warning("alert %s (%s) not acknowledged: paging level %s", incident.id, incident.key, incident.level_name)
                else:
                    incident.next_escalation_at = None
                session.add(incident)
                moved += 1
            session.commit()
        return moved

    async def deliver_due(self, incident_id: int | None = None) -> list[dict[str, Any]]:
        """Send every page that is due (of one incident, when given), each route on its own; return the outcomes."""
        now = self.clock()
        with Session(self.app.engine, expire_on_commit=False) as session:
            query = select(AlertDelivery).where(
                ((AlertDelivery.status == "pending") & (AlertDelivery.next_attempt_at <= now))
                | ((AlertDelivery.status == "sending") & (AlertDelivery.claimed_at < now - STALE_CLAIM_SECONDS))  # type: ignore[operator]
            )
            if incident_id is not None:
                query = query.where(AlertDelivery.incident_id == incident_id)
            candidates = session.exec(query.order_by(AlertDelivery.id)).all()  # type: ignore[arg-type]
            claimed: list[AlertDelivery] = []
            for delivery in candidates:
                rows = session.execute(
                    update(AlertDelivery)
                    .where(AlertDelivery.id == delivery.id, AlertDelivery.status == delivery.status,  # type: ignore[arg-type]
                           AlertDelivery.updated_at == delivery.updated_at)
                    .values(status="sending", claimed_at=now, updated_at=now)
                ).rowcount
                if rows == 1:
                    claimed.append(delivery)
            session.commit()
            incidents = {i.id: i for i in session.exec(
                select(AlertIncident).where(AlertIncident.id.in_({d.incident_id for d in claimed}))  # type: ignore[union-attr]
            ).all()} if claimed else {}
            for delivery in claimed:
                session.expunge(delivery)
        outcomes = await asyncio.gather(*(self._attempt(d, incidents[d.incident_id]) for d in claimed))
        return list(outcomes)

    async def _attempt(self, delivery: AlertDelivery, incident: AlertIncident) -> dict[str, Any]:
        route = self.paging_routes().get(delivery.contact_type)
        alert = Alert(
            name=incident.name,
            severity=incident.severity,  # type: ignore[arg-type]
            summary=incident.summary,
            details={**incident.details, "alert_id": incident.id, "level": incident.level_name},
            dedup_key=incident.key,
            resolved=incident.status == "resolved",
        )
        attempts = delivery.attempts + 1
        max_attempts = max(1, int(self._settings_float("ALERT_DELIVERY_ATTEMPTS", 5)))
        retry_at: float | None = None
        try:
            if route is None:
                raise NotConfiguredError(f"no alert route for {delivery.contact_type} contacts is installed")
            detail = await asyncio.wait_for(route.page(alert, delivery.target, delivery.action), PAGE_TIMEOUT)
            status = "sent"
        except (PermanentSendError, NotConfiguredError) as exc:
            status, detail = "failed", str(exc)
        except Exception as exc:  # transient, a timeout or a plugin's bug: try again later
            detail = str(exc) or type(exc).__name__
            if attempts >= max_attempts:
                status = "failed"
                detail = f"gave up after {attempts} attempts: {detail}"
            else:
                status = "pending"
                backoff = self._settings_float("ALERT_RETRY_SECONDS", 5.0) * 2 ** (attempts - 1)
                retry_after = exc.retry_after if isinstance(exc, TransientSendError) else None
                retry_at = self.clock() + min(300.0, max(backoff, retry_after or 0.0))
        if status != "sent":
            log.warning("alert %s: %s to %s through %s: %s (%s)", incident.id, delivery.action,
                        self._shown(delivery), delivery.route, status, detail)
        now = self.clock()
        with Session(self.app.engine) as session:
            session.execute(
                update(AlertDelivery).where(AlertDelivery.id == delivery.id)  # type: ignore[arg-type]
                .values(status=status, attempts=attempts, detail=str(detail)[:500], updated_at=now,
                        next_attempt_at=retry_at if retry_at is not None else delivery.next_attempt_at)
            )
            session.commit()
        return {"id": delivery.id, "route": delivery.route, "contact": self._shown(delivery), "action": delivery.action,
                "level": delivery.level, "status": status, "detail": str(detail), "attempts": attempts}

    async def run_once(self) -> None:
        """One pass of the loop: alerts from the health monitor, escalate what is due, then send what is due."""
        await raise_health_alerts(self.app, self)
        self.escalate_due()
        await self.deliver_due()

    async def loop(self, interval: float) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:  # keep escalating whatever one pass ran into
                log.exception("alert escalation pass failed")
            await asyncio.sleep(interval)

    # ------------------------------------------------------------------ `jack alerts test`
    async def send_test(self, severity: str = "warning") -> dict[str, Any]:
        """Page every level of the escalation at once with a test alert, then resolve it; return what each route did."""
        now = self.clock()
        alert = Alert(name="alert.test", severity=severity, summary=f"Test alert from Jack ({severity}): please ignore",  # type: ignore[arg-type]
                      details={"test": True}, dedup_key=f"alert.test.{int(now * 1000)}")
        held_until = None
        with Session(self.app.engine) as session:
            incident = self._open(session, alert, alert.dedup_key or alert.name, now)
            if incident.status == "held":
                held_until = iso(incident.next_escalation_at)
            else:
                path = self.oncall.path(incident.alert_type)
                for index in range(incident.level + 1, len(path)):
                    self._enter_level(session, incident, index, path, now)
                incident.next_escalation_at = None
            session.commit()
            incident_id = incident.id
        delivered, failures = await self._broadcast(alert)
        outcomes = await self.deliver_due(incident_id=incident_id)
        with contextlib.suppress(ValueError):
            await self.resolve(incident_id or 0, by="jack alerts test")
        final = self.get(incident_id or 0) or {}
        return {"alert": final, "held_until": held_until, "broadcast": {"delivered": delivered, "failed": failures},
                "pages": outcomes}


def contacts_of(app: App, contact_type: str) -> list[str]:
    """The non-empty targets of one contact type in the on-call schedule."""
    service = app.services.find(Alerts)
    if not isinstance(service, AlertService):
        return []
    return [c.target for level in service.oncall.levels for c in level.contacts if c.type == contact_type and c.target]


def service_of(app: App) -> AlertService:
    service = app.services.get(Alerts)
    assert isinstance(service, AlertService), "the alerts feature provides Alerts"
    return service
