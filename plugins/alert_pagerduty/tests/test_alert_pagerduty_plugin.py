"""The alert_pagerduty plugin loads through its entry point and is honest about what it can do."""

import asyncio

import jack_alert_pagerduty.plugin

from jack_host.testing import make_app


def test_alert_pagerduty_registers_and_reports_not_configured(tmp_path):
    app = make_app(tmp_path, plugins=[("alert_pagerduty", jack_alert_pagerduty.plugin)])
    component = app.alert_routes["pagerduty"]
    health = asyncio.run(component.health())
    assert health.state == "not_configured"
    assert health.detail
