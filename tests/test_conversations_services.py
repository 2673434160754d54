"""The job queue's claims and leases, tasks and SLA, the hotel profile, health and JACK_EXTRA_PLUGINS."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from sqlmodel import Session, select

from jack_host.builtin.conversations import jobs
from jack_host.builtin.conversations.hotel_profile import HotelProfileService
from jack_host.builtin.conversations.models import HotelProfile, Task
from jack_host.contract.interfaces import InboundMessage
from jack_host.contract.plugins import PluginLoadError, make_plugin_manager
from jack_host.testing import channel as testing_channel
from jack_host.testing import make_app, running_app, wait_until


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path, plugins=[("test_channel", testing_channel)], env={"HOTEL_NAME": "Hotel Miramar", "HOTEL_TIMEZONE": "Europe/Madrid"})


async def _receive(app, mid: str, phone: str = "+34600111222", body: str = "hi"):
    return await app.services.inbox.receive(InboundMessage(channel="test", channel_message_id=mid, body=body, sender_phone=phone))


async def test_a_job_is_claimed_by_one_worker_and_reclaimed_after_its_lease(app):
    await _receive(app, "1")
    first = jobs.claim(app.engine, "reply", "worker-a", lease_seconds=0.2)
    assert first is not None and first.attempts == 1
    assert jobs.claim(app.engine, "reply", "worker-b", lease_seconds=30) is None  # held

    with Session(app.engine) as session:  # let the lease run out, as if worker-a died
        session.exec(select(jobs.Job)).one().locked_until = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        session.commit()
    second = jobs.claim(app.engine, "reply", "worker-b", lease_seconds=30)
    assert second is not None and second.id == first.id and second.attempts == 2

    with Session(app.engine) as session, pytest.raises(jobs.LeaseLost):
        jobs.finish(session, first.id, "worker-a")  # the dead worker's late result is refused
    assert jobs.renew(app.engine, first.id, "worker-a", 30) is False
    with Session(app.engine) as session:
        jobs.finish(session, second.id, "worker-b")
        session.commit()
    assert jobs.claim(app.engine, "reply", "worker-c", 30) is None


async def test_reply_jobs_of_one_conversation_run_in_order(app):
    await _receive(app, "1")
    await _receive(app, "2")
    await _receive(app, "3", phone="+34600999888")
    a = jobs.claim(app.engine, "reply", "w", 30)
    b = jobs.claim(app.engine, "reply", "w", 30)
    # The second message of the first guest waits for the first one; the other guest's goes ahead.
    assert (a.message_id, b.message_id) == (1, 3)
    assert jobs.claim(app.engine, "reply", "w", 30) is None


def test_tasks_claim_complete_and_sla(app):
    data = app.services.tasks.create(department="housekeeping", priority="urgent", title="Towels to 12")
    due = dt.datetime.fromisoformat(data["sla_due_at"]) - dt.datetime.fromisoformat(data["created_at"])
    assert due == dt.timedelta(minutes=15)
    assert app.services.tasks.claim(data["id"], 5)["status"] == "in_progress"
    with pytest.raises(ValueError, match="already claimed by user 5"):
        app.services.tasks.claim(data["id"], 6)
    assert app.services.tasks.complete(data["id"])["status"] == "done"
    with pytest.raises(ValueError, match="already done"):
        app.services.tasks.complete(data["id"])


def test_sla_priorities_are_configurable(tmp_path):
    app = make_app(tmp_path, env={"SLA_HIGH_MINUTES": "30"})
    data = app.services.tasks.create(priority="high", title="x")
    assert dt.datetime.fromisoformat(data["sla_due_at"]) - dt.datetime.fromisoformat(data["created_at"]) == dt.timedelta(minutes=30)


async def test_sla_breach_is_counted_once_and_announced(app):
    late = app.services.tasks.create(priority="standard", title="late")
    app.services.tasks.create(priority="low", title="on time")
    with Session(app.engine) as session:
        session.get(Task, late["id"]).sla_due_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        session.commit()
    async with app.services.events.subscribe() as queue:
        assert [t["id"] for t in app.services.tasks.check_sla()] == [late["id"]]
        assert app.services.tasks.check_sla() == []
        event = queue.get_nowait()
    assert event["type"] == "task.sla_breached" and event["payload"]["sla_breached"] is True
    assert app.metrics.get_sample_value("jack_sla_breaches_total", {"priority": "standard"}) == 1.0
    assert app.services.tasks.sla_counts() == {"open": 2, "open_breached": 1, "breached_last_hour": 1}


def test_hotel_profile_seeded_from_settings_and_timezone_kept_in_sync(app):
    profile = app.services.hotel_profile.get()
    assert (profile["name"], profile["timezone"], profile["check_in_time"], profile["languages"]) == (
        "Hotel Miramar", "Europe/Madrid", "15:00", ["en"]
    )
    updated = app.services.hotel_profile.update(timezone="America/New_York", languages="en, es", check_out_time="12:00")
    assert updated["languages"] == ["en", "es"] and updated["check_out_time"] == "12:00"
    assert str(app.hotel_timezone()) == "America/New_York"
    with pytest.raises(ValueError, match="not an IANA timezone"):
        app.services.hotel_profile.update(timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="24-hour time"):
        app.services.hotel_profile.update(check_in_time="3pm")
    with pytest.raises(ValueError, match="unknown hotel profile field"):
        app.services.hotel_profile.update(stars=5)
    assert app.services.hotel_profile.get()["timezone"] == "America/New_York"


async def test_health_reports_queue_depth(app):
    await _receive(app, "1", body="Is my booking for next week confirmed?")  # not small talk: "hi" gets a greeting back
    extras = app.hooks.health_extras(app)
    assert extras["queue"] == {"pending": 1, "failed": 0, "replies_pending": 1, "outbox_pending": 0}
    with running_app(app) as url:
        wait_until(lambda: httpx.get(url + "/health").json()["queue"]["pending"] == 0, what="the worker to answer")
        document = httpx.get(url + "/health").json()
    assert document["escalations"] == {"open": 1}  # no model, no knowledge: held for staff


def test_jack_extra_plugins_loads_modules_and_reports_bad_ones():
    pm = make_plugin_manager({"JACK_EXTRA_PLUGINS": "jack_host.testing.channel"}, load_entrypoints=False)
    assert pm.has_plugin("jack_host.testing.channel")
    with pytest.raises(PluginLoadError, match="JACK_EXTRA_PLUGINS: module 'no_such_module' failed to load"):
        make_plugin_manager({"JACK_EXTRA_PLUGINS": "no_such_module"}, load_entrypoints=False)


def test_two_servers_seeding_the_hotel_profile_at_once_both_start(tmp_path):
    """Two `jack serve` on one database both seed the profile at start; the second must not crash."""
    app = make_app(tmp_path, env={"HOTEL_NAME": "Hotel Here"})
    try:
        other = HotelProfileService(app)  # the other process: it seeds between our read and our insert
        ours = HotelProfileService(app)
        seed = ours._seed

        def seed_after_the_other_process() -> HotelProfile:
            other.get()
            return seed()

        ours._seed = seed_after_the_other_process  # type: ignore[method-assign]
        assert ours.get()["name"] == "Hotel Here"
        with Session(app.engine) as session:
            assert len(session.exec(select(HotelProfile)).all()) == 1
    finally:
        app.engine.dispose()
