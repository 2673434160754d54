"""The staff API: sign-in, conversations, tasks, knowledge, hotel profile, users, /ws/staff.

Attaches ``app.services.staff_auth`` (tokens, login limits) and adds the ``jack users`` commands.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from jack_host import hookimpl
from jack_host.builtin.staff.auth import STATE_KEY, StaffAuth
from jack_host.builtin.staff.auth_api import add_auth_routes
from jack_host.builtin.staff.commands import users
from jack_host.builtin.staff.conversations_api import add_conversation_routes
from jack_host.builtin.staff.hotel_api import add_hotel_routes
from jack_host.builtin.staff.knowledge_api import add_knowledge_routes
from jack_host.builtin.staff.openapi import add_openapi_route
from jack_host.builtin.staff.staff_ws import add_staff_ws_route
from jack_host.builtin.staff.tasks_api import add_task_routes
from jack_host.builtin.staff.users_api import add_user_routes
from jack_host.config.settings import Setting
from jack_host.contract.services import StaffAuth as StaffAuthService

if TYPE_CHECKING:
    import click

    from jack_host.contract.app import App


@hookimpl
def jack_settings_validators() -> list[Setting]:
    return [
        Setting("STAFF_ACCESS_TOKEN_SECONDS", int, 900, "lifetime of a staff access token (JWT)", minimum=30),
        Setting("STAFF_REFRESH_TOKEN_DAYS", float, 30.0, "lifetime of a staff refresh token", minimum=0.01),
        Setting("STAFF_LOGIN_MAX_FAILURES", int, 5, "failed sign-ins per account from one client IP before 429",
                minimum=1),
        Setting("STAFF_LOGIN_MAX_FAILURES_PER_IP", int, 20, "failed sign-ins per client IP before 429", minimum=1),
        Setting("STAFF_LOGIN_WINDOW_SECONDS", float, 900.0, "how long a failed sign-in counts", minimum=1),
        Setting("STAFF_LOGIN_SLOWDOWN_AFTER", int, 10,
                "failed sign-ins per account, from anywhere, before each further attempt waits", minimum=0),
        Setting("STAFF_LOGIN_SLOWDOWN_MAX_SECONDS", float, 10.0,
                "longest wait before an account's password is checked (0.5 s, doubling)", minimum=0),
        Setting("STAFF_WS_PING_SECONDS", float, 25.0, "keep-alive ping interval on /ws/staff", minimum=0.1),
    ]


@hookimpl
def jack_register_services(provide: Callable[[type, object], None], app: App) -> None:
    auth = StaffAuth(app)
    app.state[STATE_KEY] = auth
    provide(StaffAuthService, auth)


@hookimpl
def jack_register_migrations(register: Callable[[Path], None]) -> None:
    register(Path(__file__).parent / "migrations")


@hookimpl
def jack_add_routes(app: App) -> None:
    add_auth_routes(app)
    add_user_routes(app)
    add_conversation_routes(app)
    add_task_routes(app)
    add_knowledge_routes(app)
    add_hotel_routes(app)
    add_staff_ws_route(app)
    add_openapi_route(app)  # GET /api/v1/openapi.json, built from the routes above (openapi.py)


@hookimpl
def jack_startup(app: App) -> None:
    StaffAuth.of(app).tokens  # noqa: B018  (resolve the signing secret now, so its warning shows at start)


@hookimpl
def jack_register_commands(cli: click.Group) -> None:
    cli.add_command(users)
