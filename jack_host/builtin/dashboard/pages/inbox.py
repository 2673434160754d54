"""``/inbox``: conversations by state, channel and search text, a page at a time, updated live."""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import falcon

from jack_host.builtin.dashboard.guard import page_guard
from jack_host.builtin.dashboard.registry import MenuEntry, Page
from jack_host.builtin.dashboard.rendering import render
from jack_host.contract.services import CONVERSATION_STATES

if TYPE_CHECKING:
    from jack_host.contract.app import App

PAGE_SIZE = 50
STATE_LABELS = {"ai": "AI", "escalated": "Escalated", "staff": "Staff", "closed": "Closed"}


@falcon.before(page_guard("staff"))
class InboxResource:
    def __init__(self, app: App):
        self.app = app

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        state = req.get_param("state") or ""
        channel = req.get_param("channel") or ""
        q = (req.get_param("q") or "").strip()[:200]
        problems = []
        if state and state not in CONVERSATION_STATES:
            problems.append(f"Unknown state “{state}”; showing every state.")
            state = ""
        if channel and channel not in self.app.channels:
            problems.append(f"Unknown channel “{channel}”; showing every channel.")
            channel = ""
        try:
            number = max(1, min(int(req.get_param("page") or 1), 1_000_000))
        except ValueError:
            number = 1
        result = await asyncio.to_thread(
            self.app.services.conversations.list_conversations,
            state=state or None, channel=channel or None, q=q or None,
            limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE,
        )
        escalated = [item["id"] for item in result.items if item["state"] == "escalated"]
        slas = await asyncio.to_thread(self.app.services.tasks.soonest_open, escalated)
        pages = max(1, math.ceil(result.total / PAGE_SIZE))
        filters = {key: value for key, value in (("state", state), ("channel", channel), ("q", q)) if value}

        def page_url(n: int) -> str:
            return "/inbox?" + urlencode({**filters, "page": n})

        context = dict(
            items=result.items, total=result.total, number=number, pages=pages, slas=slas,
            state=state, channel=channel, q=q, states=STATE_LABELS, channels=sorted(self.app.channels),
            page_url=page_url, problems=problems,
        )
        template = "inbox_rows.html" if req.get_param("fragment") == "rows" else "inbox.html"
        render(self.app, req, resp, template, **context)


PAGES = [Page("/inbox", InboxResource, MenuEntry("/inbox", "Inbox", "staff", 10))]
