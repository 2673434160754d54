"""What Jack would answer a new guest, without storing or sending anything (the dashboard's "try it")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jack_host.builtin.conversations.ai_reply import Responder

if TYPE_CHECKING:
    from jack_host.builtin.conversations.hotel_profile import HotelProfileService
    from jack_host.contract.app import App


async def preview_answer(app: App, hotel_profile: HotelProfileService, body: str) -> dict[str, Any]:
    """Plan the reply to ``body`` through the guest's code path; ``{"body": text, "meta": {...}}``."""
    responder = Responder(app, hotel_profile)
    # A conversation and guest with nothing known yet, as a new guest on the web chat would have.
    conversation = {"id": None, "channel": "webchat", "guest_address": "try-it", "state": "ai", "language": None,
                    "guest_id": None, "assignee_id": None}
    guest = {"id": None, "name": None, "phone": None, "email": None, "preferred_language": None, "notes": ""}
    plan = await responder.plan(body=body, conversation=conversation, guest=guest, history=[], message_meta={})
    return {"body": plan.body, "meta": dict(plan.meta)}
