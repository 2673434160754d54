"""Cost tracking: the ``Costs`` service (ledger, budgets), ``GET /api/v1/costs``, ``jack costs`` and ``/health``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jack_host import hookimpl
from jack_host.builtin.costs.api import CostsResource
from jack_host.builtin.costs.cli import costs
from jack_host.builtin.costs.service import STATE_KEY, CostService
from jack_host.config.settings import Setting
from jack_host.contract.services import Costs

if TYPE_CHECKING:
    import click

    from jack_host.contract.app import App


@hookimpl
def jack_settings_validators() -> list[Setting]:
    return [
        Setting("ROI_STAFF_MINUTES_PER_REQUEST", float, 5.0, "staff minutes a guest request takes without Jack (ROI report)", minimum=0),
        Setting("ROI_STAFF_HOURLY_RATE", float, 20.0, "loaded hourly cost of front-desk staff in USD (ROI report; 0 = do not compute)", minimum=0),
    ]


@hookimpl
def jack_register_services(provide: Callable[[type, object], None], app: App) -> None:
    service = CostService(app)
    app.state[STATE_KEY] = service
    provide(Costs, service)


@hookimpl
def jack_register_migrations(register: Callable[[Path], None]) -> None:
    register(Path(__file__).parent / "migrations")


@hookimpl
def jack_add_routes(app: App) -> None:
    app.add_route("/api/v1/costs", CostsResource(app))


@hookimpl
def jack_register_commands(cli: click.Group) -> None:
    cli.add_command(costs)


@hookimpl
def jack_health_extras(app: App) -> dict[str, Any] | None:
    try:
        return {"costs": CostService.of(app).status()}
    except Exception as exc:  # e.g. not migrated yet: /health must still answer
        return {"costs": {"error": f"cost ledger unavailable: {type(exc).__name__}"}}
