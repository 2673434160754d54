"""``/api/v1/conversations``: list and read conversations, reply as staff, take over, hand back, close."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Literal

import falcon
from pydantic import Field

from jack_host.builtin.staff.auth import not_found, require_role
from jack_host.builtin.staff.validation import (
    MAX_DB_INT,
    Body,
    Page,
    Query,
    assignee_filter,
    field_error,
    read_body,
    read_query,
)
from jack_host.contract.services import CONVERSATION_STATES, ConversationNotFound

if TYPE_CHECKING:
    from jack_host.contract.app import App

State = Literal[CONVERSATION_STATES]  # type: ignore[valid-type]


class ConversationFilters(Page):
    state: State | None = None
    channel: str | None = Field(default=None, max_length=64)
    assignee: str | None = None
    q: str | None = Field(default=None, max_length=200)


class MessagePage(Query):
    limit: int = Field(default=100, ge=1, le=500)
    before: int | None = Field(default=None, ge=1, le=MAX_DB_INT)


class ReplyBody(Body):
    body: str = Field(min_length=1, max_length=4096)


@falcon.before(require_role("staff"))
class ConversationsResource:
    def __init__(self, app: App):
        self.app = app

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        filters = read_query(req, ConversationFilters)
        assignee_id, unassigned = assignee_filter(filters.assignee, req.context.staff.id)
        if filters.channel and filters.channel not in self.app.channels:
            known = ", ".join(sorted(self.app.channels)) or "none"
            raise field_error("channel", f"unknown channel; registered channels: {known}")
        page = await asyncio.to_thread(
            self.app.services.conversations.list_conversations,
            state=filters.state,
            channel=filters.channel,
            assignee_id=assignee_id,
            unassigned=unassigned,
            q=filters.q or None,
            limit=filters.limit,
            offset=filters.offset,
        )
        resp.media = {"items": page.items, "total": page.total, "limit": filters.limit, "offset": filters.offset}


@falcon.before(require_role("staff"))
class ConversationResource:
    def __init__(self, app: App):
        self.app = app

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, conversation_id: int) -> None:
        conversation = await asyncio.to_thread(self.app.services.conversations.get_conversation, conversation_id)
        if conversation is None:
            raise not_found(f"conversation {conversation_id} does not exist")
        resp.media = conversation


@falcon.before(require_role("staff"))
class MessagesResource:
    def __init__(self, app: App):
        self.app = app

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, conversation_id: int) -> None:
        page = read_query(req, MessagePage)
        conversations = self.app.services.conversations
        items = await asyncio.to_thread(conversations.history, conversation_id, page.limit, page.before)
        # An empty page is also what a conversation that does not exist gives.
        if not items and await asyncio.to_thread(conversations.get_conversation, conversation_id) is None:
            raise not_found(f"conversation {conversation_id} does not exist")
        resp.media = {"items": items}

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, conversation_id: int) -> None:
        body = await read_body(req, ReplyBody)
        try:
            message_id = await self.app.services.conversations.send_staff_reply(conversation_id, body.body, req.context.staff.id)
        except ConversationNotFound as exc:
            raise not_found(str(exc)) from None
        except ValueError as exc:
            raise field_error("body", str(exc)) from None
        resp.status = falcon.HTTP_201
        resp.media = await asyncio.to_thread(self.app.services.conversations.get_message, message_id)


@falcon.before(require_role("staff"))
class ConversationActionResource:
    """``POST .../takeover``, ``.../handback``, ``.../close``: answer with the updated conversation."""

    def __init__(self, app: App, action: str):
        self.app = app
        self.action = action

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, conversation_id: int) -> None:
        pipeline = self.app.services.conversations
        call = {
            "takeover": lambda: pipeline.take_over(conversation_id, req.context.staff.id),
            "handback": lambda: pipeline.hand_back(conversation_id),
            "close": lambda: pipeline.close(conversation_id),
        }[self.action]
        try:
            # Called on the event loop, not in a thread: the pipeline publishes events
            # to asyncio queues, which are not thread-safe.
            resp.media = call()
        except ConversationNotFound as exc:
            raise not_found(str(exc)) from None


def add_conversation_routes(app: App) -> None:
    app.add_route("/api/v1/conversations", ConversationsResource(app))
    app.add_route("/api/v1/conversations/{conversation_id:int}", ConversationResource(app))
    app.add_route("/api/v1/conversations/{conversation_id:int}/messages", MessagesResource(app))
    for action in ("takeover", "handback", "close"):
        app.add_route(f"/api/v1/conversations/{{conversation_id:int}}/{action}", ConversationActionResource(app, action))
