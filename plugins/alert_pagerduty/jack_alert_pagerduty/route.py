"""On-call paging through PagerDuty Events API v2: the ``pagerduty`` alert route.

One event per page: ``POST {PAGERDUTY_EVENTS_URL}/v2/enqueue`` with the contact's
``service_key`` as ``routing_key`` and the alert's stable key as ``dedup_key``, so a
re-page, the acknowledgement and the resolution all land on the same PagerDuty incident.
A 429 (PagerDuty's rate limit) or 5xx is a transient failure: the host retries it later,
after ``Retry-After`` when PagerDuty sends one, else with its doubling backoff.
"""

from __future__ import annotations

import hashlib
import json
import socket
import urllib.parse
from typing import TYPE_CHECKING, Any

import httpx

from jack_host.contract.interfaces import Alert, AlertRoute, ComponentHealth, NotConfiguredError
from jack_host.kit.provider_http import post

if TYPE_CHECKING:
    from jack_host.contract.app import App

PROVIDER = "PagerDuty"
DEFAULT_EVENTS_URL = "https://events.pagerduty.com"
#: PagerDuty's severities; Jack's ``warning`` and ``critical`` are the same words.
SEVERITY = {"info": "info", "warning": "warning", "critical": "critical"}


def pagerduty_error(response: httpx.Response) -> tuple[str, Any]:
    """``{"status", "message", "errors": [...]}`` as one line."""
    try:
        document = response.json()
        errors = document.get("errors") or []
        text = str(document.get("message") or response.reason_phrase)
        return (f"{text}: {'; '.join(map(str, errors))}" if errors else text), document.get("status")
    except (ValueError, AttributeError):
        return response.text[:200] or response.reason_phrase, None


def dedup_key(alert: Alert) -> str:
    """Stable per alert, at most 255 characters (PagerDuty's limit)."""
    key = alert.dedup_key or alert.name
    return key if len(key) <= 255 else key[:200] + "-" + hashlib.sha256(key.encode()).hexdigest()[:32]


class PagerdutyRoute(AlertRoute):
    name = "pagerduty"
    contact_type = "pagerduty"

    def __init__(self, app: App):
        self.app = app

    def events_url(self) -> str:
        return str(self.app.settings.get("PAGERDUTY_EVENTS_URL") or DEFAULT_EVENTS_URL).rstrip("/") + "/v2/enqueue"

    def source(self) -> str:
        public = str(self.app.settings.get("PUBLIC_URL") or "")
        return urllib.parse.urlsplit(public).hostname or socket.gethostname() or "jack"

    async def health(self) -> ComponentHealth:
        # Not probed: the Events API has no read-only call, and a test event would page someone.
        if not self.has_contacts():
            return ComponentHealth.not_configured("no pagerduty contact in oncall.yaml and PAGERDUTY_SERVICE_KEY is not set")
        return ComponentHealth.connected(f"pages through {self.events_url()} (not probed: a probe would page)")

    def has_contacts(self) -> bool:
        if str(self.app.settings.get("PAGERDUTY_SERVICE_KEY") or "").strip():
            return True
        levels = (self.app.settings.get("escalation") or {}).get("levels") or []
        return any(isinstance(c, dict) and c.get("type") == "pagerduty" and c.get("service_key")
                   for level in levels if isinstance(level, dict) for c in (level.get("contacts") or []))

    async def send(self, alert: Alert) -> None:
        raise NotConfiguredError("the pagerduty route only pages pagerduty contacts of oncall.yaml (or PAGERDUTY_SERVICE_KEY)")

    def event(self, alert: Alert, routing_key: str, action: str) -> dict[str, Any]:
        event: dict[str, Any] = {"routing_key": routing_key, "event_action": action, "dedup_key": dedup_key(alert)}
        if action == "trigger":
            event["payload"] = {
                "summary": alert.summary[:1024],
                "severity": SEVERITY.get(alert.severity, "warning"),
                "source": self.source(),
                "component": "jack",
                "class": alert.name,
                "custom_details": json.loads(json.dumps(alert.details, default=str)),
            }
            event["client"] = "Jack The Butler"
            public = str(self.app.settings.get("PUBLIC_URL") or "")
            if public:
                event["client_url"] = public
        return event

    async def page(self, alert: Alert, target: str, action: str) -> str:
        response = await post(self.events_url(), PROVIDER, pagerduty_error, json=self.event(alert, target, action))
        try:
            return f"{action} accepted ({response.json().get('message', 'Event processed')})"
        except ValueError:
            return f"{action} accepted"
