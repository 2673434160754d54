"""On-call escalation end to end against loopback PagerDuty, Twilio, SMTP and a chat webhook, with the clock in the test's hands."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from zoneinfo import ZoneInfo

import httpx
import jack_alert_pagerduty.plugin
import jack_channel_email.plugin
import jack_channel_sms.plugin
import pytest

from jack_host.builtin.alerts.service import service_of
from jack_host.contract.interfaces import Alert, ComponentHealth
from jack_host.testing import make_app, run_jack, running_app, wait_until
from jack_host.testing.fake_pagerduty import FakePagerDuty
from jack_host.testing.fake_twilio import FakeTwilio, twilio_error_reply
from jack_host.testing.loopback import LoopbackServer, RecordedRequest, Reply
from jack_host.testing.mail_servers import LoopbackSMTP
from tests.staff_helpers import bearer, make_users, token_for

PD_KEY = "0123456789abcdef0123456789abcdef"
PLUGINS = [("alert_pagerduty", jack_alert_pagerduty.plugin), ("channel_sms", jack_channel_sms.plugin),
           ("channel_email", jack_channel_email.plugin)]
PARIS = ZoneInfo("Europe/Paris")

ONCALL = f"""
escalation:
  levels:
    - name: primary
      contacts:
        - {{type: pagerduty, service_key: "{PD_KEY}"}}
      wait_minutes: 5
    - name: secondary
      contacts:
        - {{type: phone, number: "+15550001111"}}
        - {{type: email, address: oncall@hotel.example}}
      wait_minutes: 15
    - name: management
      contacts:
        - {{type: webhook, url: "${{CHAT_URL}}/hooks/jack"}}
      wait_minutes: 30
  quiet_hours:
    start: "22:00"
    end: "08:00"
    severity_override: critical
"""


class FakeChat(LoopbackServer):
    """A Slack-style incoming webhook: 200 ``ok`` to any JSON POST."""

    def answer(self, request: RecordedRequest) -> Reply:
        return Reply(200, "ok")


class Clock:
    def __init__(self, local: dt.datetime):
        self.now = local.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += minutes * 60


@pytest.fixture(scope="module")
def fakes(tmp_path_factory):
    with FakePagerDuty() as pd, FakeTwilio() as twilio, FakeChat() as chat, LoopbackSMTP(tmp_path_factory.mktemp("smtp")) as smtp:
        yield {"pd": pd, "twilio": twilio, "chat": chat, "smtp": smtp}


@pytest.fixture
def fresh(fakes):
    for fake in (fakes["pd"], fakes["twilio"], fakes["chat"]):
        fake.requests.clear()
    fakes["pd"].events.clear()
    fakes["smtp"].received.clear()
    return fakes


def env_for(fakes, **extra: str) -> dict[str, str]:
    twilio = fakes["twilio"]
    return {
        "PAGERDUTY_EVENTS_URL": fakes["pd"].url, "CHAT_URL": fakes["chat"].url, "HOTEL_TIMEZONE": "Europe/Paris",
        "TWILIO_API_URL": twilio.url, "TWILIO_ACCOUNT_SID": twilio.account_sid, "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_PHONE_NUMBER": "+15550100000", "SMTP_FROM": "jack@hotel.example", "ALERT_RETRY_SECONDS": "60",
        "JWT_SECRET": "t" * 40, **fakes["smtp"].env(), **extra,
    }


def build(tmp_path, fakes, oncall: str = ONCALL, local=dt.datetime(2026, 12, 2, 14, 0, tzinfo=PARIS), **extra: str):
    (tmp_path / "oncall.yaml").write_text(oncall)
    app = make_app(tmp_path, plugins=PLUGINS, env=env_for(fakes, **extra))
    service = service_of(app)
    service.clock = clock = Clock(local)
    return app, service, clock


def sms_bodies(fakes) -> list[str]:
    return [r.form()["Body"] for r in fakes["twilio"].matching("POST", "Messages.json")]


async def test_an_alert_walks_two_levels_then_an_ack_stops_it_and_pagerduty_hears_every_event(tmp_path, fresh):
    app, service, clock = build(tmp_path, fresh)
    await service.raise_alert(Alert("channel.whatsapp.outage", "critical", "WhatsApp is down", {"channel": "whatsapp"}, "channel.whatsapp"))
    [(_, trigger)] = fresh["pd"].events
    assert trigger["routing_key"] == PD_KEY and trigger["event_action"] == "trigger" and trigger["dedup_key"] == "channel.whatsapp"
    assert trigger["payload"]["summary"] == "WhatsApp is down" and trigger["payload"]["severity"] == "critical"
    assert trigger["payload"]["source"] and trigger["payload"]["custom_details"]["channel"] == "whatsapp"
    # The same alert again at the same severity pages nobody.
    assert await service.raise_alert(Alert("channel.whatsapp.outage", "critical", "WhatsApp is down", dedup_key="channel.whatsapp")) is None

    clock.advance(4.9)
    await service.run_once()
    assert sms_bodies(fresh) == [] and fresh["smtp"].received == []
    clock.advance(0.2)  # 5 minutes unacknowledged: the secondary level
    await service.run_once()
    [body] = sms_bodies(fresh)
    assert body.startswith("[Jack CRITICAL] WhatsApp is down") and "jack alerts ack" in body
    [mail] = fresh["smtp"].wait_for(1)
    assert mail["To"] == "oncall@hotel.example" and mail["Subject"] == "[Jack CRITICAL] WhatsApp is down"
    [alert] = service.list()
    assert (alert["status"], alert["level_name"], alert["type"]) == ("open", "secondary", "channel_outage")

    acked = await service.acknowledge(alert["id"], by="night engineer")
    assert acked["status"] == "acknowledged" and acked["next_escalation_at"] is None
    assert fresh["pd"].actions("channel.whatsapp") == ["trigger", "acknowledge"]
    clock.advance(60)
    await service.run_once()
    assert fresh["chat"].requests == [] and len(sms_bodies(fresh)) == 1  # the management level is never paged

    await service.raise_alert(Alert("channel.whatsapp.outage", "info", "WhatsApp is back", dedup_key="channel.whatsapp", resolved=True))
    assert fresh["pd"].actions("channel.whatsapp") == ["trigger", "acknowledge", "resolve"]
    assert fresh["pd"].incidents["channel.whatsapp"] == "resolved"
    assert service.get(alert["id"])["status"] == "resolved"
    app.engine.dispose()


async def test_unacknowledged_alert_reaches_the_chat_webhook_and_a_failing_route_never_blocks_the_others(tmp_path, fresh):
    app, service, clock = build(tmp_path, fresh)
    fresh["twilio"].fail_next("POST", "Messages.json", twilio_error_reply(503, 20500, "Service unavailable"))
    await service.raise_alert(Alert("database.locked", "critical", "database is locked"))
    clock.advance(5)
    await service.run_once()
    assert fresh["smtp"].wait_for(1)  # e-mail went out although the SMS failed
    alert = service.list()[0]
    sms = [d for d in alert["deliveries"] if d["route"] == "phone"]
    assert [(d["status"], d["attempts"]) for d in sms] == [("pending", 1)] and "Twilio answered HTTP 503" in sms[0]["detail"]
    clock.advance(1.01)  # ALERT_RETRY_SECONDS=60: retried after a minute
    await service.run_once()
    assert len(sms_bodies(fresh)) == 2
    clock.advance(15)
    await service.run_once()
    [hook] = fresh["chat"].requests
    message = hook.json()
    assert hook.headers["content-type"] == "application/json"
    assert message["text"] == "[CRITICAL] database is locked" and message["attachments"][0]["color"] == "danger"
    assert service.get(alert["id"])["level_name"] == "management"
    assert service.get(alert["id"])["next_escalation_at"] is None  # the last level
    app.engine.dispose()


async def test_pagerduty_429_is_retried_after_its_retry_after_and_a_dead_key_is_not(tmp_path, fresh):
    app, service, clock = build(tmp_path, fresh)
    fresh["pd"].fail_next("POST", "/v2/enqueue", Reply(429, {"status": "throttle event", "message": "Requests for this service are arriving too quickly."},
                                                       {"Retry-After": "300"}))
    await service.raise_alert(Alert("health.failures", "critical", "health check failed 5 times"))
    [delivery] = service.list()[0]["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("pending", 1) and "429" in delivery["detail"]
    clock.advance(4)  # backoff is 60 s, but PagerDuty asked for 300
    await service.run_once()
    assert len(fresh["pd"].requests) == 1
    clock.advance(1.1)
    await service.run_once()
    assert len(fresh["pd"].requests) == 2 and fresh["pd"].actions() == ["trigger"]
    assert service.list()[0]["deliveries"][0]["status"] == "sent"

    bad = ONCALL.replace(PD_KEY, "short-key-1")
    (tmp_path / "bad").mkdir()
    app2, service2, _ = build(tmp_path / "bad", fresh, oncall=bad)
    record = await service2.raise_alert(Alert("health.failures", "critical", "health check failed 5 times"))
    [delivery] = service2.list()[0]["deliveries"]
    assert delivery["status"] == "failed" and "32 character Integration Key" in delivery["detail"]
    assert "pagerduty: PagerDuty answered HTTP 400" in record.delivery_error
    app.engine.dispose()
    app2.engine.dispose()


@pytest.mark.parametrize("local_hour", [23, 3], ids=["before-midnight", "after-midnight"])
async def test_quiet_hours_hold_warnings_until_eight_and_page_criticals_at_once(tmp_path, fresh, local_hour):
    day = dt.datetime(2026, 12, 2, local_hour, 30, tzinfo=PARIS)
    app, service, clock = build(tmp_path, fresh, local=day)
    await service.raise_alert(Alert("channel.sms.outage", "warning", "SMS webhooks failing", dedup_key="sms"))
    await service.raise_alert(Alert("channel.email.outage", "warning", "IMAP unreachable", dedup_key="imap"))
    await service.raise_alert(Alert("security.login_failures", "critical", "40 failed sign-ins", dedup_key="logins"))
    assert fresh["pd"].actions() == ["trigger"] and fresh["pd"].events[0][1]["dedup_key"] == "logins"
    held = {a["key"]: a for a in service.list() if a["status"] == "held"}
    eight = (day + dt.timedelta(days=1 if local_hour >= 8 else 0)).replace(hour=8, minute=0)
    assert set(held) == {"sms", "imap"} and held["sms"]["next_escalation_at"] == eight.astimezone(dt.UTC).isoformat()
    await service.raise_alert(Alert("channel.email.outage", "info", "IMAP is back", dedup_key="imap", resolved=True))

    clock.now = eight.timestamp() - 60
    await service.run_once()
    assert fresh["pd"].actions() == ["trigger"]
    clock.now = eight.timestamp()
    await service.run_once()
    assert [e["dedup_key"] for _, e in fresh["pd"].events] == ["logins", "sms"]  # the resolved one is never sent
    assert {a["key"]: a["status"] for a in service.list("all")} == {"sms": "open", "imap": "resolved", "logins": "open"}
    app.engine.dispose()


async def test_a_warning_escalated_to_critical_during_quiet_hours_pages_at_once(tmp_path, fresh):
    app, service, _ = build(tmp_path, fresh, local=dt.datetime(2026, 12, 2, 1, 0, tzinfo=PARIS))
    await service.raise_alert(Alert("health.failures", "warning", "2 health checks failed", dedup_key="health"))
    assert fresh["pd"].events == []
    await service.raise_alert(Alert("health.failures", "critical", "5 health checks failed", dedup_key="health"))
    [(_, event)] = fresh["pd"].events
    assert event["payload"]["severity"] == "critical" and event["payload"]["summary"] == "5 health checks failed"
    assert len(service.list("all")) == 1
    app.engine.dispose()


def test_staff_api_lists_acknowledges_and_resolves(tmp_path, fresh):
    app, service, _ = build(tmp_path, fresh)
    make_users(app)
    asyncio.run(service.raise_alert(Alert("sla.breach", "critical", "Complaint task 7 is past its SLA", dedup_key="sla.7")))
    with running_app(app) as url:
        assert httpx.get(url + "/api/v1/alerts").status_code == 401
        headers = bearer(token_for(url, "staff"))
        listed = httpx.get(url + "/api/v1/alerts", headers=headers).json()
        [alert] = listed["items"]
        assert alert["type"] == "guest_complaint_sla" and alert["deliveries"][0]["contact"] == "pagerduty:...cdef"
        assert httpx.get(url + "/api/v1/alerts?status=sideways", headers=headers).json()["detail"].startswith("status='sideways'")
        acked = httpx.post(f"{url}/api/v1/alerts/{alert['id']}/ack", headers=headers)
        assert acked.status_code == 200 and acked.json()["acknowledged_by"] == "staff@hotel.test"
        again = httpx.post(f"{url}/api/v1/alerts/{alert['id']}/ack", headers=headers)
        assert again.status_code == 409 and "already acknowledged" in again.json()["detail"]
        assert httpx.post(f"{url}/api/v1/alerts/999/resolve", headers=headers).status_code == 404
        assert httpx.post(f"{url}/api/v1/alerts/{alert['id']}/resolve", headers=headers).json()["status"] == "resolved"
        assert httpx.get(url + "/api/v1/alerts", headers=headers).json()["items"] == []
    assert fresh["pd"].actions("sla.7") == ["trigger", "acknowledge", "resolve"]
    app.engine.dispose()


def test_jack_alerts_test_pages_every_level_and_reports_each_route(tmp_path, fresh):
    (tmp_path / "oncall.yaml").write_text(ONCALL)
    env = {**env_for(fresh), "JACK_ENABLED_PLUGINS": "alert_pagerduty,channel_sms,channel_email"}
    result = run_jack(tmp_path, "alerts", "test", "--severity", "critical", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Test alert #1 (critical), levels: primary, secondary, management")
    assert any(line.split()[:4] == ["trigger", "pagerduty", "pagerduty:...cdef", "sent:"] for line in lines), lines
    assert any(line.split()[:3] == ["trigger", "phone", "phone:+15550001111"] for line in lines)
    assert any(line.split()[:2] == ["resolve", "pagerduty"] for line in lines)
    assert fresh["pd"].actions() == ["trigger", "resolve"] and len(sms_bodies(fresh)) == 1 and len(fresh["chat"].requests) == 2
    listed = run_jack(tmp_path, "alerts", "list", "--status", "all", "--json", env=env)
    assert json.loads(listed.stdout)[0]["status"] == "resolved"
    missing = run_jack(tmp_path, "alerts", "ack", "42", env=env)
    assert missing.returncode == 1 and missing.stderr.strip() == "error: no alert has id 42"


async def test_phone_contacts_get_a_call_reading_the_alert_when_calls_are_on(tmp_path, fresh):
    app, service, clock = build(tmp_path, fresh, ALERT_PHONE_CALLS="true")
    await service.raise_alert(Alert("channel.whatsapp.outage", "critical", "WhatsApp & co are down", dedup_key="wa"))
    clock.advance(5)
    await service.run_once()
    [call] = fresh["twilio"].matching("POST", "Calls.json")
    form = call.form()
    assert (form["To"], form["From"]) == ("+15550001111", "+15550100000")
    assert "<Say>" in form["Twiml"] and "WhatsApp &amp; co are down" in form["Twiml"]
    phone = [d for d in service.list()[0]["deliveries"] if d["route"] == "phone"][0]
    assert phone["status"] == "sent" and phone["detail"].startswith("SMS SM") and "; call CA" in phone["detail"]
    app.engine.dispose()


async def test_the_health_monitor_and_forged_webhooks_raise_routed_alerts(tmp_path, fresh):
    app, service, _ = build(tmp_path, fresh, SECURITY_FORGED_WEBHOOKS_PER_MINUTE="3")
    app.health_monitor.started = True
    app.health_monitor.results[("channel", "sms")] = ComponentHealth.error("Twilio answered HTTP 401")
    await service.run_once()
    await service.run_once()  # the same state again raises nothing new
    [outage] = service.list()
    assert (outage["name"], outage["type"], outage["severity"]) == ("channel.sms.outage", "channel_outage", "critical")
    assert "Twilio answered HTTP 401" in outage["summary"] and fresh["pd"].actions() == ["trigger"]
    app.health_monitor.results[("channel", "sms")] = ComponentHealth.connected("the Twilio account is active")
    await service.run_once()
    assert service.get(outage["id"])["status"] == "resolved" and fresh["pd"].actions() == ["trigger", "resolve"]

    with running_app(app) as url:
        codes = [httpx.post(url + "/webhooks/sms", data={"From": "+15550009999", "Body": "hi"}).status_code for _ in range(4)]
        assert codes == [401] * 4

        def forged():
            return [a for a in service.list() if a["name"] == "security.forged_webhooks"]

        [alert] = wait_until(forged, timeout=10, what="the forged-webhook alert")
    assert alert["type"] == "security_alert" and "4 webhooks with a bad or missing signature" in alert["summary"]
    app.engine.dispose()


def test_a_complaint_task_past_its_sla_pages_the_duty_manager_level(tmp_path, fresh):
    from sqlalchemy import update
    from sqlmodel import Session

    from jack_host.builtin.conversations.models import Task

    oncall = ONCALL.replace("name: management", "name: duty_manager") + "alert_routing:\n  guest_complaint_sla: {primary: duty_manager}\n"
    app, service, _ = build(tmp_path, fresh, oncall=oncall, SLA_CHECK_INTERVAL="1")
    complaint = app.services.tasks.create(title="Noise from room 301", reason="complaint", priority="high")
    app.services.tasks.create(title="Extra towels", reason="request")
    with Session(app.engine) as session:
        session.execute(update(Task).values(sla_due_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)))
        session.commit()
    with running_app(app):
        [hook] = wait_until(lambda: fresh["chat"].requests, timeout=15, what="the duty manager paged")
    [alert] = service.list()
    assert (alert["name"], alert["type"], alert["levels"]) == ("sla.guest_complaint", "guest_complaint_sla", ["duty_manager"])
    assert f"#{complaint['id']}" in hook.json()["text"] and fresh["pd"].events == []  # the on-call engineer is not paged
    app.engine.dispose()
