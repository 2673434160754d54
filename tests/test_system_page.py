"""The System page in headless Chromium: /health, plugins with versions, "back up now" and the last
backup, open alerts acknowledged, the audit log and the version. All seven plugins installed, only the
minimum configured; axe-core on the page, screenshots saved."""

from __future__ import annotations

import asyncio

import pytest

from jack_host import __version__
from jack_host.builtin.staff import accounts
from jack_host.contract.interfaces import Alert
from jack_host.testing import make_app, running_app
from tests.browser.dashboard_kit import check_page, chromium, new_context, sign_in

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("system-page"), env={"JWT_SECRET": "s" * 40}, load_entrypoints=True)
    accounts.create_user(app.engine, "gm@hotel.test", PASSWORD, name="Grace", role="admin")
    app.services.audit.record("gm@hotel.test", "knowledge.update", "knowledge:7", {"body": "Open 8-20."}, {"body": "Open 9-21."})
    with running_app(app) as base_url:
        asyncio.run(app.services.alerts.raise_alert(Alert("disk.low", "critical", "Disk 95% full on /data")))
        yield app, base_url


def test_system_shows_health_plugins_backups_alerts_and_the_audit_log(server):
    from playwright.sync_api import expect

    app, url = server
    with chromium() as browser:
        page = new_context(browser).new_page()
        sign_in(page, url, "gm@hotel.test", PASSWORD, path="/system")
        expect(page.locator("#jack-version")).to_have_text(__version__)
        expect(page.get_by_role("heading", level=1)).to_contain_text("System")
        plugins = page.locator("section").filter(has=page.get_by_role("heading", name="Plugins"))
        for name in ("channel_sms", "channel_whatsapp", "llm_ollama", "backup_s3", "jack.app_settings"):
            expect(plugins.get_by_role("cell", name=name, exact=False).first).to_be_visible()
        health = page.locator("section").filter(has=page.get_by_role("heading", name="Health"))
        expect(health).to_contain_text("channel webchat")
        audit = page.locator("section").filter(has=page.get_by_role("heading", name="Audit log"))
        expect(audit).to_contain_text("knowledge.update")
        expect(audit).to_contain_text('"Open 9-21."')
        backups = page.locator("section").filter(has=page.get_by_role("heading", name="Backups"))
        expect(backups).to_contain_text("Last backup: none yet")
        check_page(page, "system")

        page.get_by_role("button", name="Back up now").click()
        expect(page.locator(".flash")).to_contain_text("stored at local")
        expect(backups).not_to_contain_text("Last backup: none yet")
        assert app.services.backups.status()["last_success_key"]

        alerts = page.locator("section").filter(has=page.get_by_role("heading", name="Open alerts"))
        expect(alerts).to_contain_text("Disk 95% full on /data")
        alerts.get_by_role("button", name="Acknowledge Disk 95% full on /data").click()
        expect(page.locator(".flash")).to_contain_text("acknowledged")
        [alert] = [a for a in app.services.alerts.list("all") if a["summary"] == "Disk 95% full on /data"]
        assert alert["acknowledged_by"] == "gm@hotel.test"
        expect(alerts.get_by_role("button", name="Acknowledge Disk 95% full on /data")).to_have_count(0)
        check_page(page, "system-after-backup-and-ack")
