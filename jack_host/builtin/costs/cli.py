"""``jack costs``: the cost report, budget status and lifting ``fallback_to_local``."""

from __future__ import annotations

import json

import click

from jack_host.builtin.costs.reports import build_report, format_report
from jack_host.builtin.costs.service import CostService
from jack_host.cli.main import build_app, check_database, run_migrations
from jack_host.contract.services import Audit


@click.group()
def costs() -> None:
    """AI and SMS spend, budgets and the cost dashboard metrics.

    \b
    Example:
      jack costs report --days 7
    """


@costs.command("report")
@click.option("--days", type=click.IntRange(1, 366), default=30, show_default=True, help="How many hotel days to cover, today included.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the same document as GET /api/v1/costs).")
@click.pass_context
def costs_report(ctx: click.Context, days: int, as_json: bool) -> None:
    """Show the cost dashboard metrics, each flagged against its alert threshold.

    \b
    Examples:
      jack costs report
      jack costs report --days 7 --json
    """
    app = build_app(ctx)
    check_database(app)
    run_migrations(app, echo=False)
    report = build_report(app, days)
    click.echo(json.dumps(report, indent=2, default=str) if as_json else format_report(report))


@costs.command("resume")
@click.option("--by", default="admin", show_default=True, help="Who lifts it, for the record.")
@click.pass_context
def costs_resume(ctx: click.Context, by: str) -> None:
    """Lift fallback_to_local: AI calls go to the paid providers again.

    The threshold stays fired for the rest of its period, so it does not trip again
    until the next day (daily budget) or month (monthly budget).

    \b
    Example:
      jack costs resume --by "night manager"
    """
    app = build_app(ctx)
    check_database(app)
    run_migrations(app, echo=False)
    lifted = CostService.of(app).resume(by)
    if lifted and (audit := app.services.find(Audit)):
        audit.record(f"cli ({by})", "budget.resume", "budget:ai", {"fallback_to_local": True}, {"fallback_to_local": False})
    if not lifted:
        click.echo("Paid AI providers are not paused; nothing to do.")
        return
    for row in lifted:
        click.echo(f"Lifted fallback_to_local of {row.budget} {row.period} (fired at {row.threshold:.0%}); paid AI providers are used again.")
