"""Helpers for testing Jack and Jack plugins.

``make_app`` builds a migrated app with exactly the plugins you name (installed
plugins stay out unless asked for); ``running_app`` serves an app on a loopback
port in a thread; ``JackProcess`` runs the real ``jack serve`` command.
The pytest fixtures for plugin authors are in ``jack_host.testing.pytest_plugin``.

Importing this package is cheap (the standard library only): the pytest plugin imports it
in every test run, so the app, httpx and uvicorn are imported where they are used.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jack_host import hookimpl
from jack_host.testing.loopback import free_port

if TYPE_CHECKING:
    from jack_host.web.app import JackApp

__all__ = [
    "JackProcess", "async_wait_until", "base_environ", "echo_plugin", "free_port", "inbound_messages", "jack_executable",
    "make_app", "replies", "run_jack", "running_app", "stored_messages", "wait_until",
]


def echo_plugin(**fields: str) -> tuple[str, Any]:
    """A plugin (for ``make_app(plugins=[...])``) whose ``GET /echo`` answers ``req.context`` fields.

    ``echo_plugin(ip="client_ip")`` answers ``{"ip": ...}``: the client address the host worked
    out from the proxy headers.
    """

    class Echo:
        async def on_get(self, req: Any, resp: Any) -> None:
            resp.media = {key: getattr(req.context, field) for key, field in fields.items()}

    @hookimpl
    def jack_add_routes(app: Any) -> None:
        app.add_route("/echo", Echo())

    return ("echo", types.SimpleNamespace(jack_add_routes=jack_add_routes))


def base_environ(tmp_path: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment that points every file at ``tmp_path`` and ignores the developer's ``.env``."""
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "JACK_CONFIG_DIR": str(tmp_path),
        "DATABASE_PATH": str(tmp_path / "data" / "jack.db"),
        "BACKUP_DIR": str(tmp_path / "data" / "backups"),
        "LOG_LEVEL": "warning",
    }
    environ.update(env or {})
    return environ


def make_app(
    tmp_path: Path,
    plugins: Iterable[tuple[str, object]] = (),
    env: Mapping[str, str] | None = None,
    *,
    load_entrypoints: bool = False,
    migrate: bool = True,
) -> JackApp:
    """Build a :class:`JackApp` with a fresh SQLite database in ``tmp_path``.

    :param plugins: ``(name, module)`` pairs registered besides the host's defaults.
    :param env: settings, as environment variables.
    :param load_entrypoints: also load every pip-installed plugin.
    """
    # Imported here, not at the top, to keep the app off pytest's start-up path.
    from jack_host.config.settings import load_settings
    from jack_host.contract.plugins import make_plugin_manager
    from jack_host.web.app import create_app

    environ = base_environ(tmp_path, env)
    settings = load_settings(environ, cwd=tmp_path)
    pm = make_plugin_manager(environ, load_entrypoints=load_entrypoints, extra_plugins=plugins)
    app = create_app(settings, pm=pm, environ=environ)
    if migrate:
        app.migrations.upgrade(app.engine)
    return app


@contextlib.contextmanager
def running_app(app: JackApp, port: int | None = None) -> Iterator[str]:
    """Serve ``app`` with uvicorn on loopback in a thread; yield its base URL.

    Start-up and shut-down hooks run as in production.
    """
    import uvicorn  # here, not at the top: keeps pytest's start-up light

    port = port or free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        lifespan="on",
        access_log=False,
        proxy_headers=False,
        ws_per_message_deflate=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"jack-test-server-{port}", daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    wait_until(lambda: server.started, timeout=30, what="test server start")
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def wait_until(
    condition: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02, what: str = "condition"
) -> Any:
    """Poll ``condition`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


async def async_wait_until(
    condition: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02, what: str = "condition"
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


class JackProcess:
    """The real ``jack`` command in a subprocess, for end-to-end tests.

    >>> with JackProcess(tmp_path, env={...}) as jack:
    ...     httpx.get(jack.url + "/health")
    """

    def __init__(
        self,
        tmp_path: Path,
        env: Mapping[str, str] | None = None,
        port: int | None = None,
        args: Iterable[str] = (),
    ):
        self.tmp_path = tmp_path
        self.port = port or free_port()
        self.environ = base_environ(tmp_path, {"PORT": str(self.port), **(env or {})})
        self.args = list(args)
        self.process: subprocess.Popen[str] | None = None
        self.log_path = tmp_path / f"jack-serve-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> JackProcess:
        log = self.log_path.open("a")
        self.process = subprocess.Popen(
            [jack_executable(), "serve", *self.args],
            cwd=self.tmp_path,
            env=self.environ,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        if wait:
            self.wait_ready()
        return self

    def output(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def wait_ready(self, timeout: float = 60.0) -> None:
        import httpx  # here, not at the top: keeps pytest's start-up light

        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"jack serve exited with {self.process.returncode}:\n{self.output()}")
            try:
                return httpx.get(self.url + "/health/ready", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout=timeout, interval=0.1, what="jack serve to become ready")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def kill(self) -> int:
        return self.stop(signal.SIGKILL)

    def __enter__(self) -> JackProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.stop()


def jack_executable() -> str:
    candidate = Path(sys.executable).with_name("jack")
    return str(candidate) if candidate.exists() else "jack"


def run_jack(
    tmp_path: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a ``jack`` sub-command to completion with the test environment.

    :param input: text fed to the command's standard input (answers to prompts).
    """
    return subprocess.run(
        [jack_executable(), *args],
        cwd=tmp_path,
        env=base_environ(tmp_path, env),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        # No controlling terminal: password prompts (getpass) then read ``input``
        # instead of the developer's terminal.
        start_new_session=True,
    )


def stored_messages(app: JackApp) -> list[Any]:
    """Every stored conversation message, oldest first (for channel plugin tests)."""
    from sqlmodel import Session, select

    from jack_host.builtin.conversations.models import Message

    with Session(app.engine) as session:
        return list(session.exec(select(Message).order_by(Message.id)).all())


def inbound_messages(app: JackApp) -> list[Any]:
    return [m for m in stored_messages(app) if m.direction == "inbound"]


def replies(app: JackApp, statuses: tuple[str, ...] = ("sent", "delivered", "read", "failed")) -> list[Any]:
    """Outbound messages the outbox has finished with (sent or failed), oldest first."""
    return [m for m in stored_messages(app) if m.direction == "outbound" and m.status in statuses]
