"""The parts of the conversations feature for one app, built once and shared by its own modules.

Other features reach these parts only through the services they are provided as
(``app.services.inbox``, ``.conversations``, ``.tasks``, ``.events``, ``.hotel_profile``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from jack_host.builtin.conversations.events import EventBus
from jack_host.builtin.conversations.hotel_profile import HotelProfileService
from jack_host.builtin.conversations.pipeline import Pipeline
from jack_host.builtin.conversations.tasks import TaskBoard

if TYPE_CHECKING:
    from jack_host.contract.app import App

STATE_KEY = "jack.conversations"


@dataclass
class ConversationsFeature:
    events: EventBus
    tasks: TaskBoard
    hotel_profile: HotelProfileService
    pipeline: Pipeline

    @classmethod
    def build(cls, app: App) -> ConversationsFeature:
        events = EventBus()
        hotel_profile = HotelProfileService(app)
        feature = cls(events, TaskBoard(app, events), hotel_profile, Pipeline(app, events, hotel_profile))
        app.state[STATE_KEY] = feature
        return feature

    @classmethod
    def of(cls, app: App) -> ConversationsFeature:
        return app.state[STATE_KEY]
