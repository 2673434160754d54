"""Hook implementations of the alert_pagerduty plugin."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from jack_alert_pagerduty.route import DEFAULT_EVENTS_URL, PagerdutyRoute
from jack_host import hookimpl
from jack_host.config.settings import Setting
from jack_host.contract.interfaces import AlertRoute

if TYPE_CHECKING:
    from jack_host.contract.app import App


def _check_url(value: str) -> str | None:
    if not str(value).startswith(("http://", "https://")):
        return "an http:// or https:// URL"
    return None


@hookimpl
def jack_settings_validators() -> list[Setting]:
    return [
        Setting("PAGERDUTY_SERVICE_KEY", str, "", "PagerDuty Events API v2 integration key; pages on its own when oncall.yaml has no escalation", secret=True),
        Setting("PAGERDUTY_EVENTS_URL", str, DEFAULT_EVENTS_URL, "PagerDuty Events API base URL (events are POSTed to /v2/enqueue)", check=_check_url),
    ]


@hookimpl
def jack_register_alert_routes(register: Callable[[AlertRoute], None], app: App) -> None:
    register(PagerdutyRoute(app))
