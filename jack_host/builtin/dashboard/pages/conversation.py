"""``/conversations/{id}``: the guest's history on every channel, replies, take-over, profile."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import falcon

from jack_host.builtin.dashboard.guard import field, form_data, page_guard
from jack_host.builtin.dashboard.pages.inbox import STATE_LABELS
from jack_host.builtin.dashboard.registry import Page
from jack_host.builtin.dashboard.rendering import error_page, flash, render, see_other
from jack_host.contract.services import GUEST_EDITABLE_FIELDS, ConversationNotFound, GuestNotFound

if TYPE_CHECKING:
    from jack_host.contract.app import App

#: How much history one page shows: the latest messages of the guest's latest conversations.
MESSAGES_PER_CONVERSATION = 200
CONVERSATIONS_SHOWN = 20
ESCALATION_REASONS = {
    "emergency": "emergency words", "complaint": "a complaint", "human_request": "the guest asked for a person",
    "no_confident_answer": "no confident answer", "model_needs_human": "the model asked for staff",
    "ai_failed": "the AI failed", "unusable_model_reply": "the model's reply was unusable",
    "processing_failed": "processing failed", "guest_request": "a guest request",
}


def answered_by(message: dict[str, Any]) -> str:
    """Which path produced an AI message, in words (``meta["path"]``)."""
    meta = message.get("meta") or {}
    path = meta.get("path")
    if path == "llm":
        text = f"AI model {meta.get('model') or '?'} via {meta.get('provider') or '?'}"
        return text + (" (fallback)" if meta.get("fallback") else "")
    if path == "knowledge":
        return f"knowledge article “{meta.get('knowledge_title') or meta.get('knowledge_id')}”"
    if path == "holding":
        return "holding reply"
    if path == "task":
        return f"a task for {str(meta.get('department') or 'staff').replace('_', ' ')} (no model)"
    if path == "small_talk":
        return "small-talk reply (no model)"
    return str(path or "")


def full_history(app: App, conversation: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The guest's messages on every channel (oldest first) and the guest's conversations."""
    conversations = app.services.conversations.guest_conversations(conversation["guest_id"])[:CONVERSATIONS_SHOWN]
    messages: list[dict[str, Any]] = []
    for item in conversations:
        messages.extend(app.services.conversations.history(item["id"], MESSAGES_PER_CONVERSATION))
    messages.sort(key=lambda m: (m.get("created_at") or "", m["id"]))
    for message in messages:
        message["answered_by"] = answered_by(message)
        reason = (message.get("meta") or {}).get("escalation_reason")
        message["escalation"] = ESCALATION_REASONS.get(reason, reason) if reason else ""
    return messages, conversations


@falcon.before(page_guard("staff"))
class ConversationPage:
    def __init__(self, app: App):
        self.app = app

    async def _load(self, req: falcon.asgi.Request, conversation_id: int) -> dict[str, Any]:
        conversation = await asyncio.to_thread(self.app.services.conversations.get_conversation, conversation_id)
        if conversation is None:
            raise error_page(self.app, req, falcon.HTTP_404, "No such conversation",
                             f"Conversation {conversation_id} does not exist.")
        return conversation

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, conversation_id: int) -> None:
        conversation = await self._load(req, conversation_id)
        messages, conversations = await asyncio.to_thread(full_history, self.app, conversation)
        slas = await asyncio.to_thread(self.app.services.tasks.soonest_open, [conversation_id])
        notes = await asyncio.to_thread(self.app.services.conversations.list_notes, conversation_id)
        users = await asyncio.to_thread(self.app.services.staff_auth.list_users)
        names = {u.id: u.name or u.email for u in users}
        template = "conversation_live.html" if req.get_param("fragment") == "history" else "conversation.html"
        render(self.app, req, resp, template, conversation=conversation, guest=conversation.get("guest") or {},
               messages=messages, conversations=conversations, states=STATE_LABELS, sla=slas.get(conversation_id),
               notes=notes, names=names)

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, conversation_id: int) -> None:
        conversation = await self._load(req, conversation_id)
        form = await form_data(req)
        action = field(form, "action")
        pipeline = self.app.services.conversations
        here = f"/conversations/{conversation_id}"
        try:
            if action == "reply":
                text = field(form, "body").strip()
                if not text or len(text) > 4096:
                    flash(req, resp, "Write a reply of 1 to 4096 characters.", "error")
                    raise see_other(here + "#reply")
                await pipeline.send_staff_reply(conversation_id, text, req.context.staff.id)
                flash(req, resp, "Reply sent.")
            elif action == "takeover":
                pipeline.take_over(conversation_id, req.context.staff.id)  # on the loop: it publishes events
                flash(req, resp, "You have taken over this conversation; Jack stays quiet until you hand it back.")
            elif action == "handback":
                pipeline.hand_back(conversation_id)
                flash(req, resp, "Handed back to Jack.")
            elif action == "close":
                pipeline.close(conversation_id)
                flash(req, resp, "Conversation closed.")
            elif action == "note":
                await asyncio.to_thread(pipeline.add_note, conversation_id, req.context.staff.id, field(form, "note"))
                flash(req, resp, "Note added (staff only).")
            elif action == "guest":
                fields = {name: field(form, name) for name in GUEST_EDITABLE_FIELDS}
                await asyncio.to_thread(pipeline.update_guest, conversation["guest_id"], **fields)
                flash(req, resp, "Guest profile saved.")
            else:
                raise error_page(self.app, req, falcon.HTTP_400, "Unknown action",
                                 f"“{action}” is not something this page does.")
        except ConversationNotFound as exc:
            raise error_page(self.app, req, falcon.HTTP_404, "No such conversation", str(exc)) from None
        except GuestNotFound as exc:
            raise error_page(self.app, req, falcon.HTTP_404, "No such guest", str(exc)) from None
        except ValueError as exc:
            flash(req, resp, str(exc), "error")
        raise see_other(here)


PAGES = [Page("/conversations/{conversation_id:int}", ConversationPage)]
