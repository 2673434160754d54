"""A third-party plugin, built in a temporary folder and found by its entry point, as pip would install it.

It declares and provides a service of its own, consumes the built-in Knowledge service,
owns a table through its own Alembic revision, and serves routes that use both.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Protocol, runtime_checkable

import httpx
import pytest

from jack_host import hookimpl
from jack_host.contract.services import Knowledge, ServiceConflict, Services, ServiceUnavailable
from jack_host.testing import JackProcess, make_app, run_jack

PLUGIN = '''
"""A minibar plugin: stock in its own table, offered to other plugins as the MinibarStock service."""

from pathlib import Path
from typing import Protocol, runtime_checkable

import falcon
from sqlalchemy import text

from jack_host import hookimpl
from jack_host.contract.services import Knowledge


@runtime_checkable
class MinibarStock(Protocol):
    def items(self) -> list[dict]: ...


class TableStock:
    def __init__(self, engine):
        self.engine = engine

    def items(self) -> list[dict]:
        with self.engine.connect() as connection:
            rows = connection.execute(text("SELECT name, count FROM minibar_items ORDER BY name")).all()
        return [{"name": name, "count": count} for name, count in rows]


class StockResource:
    def __init__(self, app):
        self.app = app

    async def on_get(self, req, resp):
        resp.media = {"items": self.app.services.get(MinibarStock).items()}


class AnswerResource:
    def __init__(self, app):
        self.app = app

    async def on_get(self, req, resp):
        match = self.app.services.get(Knowledge).best_confident(req.get_param("q") or "")
        resp.media = {"title": match.article["title"] if match else None}


@hookimpl
def jack_register_services(provide, app):
    provide(MinibarStock, TableStock(app.engine))


@hookimpl
def jack_register_migrations(register):
    register(Path(__file__).parent / "migrations")


@hookimpl
def jack_add_routes(app):
    app.add_route("/minibar/stock", StockResource(app))
    app.add_route("/minibar/answer", AnswerResource(app))
'''

MIGRATION = '''
"""minibar: the stock of every room's minibar"""
import sqlalchemy as sa
from alembic import op

revision = "minibar_0001"
down_revision = "host_0001"
branch_labels = ("minibar",)
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "minibar_items",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.bulk_insert(table, [{"name": "sparkling water", "count": 2}, {"name": "tonic", "count": 1}])


def downgrade() -> None:
    op.drop_table("minibar_items")
'''


def install_minibar(root: Path) -> dict[str, str]:
    """Lay the plugin out as an installed distribution: a package plus its dist-info with the entry point."""
    package = root / "site" / "jack_minibar"
    (package / "migrations").mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    (package / "migrations" / "minibar_0001.py").write_text(textwrap.dedent(MIGRATION))
    info = root / "site" / "jack_minibar-1.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: jack-minibar\nVersion: 1.2\n")
    (info / "entry_points.txt").write_text("[jack]\nminibar = jack_minibar\n")
    return {"PYTHONPATH": str(root / "site")}


def test_jack_register_services_and_jack_register_migrations_from_an_installed_plugin(tmp_path):
    env = install_minibar(tmp_path)

    listed = json.loads(run_jack(tmp_path, "plugins", "list", "--json", env=env).stdout)
    [minibar] = [p for p in listed if p["name"] == "minibar"]
    assert minibar["version"] == "1.2" and minibar["distribution"] == "jack-minibar"
    assert {"jack_register_services", "jack_register_migrations", "jack_add_routes"} <= set(minibar["hooks"])

    migrated = run_jack(tmp_path, "db", "migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    applied = migrated.stdout.split(": ", 1)[1].strip().split(", ")
    assert applied[0] == "host_0001" and "minibar_0001" in applied
    status = run_jack(tmp_path, "db", "status", env=env).stdout
    assert any(line.split()[:3] == ["minibar", "minibar_0001", "up"] for line in status.splitlines())

    kb = tmp_path / "kb.yaml"
    kb.write_text("- title: Breakfast\n  body: Breakfast is served from 7 to 10 in the garden room.\n")
    assert run_jack(tmp_path, "kb", "import", str(kb), env=env).returncode == 0

    with JackProcess(tmp_path, env=env) as jack:
        stock = httpx.get(jack.url + "/minibar/stock").json()
        answer = httpx.get(jack.url + "/minibar/answer", params={"q": "when is breakfast"}).json()
    assert stock == {"items": [{"name": "sparkling water", "count": 2}, {"name": "tonic", "count": 1}]}
    assert answer == {"title": "Breakfast"}


def test_jack_register_services_refuses_a_second_provider_and_a_wrong_object(tmp_path):
    def provide_knowledge(provide, app):
        provide(Knowledge, object())

    with pytest.raises(TypeError, match="does not implement it"):
        make_app(tmp_path / "a", plugins=[("broken", _plugin(jack_register_services=provide_knowledge))])

    class OtherKnowledge:
        pass

    for name in ("list", "get", "create", "update", "delete", "search", "best_confident", "import_file"):
        setattr(OtherKnowledge, name, lambda self, *a, **k: None)

    def provide_twice(provide, app):
        provide(Knowledge, OtherKnowledge())

    with pytest.raises(ServiceConflict, match="Knowledge is provided twice") as conflict:
        make_app(tmp_path / "b", plugins=[("rival", _plugin(jack_register_services=provide_twice))])
    assert "'jack.knowledge'" in str(conflict.value) and "JACK_DISABLED_PLUGINS" in str(conflict.value)


def test_a_missing_service_is_a_clear_error(tmp_path):
    app = make_app(tmp_path, env={"JACK_DISABLED_PLUGINS": "jack.knowledge"})
    with pytest.raises(ServiceUnavailable, match="no plugin provides the Knowledge service"):
        app.services.knowledge  # noqa: B018
    assert app.services.find(Knowledge) is None
    assert "knowledge_0001" not in app.migrations.ordered()


def test_services_are_found_by_their_declared_interface():
    @runtime_checkable
    class Greeter(Protocol):
        def greet(self) -> str: ...

    class Hello:
        def greet(self) -> str:
            return "hello"

    services = Services()
    services.provide(Greeter, Hello(), plugin="greeter")
    assert services.get(Greeter).greet() == "hello"
    assert services.provider_of(Greeter) == "greeter"


def _plugin(**functions):
    import types

    module = types.SimpleNamespace()
    for name, function in functions.items():
        setattr(module, name, hookimpl(function))
    return module
