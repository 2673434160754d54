"""``jack kb import FILE`` and ``jack kb search QUERY``: the knowledge base from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import click

from jack_host.builtin.knowledge.knowledge_base import KnowledgeImportError
from jack_host.cli.main import build_app, check_database, fail, run_migrations
from jack_host.contract.services import Audit


@click.group("kb")
def kb() -> None:
    """Manage the knowledge base the AI answers from.

    \b
    Examples:
      jack kb import faq.yaml
      jack kb search "breakfast hours"
    """


@kb.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_context
def kb_import(ctx: click.Context, file: Path) -> None:
    """Add or update articles from FILE (matched by title).

    FILE is a YAML list of {title, body, category, tags}, a Markdown file with one
    "## Title" section per article ("# Heading" lines set the category), or a CSV
    with the columns title,body,category,tags.

    \b
    Example:
      jack kb import hotel-faq.md
    """
    app = build_app(ctx)
    check_database(app)
    run_migrations(app, echo=False)
    try:
        report = app.services.knowledge.import_file(file)
    except KnowledgeImportError as exc:
        fail(str(exc))
    if audit := app.services.find(Audit):
        audit.record("cli", "knowledge.import", "knowledge:", None, {"file": str(file), "result": report.summary()})
    click.echo(f"Imported {file}: {report.summary()}.")


@kb.command("search")
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", default=5, show_default=True, help="How many articles to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def kb_search(ctx: click.Context, query: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Show the articles that best match QUERY, as the AI would find them.

    "confident" means the AI may answer from the article without a model.

    \b
    Example:
      jack kb search what time is breakfast
    """
    app = build_app(ctx)
    check_database(app)
    run_migrations(app, echo=False)
    matches = app.services.knowledge.search(" ".join(query), limit=limit)
    if as_json:
        click.echo(json.dumps([{"score": m.score, "coverage": m.coverage, "confident": m.confident, **m.article} for m in matches], indent=2))
        return
    if not matches:
        click.echo("No matching article.")
        return
    for match in matches:
        flag = "confident" if match.confident else "weak"
        click.echo(f"{match.score:8.3f}  coverage {match.coverage:.0%}  {flag:9}  #{match.article['id']} {match.article['title']}")
