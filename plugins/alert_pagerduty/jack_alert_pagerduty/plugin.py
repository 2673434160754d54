"""Hook implementations of the alert_pagerduty plugin."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from jack_alert_pagerduty.route import PagerdutyRoute
from jack_host import hookimpl
from jack_host.contract.interfaces import AlertRoute

if TYPE_CHECKING:
    from jack_host.contract.app import App


@hookimpl
def jack_register_alert_routes(register: Callable[[AlertRoute], None], app: App) -> None:
    register(PagerdutyRoute(app))
