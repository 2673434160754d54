"""``jack alerts list|ack|resolve|test``: the on-call alerts from the command line."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click

from jack_host.builtin.alerts.models import INCIDENT_STATUSES
from jack_host.builtin.alerts.oncall import SEVERITIES
from jack_host.builtin.alerts.service import AlertService, service_of
from jack_host.cli.main import build_app, check_database, fail, run_migrations
from jack_host.contract.services import AlertNotFound


def alerts_group(cli: click.Group) -> click.Group:
    """The ``jack alerts`` group, created by whichever alerts module registers its commands first."""
    group = cli.commands.get("alerts")
    if not isinstance(group, click.Group):

        @cli.group("alerts")
        def group() -> None:
            """Alerts: list, acknowledge, resolve, test, and export the thresholds.

            \b
            Examples:
              jack alerts list
              jack alerts ack 12
              jack alerts test --severity critical
            """

    return group  # type: ignore[return-value]


def _service(ctx: click.Context) -> AlertService:
    app = build_app(ctx)
    check_database(app)
    run_migrations(app, echo=False)
    return service_of(app)


def _change(ctx: click.Context, change: Any, done: str) -> None:
    """Run ``change(service)`` (acknowledge, resolve) and print the alert, or fail with one line."""
    service = _service(ctx)
    try:
        alert = asyncio.run(change(service))
    except (AlertNotFound, ValueError) as exc:
        fail(str(exc))
    click.echo(f"{done}: {_line(alert)}")


def _line(alert: dict[str, Any]) -> str:
    where = f"level {alert['level_name']}" if alert["level_name"] else "not paged yet"
    if alert["status"] == "held":
        where = f"held for quiet hours until {alert['next_escalation_at']}"
    elif alert["status"] == "open" and alert["next_escalation_at"]:
        where += f", next level at {alert['next_escalation_at']}"
    return f"#{alert['id']:<5} {alert['status']:<12} {alert['severity']:<8} {alert['name']}: {alert['summary']} ({where})"


def _delivery_line(delivery: dict[str, Any]) -> str:
    return (f"    {delivery['action']:<11} {delivery['route']:<10} {delivery['contact']:<28} {delivery['status']}"
            f"{' after ' + str(delivery['attempts']) + ' attempt(s)' if delivery['attempts'] > 1 else ''}"
            f"{': ' + delivery['detail'] if delivery['detail'] else ''}")


def register(cli: click.Group) -> None:
    group = alerts_group(cli)

    @group.command("list")
    @click.option("--status", type=click.Choice(["active", "all", *INCIDENT_STATUSES]), default="active", show_default=True,
                  help="Which alerts to show.")
    @click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
    @click.option("--json", "as_json", is_flag=True, help="Print JSON (the same items as GET /api/v1/alerts).")
    @click.option("--deliveries", is_flag=True, help="Also show each page sent and how it went.")
    @click.pass_context
    def alerts_list(ctx: click.Context, status: str, limit: int, as_json: bool, deliveries: bool) -> None:
        """List alerts, newest first, with their escalation level.

        \b
        Examples:
          jack alerts list
          jack alerts list --status all --deliveries
        """
        items = _service(ctx).list(None if status == "all" else status, limit)
        if as_json:
            click.echo(json.dumps(items, indent=2))
            return
        if not items:
            click.echo("No alerts." if status == "all" else f"No {status} alerts.")
        for alert in items:
            click.echo(_line(alert))
            if deliveries:
                for delivery in alert["deliveries"]:
                    click.echo(_delivery_line(delivery))

    @group.command("ack")
    @click.argument("alert_id", type=int)
    @click.option("--by", default="cli", show_default=True, help="Who acknowledges it, for the record.")
    @click.pass_context
    def alerts_ack(ctx: click.Context, alert_id: int, by: str) -> None:
        """Acknowledge an alert: its escalation stops (PagerDuty hears it too).

        \b
        Example:
          jack alerts ack 12 --by "night engineer"
        """
        _change(ctx, lambda service: service.acknowledge(alert_id, by), "Acknowledged")

    @group.command("resolve")
    @click.argument("alert_id", type=int)
    @click.option("--by", default="cli", show_default=True, help="Who resolves it, for the record.")
    @click.pass_context
    def alerts_resolve(ctx: click.Context, alert_id: int, by: str) -> None:
        """Resolve an alert by hand (PagerDuty closes its incident).

        \b
        Example:
          jack alerts resolve 12
        """
        _change(ctx, lambda service: service.resolve(alert_id, by), "Resolved")

    @group.command("test")
    @click.option("--severity", type=click.Choice(SEVERITIES[1:]), default="warning", show_default=True,
                  help="The test alert's severity (quiet hours page only their override severity).")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @click.pass_context
    def alerts_test(ctx: click.Context, severity: str, as_json: bool) -> None:
        """Send a test alert through every escalation level at once, then resolve it; report each route.

        Exits 1 when a page failed.

        \b
        Examples:
          jack alerts test
          jack alerts test --severity critical
        """
        service = _service(ctx)
        report = asyncio.run(service.send_test(severity))
        if as_json:
            click.echo(json.dumps(report, indent=2))
        else:
            alert = report["alert"]
            click.echo(f"Test alert #{alert['id']} ({severity}), levels: {', '.join(alert['levels']) or '(none: oncall.yaml has no levels)'}")
            for name in report["broadcast"]["delivered"]:
                click.echo(f"    {'every alert':<11} {name:<10} {'':<28} sent")
            for failure in report["broadcast"]["failed"]:
                click.echo(f"    {'every alert':<11} {failure}")
            if report["held_until"]:
                click.echo(f"Held: quiet hours; a {severity} alert would be paged at {report['held_until']} (try --severity critical).")
            for delivery in alert["deliveries"]:
                click.echo(_delivery_line(delivery))
        failed = [d for d in report["alert"]["deliveries"] if d["status"] == "failed"]
        if failed:
            raise SystemExit(1)
