"""Every hook is documented and has a test named after it; each hook below is exercised for real."""

from __future__ import annotations

import asyncio
import inspect
import re
import types
from pathlib import Path

import click
import httpx
from click.testing import CliRunner

from jack_host import hookimpl
from jack_host.cli.doctor import DoctorCheck, run_doctor
from jack_host.config.settings import Setting, SettingsError
from jack_host.contract import hookspecs
from jack_host.contract.interfaces import (
    Alert,
    AlertRoute,
    BackupDestination,
    ComponentHealth,
    LLMProvider,
    LLMResponse,
)
from jack_host.testing import make_app, run_jack, running_app

HOOKS = [name for name, value in vars(hookspecs).items() if name.startswith("jack_") and callable(value)]


def plugin(**functions):
    module = types.SimpleNamespace()
    for name, function in functions.items():
        setattr(module, name, hookimpl(function))
    return module


def test_every_hook_is_documented_with_its_parameters():
    for name in HOOKS:
        function = getattr(hookspecs, name)
        doc = inspect.getdoc(function) or ""
        assert doc, f"{name} has no docstring"
        for parameter in inspect.signature(function).parameters:
            assert f":param {parameter}:" in doc, f"{name} does not document {parameter}"


def test_every_hook_has_a_test_named_after_it():
    test_names = set()
    for path in Path(__file__).parent.glob("test_*.py"):
        test_names.update(re.findall(r"def (test_\w+)", path.read_text()))
    for name in HOOKS:
        assert any(name in test for test in test_names), f"no test is named after {name}"


def test_jack_register_llm_providers(tmp_path):
    class Local(LLMProvider):
        name = "house-model"
        is_local = True
        model = "ollama_chat/house"

        def is_configured(self):
            return True

        async def health(self):
            return ComponentHealth.connected()

        async def complete(self, request):
            return LLMResponse(text="from the house model", model=self.model)

    app = make_app(tmp_path, plugins=[("house", plugin(jack_register_llm_providers=lambda register, app: register(Local())))])
    assert "house-model" in app.llm_providers
    from jack_host.contract.interfaces import LLMRequest

    result = asyncio.run(app.services.llm.complete(LLMRequest(messages=[{"role": "user", "content": "hi"}])))
    assert (result.provider, result.response.text) == ("house-model", "from the house model")


def test_jack_register_backup_destinations(tmp_path):
    class Vault(BackupDestination):
        name = "vault"

        async def health(self):
            return ComponentHealth.not_configured("no vault")

        def store(self, path, key, metadata):
            raise NotImplementedError

        def list(self):
            return []

        def fetch(self, key, target):
            raise NotImplementedError

        def delete(self, key):
            raise NotImplementedError

    app = make_app(tmp_path, plugins=[("vault", plugin(jack_register_backup_destinations=lambda register, app: register(Vault())))])
    assert isinstance(app.backup_destinations["vault"], Vault)


def test_jack_register_alert_routes_delivers_and_records_alerts(tmp_path):
    received = []

    class Pager(AlertRoute):
        name = "pager"

        async def health(self):
            return ComponentHealth.connected()

        async def send(self, alert):
            received.append(alert.summary)

    class Broken(Pager):
        name = "broken"

        async def send(self, alert):
            raise ConnectionError("pager service unreachable")

    def register_routes(register, app):
        register(Broken())
        register(Pager())

    app = make_app(tmp_path, plugins=[("pager", plugin(jack_register_alert_routes=register_routes))])
    record = asyncio.run(app.services.alerts.raise_alert(Alert("disk.usage", "critical", "Disk 91% full")))
    assert received == ["Disk 91% full"]
    assert set(record.delivered_to.split(",")) == {"log", "pager"}
    assert "pager service unreachable" in record.delivery_error


def test_jack_add_routes(tmp_path):
    class Ping:
        async def on_get(self, req, resp):
            resp.media = {"pong": True}

    app = make_app(tmp_path, plugins=[("ping", plugin(jack_add_routes=lambda app: app.add_route("/ping", Ping())))])
    with running_app(app) as url:
        assert httpx.get(url + "/ping").json() == {"pong": True}


def test_jack_register_commands():
    from jack_host.cli.main import cli
    from jack_host.contract.hooks import Hooks
    from jack_host.contract.plugins import make_plugin_manager

    def register_commands(cli):
        @cli.command("wake-up-call")
        @click.argument("room")
        def wake_up_call(room):
            """Book a wake-up call."""
            click.echo(f"wake-up call booked for room {room}")

    pm = make_plugin_manager({}, load_entrypoints=False, extra_plugins=[("wake", plugin(jack_register_commands=register_commands))])
    Hooks(pm).register_commands(cli)
    try:
        result = CliRunner().invoke(cli, ["wake-up-call", "204"], obj={"pm": pm})
        assert result.exit_code == 0 and "room 204" in result.output
    finally:
        cli.commands.pop("wake-up-call", None)


def test_jack_settings_validators(tmp_path):
    def validators():
        return [Setting("MINIBAR_LIMIT", int, 5, "bottles", minimum=0)]

    minibar = ("minibar", plugin(jack_settings_validators=validators))
    assert make_app(tmp_path, plugins=[minibar]).settings.get("MINIBAR_LIMIT") == 5
    assert make_app(tmp_path, plugins=[minibar], env={"MINIBAR_LIMIT": "12"}).settings.get("MINIBAR_LIMIT") == 12
    try:
        make_app(tmp_path, plugins=[minibar], env={"MINIBAR_LIMIT": "-1"})
    except SettingsError as error:
        assert error.errors == ["MINIBAR_LIMIT=-1: expected a whole number of at least 0"]
    else:
        raise AssertionError("a negative MINIBAR_LIMIT was accepted")


def test_jack_startup_and_jack_shutdown_run_around_the_server(tmp_path):
    events = []

    async def started(app):
        events.append("startup")

    def jack_startup(app):
        return started(app)

    def jack_shutdown(app):
        events.append("shutdown")

    app = make_app(tmp_path, plugins=[("life", plugin(jack_startup=jack_startup, jack_shutdown=jack_shutdown))])
    with running_app(app):
        assert events == ["startup"]
    assert events == ["startup", "shutdown"]


def test_jack_doctor_checks(tmp_path):
    def checks(app):
        return [DoctorCheck("minibar webhook secret set", False, "MINIBAR_SECRET is empty", "set MINIBAR_SECRET")]

    app = make_app(tmp_path, plugins=[("minibar", plugin(jack_doctor_checks=checks))])
    results, passed = run_doctor(app)
    assert not passed
    assert results[-1].name == "minibar webhook secret set"
    assert "fix: set MINIBAR_SECRET" in results[-1].line()


def test_jack_health_extras(tmp_path):
    app = make_app(tmp_path, plugins=[("extra", plugin(jack_health_extras=lambda app: {"minibar": {"stock": "ok"}}))])
    with running_app(app) as url:
        assert httpx.get(url + "/health").json()["minibar"] == {"stock": "ok"}


def test_jack_before_migrations_and_jack_serve_banner(tmp_path):
    source = tmp_path / "src" / "jack_audit"
    source.mkdir(parents=True)
    (source / "__init__.py").write_text(
        "from jack_host import hookimpl\n"
        "@hookimpl\n"
        "def jack_before_migrations(app, pending):\n"
        "    print('about to apply ' + ','.join(pending))\n"
        "@hookimpl\n"
        "def jack_serve_banner(app, base_url):\n"
        "    return ['audit plugin says hello at ' + base_url]\n"
    )
    (tmp_path / "src" / "jack_audit-1.0.dist-info").mkdir()
    (tmp_path / "src" / "jack_audit-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: jack-audit\nVersion: 1.0\n")
    (tmp_path / "src" / "jack_audit-1.0.dist-info" / "entry_points.txt").write_text("[jack]\naudit = jack_audit\n")
    env = {"PYTHONPATH": str(tmp_path / "src"), "JACK_ENABLED_PLUGINS": "audit"}
    migrated = run_jack(tmp_path, "db", "migrate", env=env)
    assert "about to apply host_0001" in migrated.stdout
    again = run_jack(tmp_path, "db", "migrate", env=env)
    assert "about to apply" not in again.stdout

    from jack_host.testing import JackProcess

    with JackProcess(tmp_path, env=env) as jack:
        pass
    assert f"audit plugin says hello at http://localhost:{jack.port}" in jack.output()
