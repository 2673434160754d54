"""The channel_sms plugin loads through its entry point and is honest about what it can do."""

import asyncio

import jack_channel_sms.plugin

from jack_host.testing import make_app


def test_channel_sms_registers_and_reports_not_configured(tmp_path):
    app = make_app(tmp_path, plugins=[("channel_sms", jack_channel_sms.plugin)])
    component = app.channels["sms"]
    health = asyncio.run(component.health())
    assert health.state == "not_configured"
    assert health.detail
