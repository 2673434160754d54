"""``jack alerts export-rules``: the thresholds as a Prometheus rules file."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from jack_host.builtin.monitoring.rules import rules_yaml
from jack_host.builtin.monitoring.thresholds import configured_levels, level_problems
from jack_host.cli.main import EXIT_CONFIG, load_checked_settings


def alerts_group(cli: click.Group) -> click.Group:
    """The ``jack alerts`` group, created by whichever feature adds a command to it first."""
    group = cli.commands.get("alerts")
    if group is None:
        group = click.Group(
            "alerts",
            help="Alerts: list, acknowledge, resolve, test, and export the thresholds.\n\n"
            "\b\nExamples:\n  jack alerts list\n  jack alerts export-rules",
        )
        cli.add_command(group)
    assert isinstance(group, click.Group), "`jack alerts` is a command group"
    return group


@click.command("export-rules")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write the rules to FILE instead of standard output")
@click.pass_context
def export_rules(ctx: click.Context, output: Path | None) -> None:
    """Write Jack's twelve thresholds as a Prometheus rules file.

    The expressions, levels (THRESHOLD_<NAME>_WARNING/_CRITICAL), THRESHOLD_FOR_SECONDS and
    THRESHOLD_KEEP_FIRING_SECONDS are the ones Jack evaluates itself.

    \b
    Example:
      jack alerts export-rules -o /etc/prometheus/rules/jack.yml
      promtool check rules /etc/prometheus/rules/jack.yml
    """
    settings = load_checked_settings(ctx.obj["pm"])
    problems = level_problems(settings)
    if problems:
        for line in problems:
            click.echo(f"error: {line}", err=True)
        sys.exit(EXIT_CONFIG)
    levels = configured_levels(settings)
    text = rules_yaml(levels, float(settings.get("THRESHOLD_EVALUATION_INTERVAL") or 60))
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text)
    except OSError as exc:
        click.echo(f"error: cannot write {output}: {exc.strerror or exc}", err=True)
        sys.exit(1)
    click.echo(f"wrote {2 * len(levels)} rules ({len(levels)} thresholds, warning and critical) to {output}")
