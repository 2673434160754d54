"""The dashboard feature: collects the pages in ``pages/`` and serves them with the static files."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jack_host import hookimpl
from jack_host.builtin.dashboard.registry import RESERVED_MENU, build_menu, collect_pages
from jack_host.builtin.dashboard.rendering import STATE_KEY, DashboardState, make_environment
from jack_host.builtin.dashboard.reserved import ReservedPage
from jack_host.builtin.dashboard.static import StaticResource

if TYPE_CHECKING:
    from jack_host.contract.app import App


@hookimpl
def jack_add_routes(app: App) -> None:
    pages = collect_pages()
    app.state[STATE_KEY] = DashboardState(env=make_environment(), menu=build_menu(pages))
    app.add_route("/static/dashboard/{name}", StaticResource())
    for page in pages:
        app.add_route(page.route, page.resource(app))
    routes = {page.route for page in pages}
    for entry in RESERVED_MENU:
        if entry.path not in routes:  # refused by role already, even before its page exists
            app.add_route(entry.path, ReservedPage(app, entry))
