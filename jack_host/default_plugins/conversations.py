"""Guest conversations: ``app.events``, ``app.pipeline`` and the background worker.

Services are attached in ``jack_add_routes`` marked ``tryfirst`` so that every
other plugin's routes (staff API, channels' webhooks) find them already there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jack_host import hookimpl
from jack_host.conversations.events import EventBus
from jack_host.conversations.hotel_profile import HotelProfileService
from jack_host.conversations.knowledge import KnowledgeBase
from jack_host.conversations.pipeline import Pipeline
from jack_host.conversations.tasks import TaskBoard
from jack_host.conversations.worker import Worker
from jack_host.settings import Setting

if TYPE_CHECKING:
    import click

    from jack_host.app import JackApp


def _check_clock(value: str) -> str | None:
    import re

    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value or ""):
        return "a 24-hour time such as 15:00"
    return None


@hookimpl
def jack_settings_validators() -> list[Setting]:
    return [
        Setting("HOTEL_NAME", str, "Our hotel", "the hotel's name, used in replies (seeds the hotel profile)"),
        Setting("HOTEL_CHECK_IN_TIME", str, "15:00", "check-in time (seeds the hotel profile)", check=_check_clock),
        Setting("HOTEL_CHECK_OUT_TIME", str, "11:00", "check-out time (seeds the hotel profile)", check=_check_clock),
        Setting("HOTEL_LANGUAGES", str, "en", "languages the hotel speaks, comma-separated ISO codes"),
        Setting("HOTEL_PHONE", str, "", "front desk phone (seeds the hotel profile)"),
        Setting("HOTEL_EMAIL", str, "", "front desk e-mail (seeds the hotel profile)"),
        Setting("HOTEL_ADDRESS", str, "", "postal address (seeds the hotel profile)"),
        Setting("SLA_URGENT_MINUTES", int, 15, "minutes staff have to handle an urgent task", minimum=1),
        Setting("SLA_HIGH_MINUTES", int, 60, "minutes staff have to handle a high-priority task", minimum=1),
        Setting("SLA_STANDARD_MINUTES", int, 240, "minutes staff have to handle a standard task", minimum=1),
        Setting("SLA_LOW_MINUTES", int, 1440, "minutes staff have to handle a low-priority task", minimum=1),
        Setting("SLA_CHECK_INTERVAL", float, 60.0, "seconds between SLA breach checks", minimum=1),
        Setting("PIPELINE_CONCURRENCY", int, 16, "guest messages answered at the same time (mostly waiting for the model)", minimum=1),
        Setting("PIPELINE_LEASE_SECONDS", float, 30.0, "a job held this long by a dead worker is taken over", minimum=1),
        Setting("PIPELINE_MAX_ATTEMPTS", int, 5, "tries before a reply job gives up and escalates", minimum=1),
        Setting("OUTBOX_MAX_ATTEMPTS", int, 6, "send attempts before an outbound message is marked failed", minimum=1),
        Setting("OUTBOX_BACKOFF_SECONDS", float, 2.0, "first retry delay of a failed send; doubles each time", minimum=0),
        Setting("OUTBOX_MAX_BACKOFF_SECONDS", float, 300.0, "longest delay between two send attempts", minimum=0),
        Setting("AI_HISTORY_MESSAGES", int, 10, "recent messages of the conversation shown to the model", minimum=0),
        Setting("KB_MIN_SCORE", float, 0.0, "BM25 relevance a knowledge article needs to count as a confident match", minimum=0),
        Setting("KB_MIN_COVERAGE", float, 0.5, "share of the question's words an article must contain to be confident", minimum=0),
    ]


@hookimpl
def jack_register_commands(cli: click.Group) -> None:
    from jack_host.conversations.cli import kb

    cli.add_command(kb)


@hookimpl(tryfirst=True)
def jack_add_routes(app: JackApp) -> None:
    app.events = EventBus()
    app.knowledge = KnowledgeBase(app.engine, app.settings)
    app.tasks = TaskBoard(app, app.events)
    app.hotel_profile = HotelProfileService(app)
    app.pipeline = Pipeline(app, app.events)
    # One place for the staff API to find everything.
    app.pipeline.knowledge = app.knowledge
    app.pipeline.tasks = app.tasks
    app.pipeline.hotel_profile = app.hotel_profile


@hookimpl
async def jack_startup(app: JackApp) -> None:
    app.hotel_profile.sync_settings()
    worker = Worker(app)
    app.state["conversations"] = {"worker": worker}
    worker.start()


@hookimpl
async def jack_shutdown(app: JackApp) -> None:
    worker = app.state.get("conversations", {}).get("worker")
    if worker is not None:
        await worker.stop()


@hookimpl
def jack_health_extras(app: JackApp) -> dict[str, Any] | None:
    pipeline = getattr(app, "pipeline", None)
    if pipeline is None:
        return None
    try:
        summary = pipeline.health_summary()
        summary["tasks"] = app.tasks.sla_counts()
        summary["escalations"] = {"open": pipeline.count_state("escalated")}
    except Exception as exc:  # tables missing before the first migration
        return {"queue": {"error": f"{type(exc).__name__}"}}
    return summary
