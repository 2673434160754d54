"""The command line answers ``--version`` and ``--help`` without loading the plugins (issue 12).

The timings live in benchmarks/cli_speed.py; these tests check what makes them possible (which
modules a command imports, the cached command names) and that nothing a plugin adds goes missing.
"""

from __future__ import annotations

import os
import textwrap

import click
import pytest

from jack_host.testing import run_jack

HEAVY = ("sqlalchemy", "falcon", "litellm", "boto3", "dynaconf", "uvicorn", "jack_channel_sms")
WAKE_UP_PLUGIN = '''
import click
from pathlib import Path

from jack_host import hookimpl

Path(__file__).with_name("imported.log").open("a").write("imported\\n")


@hookimpl
def jack_register_commands(cli):
    @cli.command("wake-up-call")
    @click.argument("room")
    def wake_up_call(room):
        """Book a wake-up call for a room, with a description long enough that click would cut it off with dots.

        \\b
        Example:
          jack wake-up-call 204
        """
        click.echo(f"wake-up call booked for room {room}")
'''


@pytest.fixture
def plugin_env(tmp_path):
    (tmp_path / "jack_wake_up.py").write_text(WAKE_UP_PLUGIN)
    return {
        "PYTHONPATH": str(tmp_path),
        "JACK_EXTRA_PLUGINS": "jack_wake_up",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }


def imported_modules(tmp_path, env, *args):
    """Run ``jack ARGS`` in a Python that reports afterwards which heavy modules were imported."""
    script = textwrap.dedent(f"""
        import atexit, sys
        from jack_host.cli.main import main
        atexit.register(lambda: print("IMPORTED", sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r})))
        main({list(args)!r})
    """)
    import subprocess
    import sys

    from jack_host.testing import base_environ

    return subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=base_environ(tmp_path, env),
                          capture_output=True, text=True, timeout=120)


def test_help_lists_a_plugins_command_from_the_cache_without_importing_any_plugin(tmp_path, plugin_env):
    log = tmp_path / "imported.log"
    cold = run_jack(tmp_path, "--help", env=plugin_env)  # first run: loads the plugins, writes the cache
    assert cold.returncode == 0, cold.stderr
    listing = cold.stdout.split("Commands:")[1]
    assert "wake-up-call  Book a wake-up call for a room, with a description long enough" in listing
    assert "..." not in listing
    assert log.read_text().count("imported") == 1

    warm = imported_modules(tmp_path, plugin_env, "--help")
    assert warm.returncode == 0, warm.stderr
    assert warm.stdout.replace(warm.stdout[warm.stdout.index("IMPORTED"):], "") == cold.stdout
    assert "IMPORTED []" in warm.stdout  # no SQLAlchemy, Falcon, LiteLLM, boto3, Dynaconf or plugin
    assert log.read_text().count("imported") == 1  # the plugin module was not imported

    # The plugin changes: its new command shows up at once, the cache notices the file's change.
    plugin = tmp_path / "jack_wake_up.py"
    plugin.write_text(WAKE_UP_PLUGIN.replace('"wake-up-call"', '"late-checkout"'))
    stat = plugin.stat()
    os.utime(plugin, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    changed = run_jack(tmp_path, "--help", env=plugin_env)
    assert "late-checkout" in changed.stdout and "wake-up-call" not in changed.stdout

    ran = run_jack(tmp_path, "late-checkout", "301", env=plugin_env)
    assert ran.returncode == 0 and ran.stdout == "wake-up call booked for room 301\n", ran.stderr


def test_version_imports_nothing_heavy(tmp_path):
    result = imported_modules(tmp_path, {"XDG_CACHE_HOME": str(tmp_path / "cache")}, "--version")
    assert result.stdout.startswith("jack, version ") and "IMPORTED []" in result.stdout, result.stdout + result.stderr


def test_config_check_keeps_litellm_and_boto3_off_its_import_path(tmp_path):
    result = imported_modules(tmp_path, {}, "config", "check")
    assert "Configuration is valid" in result.stdout, result.stderr
    imported = result.stdout.split("IMPORTED ", 1)[1]
    assert "litellm" not in imported and "boto3" not in imported, imported


def test_plugins_list_still_shows_every_plugin_with_its_hooks(tmp_path):
    result = run_jack(tmp_path, "plugins", "list")
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines() if not line.startswith(" ")]
    for name in ("alert_pagerduty", "backup_s3", "channel_email", "channel_sms", "channel_webchat",
                 "channel_whatsapp", "llm_ollama"):
        assert name in names, result.stdout
    assert "hooks: jack_add_routes, jack_doctor_checks, jack_register_channels" in result.stdout


def test_a_plugin_that_fails_to_load_is_one_line_even_for_help(tmp_path):
    (tmp_path / "jack_broken.py").write_text("raise ImportError('needs libfoo')\n")
    env = {"PYTHONPATH": str(tmp_path), "JACK_EXTRA_PLUGINS": "jack_broken", "XDG_CACHE_HOME": str(tmp_path / "c")}
    result = run_jack(tmp_path, "--help", env=env)
    assert result.returncode == 2
    assert "jack_broken" in result.stderr and "needs libfoo" in result.stderr and "Traceback" not in result.stderr


def every_command():
    """Every command and group of the ``jack`` tree with all plugins loaded, as (path, command)."""
    import os as _os

    from jack_host.cli.main import cli, make_cli
    from jack_host.contract.plugins import make_plugin_manager

    make_cli(make_plugin_manager(_os.environ))

    def walk(command: click.Command, path: tuple[str, ...]):
        yield path, command
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, (*path, name))

    return list(walk(cli, ("jack",)))


def test_every_command_and_group_has_an_example_in_its_help():
    missing = [" ".join(path) for path, command in every_command()
               if "Example" not in (command.help or "") and not command.hidden]
    assert not missing, f"no example in the --help of: {', '.join(missing)}"


def test_group_listings_are_not_cut_off(tmp_path):
    for group in ("db", "config", "plugins", "users", "kb", "costs", "backup"):
        result = run_jack(tmp_path, group, "--help")
        assert result.returncode == 0, result.stderr
        assert "..." not in result.stdout.split("Commands:")[1], result.stdout
        assert "Example" in result.stdout, (group, result.stdout)


def test_the_cli_speed_benchmark_runs_and_reports_each_command():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "benchmarks/cli_speed.py", "--runs", "1", "--no-compile", "--command=--version"],
        cwd=root, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "1 runs each after one warm-up" in result.stdout
    assert "jack --version" in result.stdout and "wall median" in result.stdout and "exit 0" in result.stdout
