"""The channel_whatsapp plugin loads through its entry point and is honest about what it can do."""

import asyncio

import jack_channel_whatsapp.plugin

from jack_host.testing import make_app


def test_channel_whatsapp_registers_and_reports_not_configured(tmp_path):
    app = make_app(tmp_path, plugins=[("channel_whatsapp", jack_channel_whatsapp.plugin)])
    component = app.channels["whatsapp"]
    health = asyncio.run(component.health())
    assert health.state == "not_configured"
    assert health.detail
