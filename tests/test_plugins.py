"""The plugin mechanism: entry points, built-ins, disabling, `jack plugins list`, pip-installed plugins."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import types

import pytest

from jack_host import hookimpl
from jack_host.contract.hooks import RegistrationError
from jack_host.contract.interfaces import Channel, ComponentHealth, NotConfiguredError, OutboundMessage
from jack_host.contract.plugins import PluginLoadError, make_plugin_manager
from jack_host.testing import make_app, run_jack

SEVEN = {
    "channel_whatsapp": "jack-channel-whatsapp",
    "channel_sms": "jack-channel-sms",
    "channel_email": "jack-channel-email",
    "channel_webchat": "jack-channel-webchat",
    "llm_ollama": "jack-llm-ollama",
    "backup_s3": "jack-backup-s3",
    "alert_pagerduty": "jack-alert-pagerduty",
}


def plugins_json(tmp_path, *args, env=None):
    result = run_jack(tmp_path, "plugins", "list", "--json", *args, env=env)
    assert result.returncode == 0, result.stderr
    return {entry["name"]: entry for entry in json.loads(result.stdout)}


def test_plugins_list_shows_the_seven_plugins_with_versions_and_hooks(tmp_path):
    listed = plugins_json(tmp_path)
    for name, distribution in SEVEN.items():
        assert name in listed, f"{name} missing from {sorted(listed)}"
        assert listed[name]["distribution"] == distribution
        assert listed[name]["version"]
        assert listed[name]["hooks"], name
        assert listed[name]["builtin"] is False
    assert not any(entry["builtin"] for entry in listed.values())


def test_all_includes_builtins_and_hook_filters(tmp_path):
    listed = plugins_json(tmp_path, "--all")
    assert listed["jack.host"]["builtin"] is True
    assert {"jack.alerts", "jack.backups", "jack.conversations", "jack.costs", "jack.knowledge", "jack.llm", "jack.staff"} <= set(listed)
    assert "jack_register_services" in listed["jack.conversations"]["hooks"]
    channels_only = plugins_json(tmp_path, "--hook", "jack_register_channels")
    assert {"channel_whatsapp", "channel_sms", "channel_email", "channel_webchat"} <= set(channels_only)
    assert "backup_s3" not in channels_only


def test_plain_listing_is_readable(tmp_path):
    result = run_jack(tmp_path, "plugins", "list")
    assert result.returncode == 0
    assert "channel_whatsapp" in result.stdout and "jack_register_channels" in result.stdout


def test_disabled_plugins_are_not_loaded(tmp_path):
    listed = plugins_json(tmp_path, env={"JACK_DISABLED_PLUGINS": "channel_sms, backup_s3"})
    assert "channel_sms" not in listed and "backup_s3" not in listed
    assert "channel_whatsapp" in listed


def test_allow_list_limits_entry_point_plugins(tmp_path):
    listed = plugins_json(tmp_path, env={"JACK_ENABLED_PLUGINS": "channel_webchat"})
    assert set(listed) == {"channel_webchat"}


def test_host_unit_tests_load_no_installed_plugins(tmp_path):
    app = make_app(tmp_path)
    assert app.channels == {}
    assert "channel_whatsapp" not in dict(app.pm.list_name_plugin())


def test_misspelled_hook_fails_fast():
    broken = types.SimpleNamespace()

    @hookimpl
    def jack_regster_channels(register, app):  # noqa: ARG001 - deliberately misspelled
        pass

    broken.jack_regster_channels = jack_regster_channels
    with pytest.raises(PluginLoadError, match="jack_regster_channels"):
        make_plugin_manager({}, load_entrypoints=False, extra_plugins=[("broken", broken)])


class _Named(Channel):
    def __init__(self, name):
        self.name = name

    async def health(self):
        return ComponentHealth.connected()

    async def send(self, message):
        raise AssertionError("not used")


def test_jack_register_channels_rejects_duplicate_names(tmp_path):
    def plugin(label):
        module = types.SimpleNamespace()

        @hookimpl
        def jack_register_channels(register, app):
            register(_Named("dup"))

        module.jack_register_channels = jack_register_channels
        return (label, module)

    with pytest.raises(RegistrationError, match="'dup' is registered twice: by 'first' and by 'second'"):
        make_app(tmp_path, plugins=[plugin("first"), plugin("second")])


def test_unconfigured_channel_refuses_to_send_with_a_clear_error(tmp_path):
    app = make_app(tmp_path, load_entrypoints=True)
    channel = app.channels["email"]
    assert asyncio.run(channel.health()).state == "not_configured"
    with pytest.raises(NotConfiguredError, match="channel 'email'"):
        asyncio.run(channel.send(OutboundMessage(1, 1, "guest@example.com", "hello", "ai")))


EXTERNAL_PLUGIN = '''
"""A hotel's own plugin, installed with pip from a folder of its own."""
import click
import falcon
from jack_host import hookimpl

__version__ = "2.5.0"

class Hello:
    async def on_get(self, req, resp):
        resp.media = {"hello": "from the minibar plugin"}

@hookimpl
def jack_register_commands(cli):
    @cli.command("minibar")
    def minibar():
        """Say hello from the minibar plugin."""
        click.echo("minibar plugin is alive")

@hookimpl
def jack_add_routes(app):
    app.add_route("/minibar", Hello())
'''


def test_a_pip_installed_plugin_appears_and_its_hooks_run(tmp_path):
    source = tmp_path / "src"
    (source / "jack_minibar").mkdir(parents=True)
    (source / "jack_minibar" / "__init__.py").write_text(EXTERNAL_PLUGIN)
    (source / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "jack-minibar"
            version = "2.5.0"

            [project.entry-points.jack]
            minibar = "jack_minibar"
            """
        )
    )
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(source)],
        check=True,
    )
    env = {"PYTHONPATH": str(target)}
    listed = plugins_json(tmp_path, env=env)
    assert listed["minibar"]["version"] == "2.5.0"
    assert listed["minibar"]["distribution"] == "jack-minibar"
    assert listed["minibar"]["hooks"] == ["jack_add_routes", "jack_register_commands"]

    ran = run_jack(tmp_path, "minibar", env=env)
    assert ran.returncode == 0 and "minibar plugin is alive" in ran.stdout

    import httpx

    from jack_host.testing import JackProcess

    with JackProcess(tmp_path, env=env) as jack:
        assert httpx.get(jack.url + "/minibar").json() == {"hello": "from the minibar plugin"}
