"""Hook implementations of the audit feature: the ``Audit`` service, its table and its route."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from jack_host import hookimpl
from jack_host.builtin.audit.api import AuditResource
from jack_host.builtin.audit.service import AuditLog
from jack_host.contract.services import Audit

if TYPE_CHECKING:
    from jack_host.contract.app import App


@hookimpl
def jack_register_services(provide: Callable[[type, object], None], app: App) -> None:
    provide(Audit, AuditLog(app))


@hookimpl
def jack_register_migrations(register: Callable[[Path], None]) -> None:
    register(Path(__file__).parent / "migrations")


@hookimpl
def jack_add_routes(app: App) -> None:
    app.add_route("/api/v1/audit", AuditResource(app))
