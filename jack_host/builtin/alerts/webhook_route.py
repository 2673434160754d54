"""The generic ``webhook`` alert route: Slack-compatible JSON (``text`` and ``attachments``) to a contact's ``url``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from jack_host.builtin.alerts.service import contacts_of
from jack_host.contract.interfaces import Alert, AlertRoute, ComponentHealth, NotConfiguredError
from jack_host.kit.provider_http import post

if TYPE_CHECKING:
    from jack_host.contract.app import App

COLOURS = {"info": "#439FE0", "warning": "warning", "critical": "danger"}
PREFIX = {"trigger": "", "acknowledge": "Acknowledged: ", "resolve": "Resolved: "}


def slack_message(alert: Alert, action: str) -> dict:
    fields = [{"title": "alert", "value": alert.name, "short": True}, {"title": "severity", "value": alert.severity, "short": True}]
    fields += [{"title": str(k), "value": str(v), "short": True} for k, v in sorted(alert.details.items())]
    return {
        "text": f"{PREFIX[action]}[{alert.severity.upper()}] {alert.summary}",
        "attachments": [{
            "color": "good" if action != "trigger" else COLOURS.get(alert.severity, "warning"),
            "title": alert.summary,
            "fields": fields,
            "fallback": f"{PREFIX[action]}{alert.summary}",
        }],
    }


def _error(response: httpx.Response) -> tuple[str, object]:
    return response.text[:200] or response.reason_phrase, None


class WebhookAlertRoute(AlertRoute):
    name = "webhook"
    contact_type = "webhook"

    def __init__(self, app: App):
        self.app = app

    async def health(self) -> ComponentHealth:
        if not contacts_of(self.app, "webhook"):
            return ComponentHealth.not_configured("no webhook contact in oncall.yaml")
        return ComponentHealth.connected("posts Slack-compatible JSON to the webhook contacts of oncall.yaml (not probed)")

    async def send(self, alert: Alert) -> None:
        raise NotConfiguredError("the webhook route only pages webhook contacts of oncall.yaml")

    async def page(self, alert: Alert, target: str, action: str) -> str:
        response = await post(target, "the alert webhook", _error, json=slack_message(alert, action))
        return f"HTTP {response.status_code}"
