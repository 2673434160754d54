"""Guest conversations: the inbox channels hand messages to, the pipeline, tasks and the worker.

Provides the ``Inbox``, ``Conversations``, ``Tasks``, ``Events`` and ``HotelProfile`` services.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from jack_host import hookimpl
from jack_host.builtin.conversations.escalation import KeywordsFileError, compiled_keywords
from jack_host.builtin.conversations.feature import ConversationsFeature
from jack_host.builtin.conversations.intents import Lexicon
from jack_host.builtin.conversations.texts import TextsFileError, read_override
from jack_host.builtin.conversations.worker import Worker
from jack_host.config.settings import Setting
from jack_host.contract.interfaces import Inbox
from jack_host.contract.services import Conversations, Events, HotelProfile, Tasks
from jack_host.kit.language import load_detector
from jack_host.kit.phone import check_phone_setting

if TYPE_CHECKING:
    from jack_host.contract.app import App

WORKER_KEY = "jack.conversations.worker"


def _check_clock(value: str) -> str | None:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value or ""):
        return "a 24-hour time such as 15:00"
    return None


def _check_texts_file(value: str) -> str | None:
    if not value:
        return None
    try:
        read_override(Path(value))
    except TextsFileError as exc:
        return str(exc).split(": ", 1)[-1]
    return None


def _check_keywords_file(value: str) -> str | None:
    if not value:
        return None
    try:
        compiled_keywords(value)
    except KeywordsFileError as exc:
        return str(exc).split(": ", 1)[-1]
    return None


def _check_concepts_file(value: str) -> str | None:
    if not value:
        return None
    try:
        Lexicon.from_files(Path(value))
    except OSError as exc:
        return f"cannot read {value} ({exc.strerror})"
    except (ValueError, AttributeError, re.error, yaml.YAMLError) as exc:
        return f"{value} is not a concepts file ({str(exc).splitlines()[0]})"
    return None


@hookimpl
def jack_settings_validators() -> list[Setting]:
    return [
        Setting("HOTEL_NAME", str, "Our hotel", "the hotel's name, used in replies (seeds the hotel profile)"),
        Setting("HOTEL_CHECK_IN_TIME", str, "15:00", "check-in time (seeds the hotel profile)", check=_check_clock),
        Setting("HOTEL_CHECK_OUT_TIME", str, "11:00", "check-out time (seeds the hotel profile)", check=_check_clock),
        Setting("HOTEL_LANGUAGES", str, "en", "languages the hotel speaks, comma-separated ISO codes"),
        Setting("HOTEL_PHONE", str, "", "front desk phone with its country code (seeds the hotel profile)", check=check_phone_setting),
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
        Setting("TEXTS_FILE", str, "", "YAML file overriding guest-facing texts (hand-over, holding, on its way...) per language",
                check=_check_texts_file),
        Setting("CONCEPTS_FILE", str, "", "YAML file adding the hotel's own words to the request/inquiry vocabulary",
                check=_check_concepts_file),
        Setting("KEYWORDS_FILE", str, "", "YAML file overriding the escalation keywords (emergency, complaint, human_request) per language",
                check=_check_keywords_file),
    ]


@hookimpl
def jack_register_services(provide: Callable[[type, object], None], app: App) -> None:
    feature = ConversationsFeature.build(app)
    provide(Inbox, feature.pipeline)
    provide(Conversations, feature.pipeline)
    provide(Tasks, feature.tasks)
    provide(Events, feature.events)
    provide(HotelProfile, feature.hotel_profile)


@hookimpl
def jack_register_migrations(register: Callable[[Path], None]) -> None:
    register(Path(__file__).parent / "migrations")


@hookimpl
async def jack_startup(app: App) -> None:
    feature = ConversationsFeature.of(app)
    feature.hotel_profile.sync_settings()
    worker = Worker(app, feature)
    app.state[WORKER_KEY] = worker
    worker.start()
    # Not awaited: the server reports ready at once and the detector loads meanwhile (the first
    # Latin-script guest would otherwise wait ~0.6 s for it, ~2 s under load).
    app.warm_up.in_thread("language-detector", load_detector)


@hookimpl
async def jack_shutdown(app: App) -> None:
    worker = app.state.pop(WORKER_KEY, None)
    if worker is not None:
        await worker.stop()


@hookimpl
def jack_health_extras(app: App) -> dict[str, Any] | None:
    feature = ConversationsFeature.of(app)
    try:
        summary = feature.pipeline.health_summary()
        summary["tasks"] = feature.tasks.sla_counts()
        summary["escalations"] = {"open": feature.pipeline.count_state("escalated")}
    except Exception as exc:  # tables missing before the first migration
        return {"queue": {"error": f"{type(exc).__name__}"}}
    return summary
