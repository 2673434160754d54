"""The alert_pagerduty plugin: Events API v2 events as PagerDuty documents them, against the loopback fake."""

import asyncio

import jack_alert_pagerduty.plugin
import pytest

from jack_host.contract.interfaces import Alert, PermanentSendError, TransientSendError
from jack_host.testing import make_app
from jack_host.testing.fake_pagerduty import FakePagerDuty
from jack_host.testing.loopback import Reply

KEY = "0123456789abcdef0123456789abcdef"
PLUGIN = [("alert_pagerduty", jack_alert_pagerduty.plugin)]


@pytest.fixture(scope="module")
def pd():
    with FakePagerDuty() as fake:
        yield fake


def test_without_a_key_or_contact_the_route_says_it_is_not_configured(tmp_path):
    app = make_app(tmp_path, plugins=PLUGIN)
    health = asyncio.run(app.alert_routes["pagerduty"].health())
    assert health.state == "not_configured" and "PAGERDUTY_SERVICE_KEY" in health.detail
    app.engine.dispose()


def test_trigger_acknowledge_resolve_share_one_dedup_key_and_429_is_transient(tmp_path, pd):
    app = make_app(tmp_path, plugins=PLUGIN, env={"PAGERDUTY_EVENTS_URL": pd.url, "PAGERDUTY_SERVICE_KEY": KEY,
                                                  "PUBLIC_URL": "https://jack.hotel.example"})
    route = app.alert_routes["pagerduty"]
    assert asyncio.run(route.health()).state == "connected"
    alert = Alert("disk.usage", "critical", "Disk 91% full", {"percent": 91}, dedup_key="disk")
    for action in ("trigger", "acknowledge", "resolve"):
        assert asyncio.run(route.page(alert, KEY, action)).startswith(f"{action} accepted")
    trigger, ack, resolve = (r.json() for r in pd.matching("POST", "/v2/enqueue")[-3:])
    assert trigger == {"routing_key": KEY, "event_action": "trigger", "dedup_key": "disk", "client": "Jack The Butler",
                       "client_url": "https://jack.hotel.example",
                       "payload": {"summary": "Disk 91% full", "severity": "critical", "source": "jack.hotel.example",
                                   "component": "jack", "class": "disk.usage", "custom_details": {"percent": 91}}}
    assert ack == {"routing_key": KEY, "event_action": "acknowledge", "dedup_key": "disk"}
    assert resolve["event_action"] == "resolve" and pd.incidents["disk"] == "resolved"

    pd.fail_next("POST", "/v2/enqueue", Reply(429, {"status": "throttle event"}, {"Retry-After": "7"}))
    with pytest.raises(TransientSendError) as throttled:
        asyncio.run(route.page(alert, KEY, "trigger"))
    assert throttled.value.retry_after == 7
    with pytest.raises(PermanentSendError, match="32 character Integration Key"):
        asyncio.run(route.page(alert, "too-short-key", "trigger"))
    app.engine.dispose()
