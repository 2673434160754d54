"""On-call paging through PagerDuty Events v2: the alert route object."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jack_host.contract.interfaces import Alert, AlertRoute, ComponentHealth, NotConfiguredError

if TYPE_CHECKING:
    from jack_host.contract.app import App


class PagerdutyRoute(AlertRoute):
    name = "pagerduty"

    def __init__(self, app: App):
        self.app = app

    async def health(self) -> ComponentHealth:
        return ComponentHealth.not_configured("PagerDuty paging is not available yet in this version")

    async def send(self, alert: Alert) -> None:
        raise NotConfiguredError("alert route 'pagerduty' is not available yet in this version")
