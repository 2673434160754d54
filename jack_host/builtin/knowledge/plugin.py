"""The knowledge base: the hotel's articles, their search (``app.services.knowledge``) and ``jack kb``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from jack_host import hookimpl
from jack_host.builtin.knowledge.cli import kb
from jack_host.builtin.knowledge.knowledge_base import KnowledgeBase
from jack_host.config.settings import Setting
from jack_host.contract.services import Knowledge

if TYPE_CHECKING:
    import click

    from jack_host.contract.app import App


@hookimpl
def jack_settings_validators() -> list[Setting]:
    return [
        Setting("KB_MIN_SCORE", float, 0.0, "BM25 relevance a knowledge article needs to count as a confident match", minimum=0),
        Setting("KB_MIN_COVERAGE", float, 0.5, "share of the question's words an article must contain to be confident", minimum=0),
    ]


@hookimpl
def jack_register_services(provide: Callable[[type, object], None], app: App) -> None:
    provide(Knowledge, KnowledgeBase(app.engine, app.settings))


@hookimpl
def jack_register_migrations(register: Callable[[Path], None]) -> None:
    register(Path(__file__).parent / "migrations")


@hookimpl
def jack_register_commands(cli: click.Group) -> None:
    cli.add_command(kb)
