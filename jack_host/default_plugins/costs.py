"""Cost tracking wired into the host: ROI settings, ``GET /api/v1/costs``, ``jack costs`` and ``/health``.

The ledger itself (``app.costs``) is built by ``create_app`` because ``app.llm`` records every call in it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jack_host import hookimpl
from jack_host.settings import Setting

if TYPE_CHECKING:
    import click

    from jack_host.app import JackApp


@hookimpl
def jack_settings_validators() -> list[Setting]:
    return [
        Setting("ROI_STAFF_MINUTES_PER_REQUEST", float, 5.0, "staff minutes a guest request takes without Jack (ROI report)", minimum=0),
        Setting("ROI_STAFF_HOURLY_RATE", float, 20.0, "loaded hourly cost of front-desk staff in USD (ROI report; 0 = do not compute)", minimum=0),
    ]


@hookimpl
def jack_add_routes(app: JackApp) -> None:
    from jack_host.costs.api import CostsResource

    app.add_route("/api/v1/costs", CostsResource(app))


@hookimpl
def jack_register_commands(cli: click.Group) -> None:
    from jack_host.costs.cli import costs

    cli.add_command(costs)


@hookimpl
def jack_health_extras(app: JackApp) -> dict[str, Any] | None:
    try:
        return {"costs": app.costs.status()}
    except Exception as exc:  # e.g. not migrated yet: /health must still answer
        return {"costs": {"error": f"cost ledger unavailable: {type(exc).__name__}"}}
