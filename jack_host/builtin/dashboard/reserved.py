"""A menu entry whose page module is not installed yet: the role rule holds, the page says so."""

from __future__ import annotations

from typing import TYPE_CHECKING

import falcon

from jack_host.builtin.dashboard.guard import page_guard
from jack_host.builtin.dashboard.rendering import render

if TYPE_CHECKING:
    from jack_host.builtin.dashboard.registry import MenuEntry
    from jack_host.contract.app import App


class ReservedPage:
    def __init__(self, app: App, entry: MenuEntry):
        self.app = app
        self.entry = entry
        self.guard = page_guard(entry.minimum_role)

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        await self.guard(req, resp, self, {})
        render(self.app, req, resp, "error.html", http_status=falcon.HTTP_404, title=self.entry.label,
               detail="This page is not part of this build of the dashboard.")
