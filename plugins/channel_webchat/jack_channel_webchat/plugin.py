"""Hook implementations of the channel_webchat plugin."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from jack_channel_webchat.channel import WebchatChannel
from jack_channel_webchat.config import SETTINGS
from jack_channel_webchat.service import STATE_KEY, WebchatService
from jack_channel_webchat.websocket import ChatSocketResource
from jack_channel_webchat.widget import ChatPageResource, WidgetScriptResource
from jack_host import hookimpl
from jack_host.contract.interfaces import Channel

if TYPE_CHECKING:
    from jack_host.config.settings import Setting
    from jack_host.contract.app import App


@hookimpl
def jack_settings_validators() -> list[Setting]:
    return list(SETTINGS)


@hookimpl
def jack_register_channels(register: Callable[[Channel], None], app: App) -> None:
    # The first hook that sees the app: the service is built here and kept on the app.
    app.state[STATE_KEY] = WebchatService(app)
    register(WebchatChannel(app))


@hookimpl
def jack_register_migrations(register: Callable[[Path], None]) -> None:
    register(Path(__file__).parent / "migrations")


@hookimpl
def jack_add_routes(app: App) -> None:
    service = WebchatService.of(app)
    app.add_route("/ws", ChatSocketResource(service))
    app.add_route("/webchat.js", WidgetScriptResource())
    app.add_route("/chat", ChatPageResource(service))


@hookimpl
def jack_startup(app: App) -> Awaitable[None]:
    return WebchatService.of(app).start()


@hookimpl
def jack_shutdown(app: App) -> Awaitable[None]:
    return WebchatService.of(app).stop()


@hookimpl
def jack_serve_banner(app: App, base_url: str) -> list[str]:
    return [f"Try the web chat: {base_url}/chat"]
