"""The backup_s3 plugin loads through its entry point and is honest about what it can do."""

import asyncio

import jack_backup_s3.plugin

from jack_host.testing import make_app


def test_backup_s3_registers_and_reports_not_configured(tmp_path):
    app = make_app(tmp_path, plugins=[("backup_s3", jack_backup_s3.plugin)])
    component = app.backup_destinations["s3"]
    health = asyncio.run(component.health())
    assert health.state == "not_configured"
    assert health.detail
