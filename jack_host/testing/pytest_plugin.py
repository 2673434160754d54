"""pytest fixtures for Jack plugin authors, loaded through the ``pytest11`` entry point ``jack``.

Installing ``jack-host`` makes them available in every test run; nothing to import::

    def test_my_channel_shows_in_health(jack_app_factory):
        app = jack_app_factory(plugins=["my_channel"], env={"MYCHAT_TOKEN": "t0ken"})
        assert "mychat" in app.channels

    # or choose once, in conftest.py, what ``jack_app`` (and so ``jack_client``) gets:
    @pytest.fixture
    def jack_plugins():
        return ["my_channel"]

    def test_health(jack_client):
        assert jack_client.get("/health").json["channels"]["mychat"] == "connected"

Fixtures: ``jack_plugins`` and ``jack_env`` (override them), ``jack_app_factory``, ``jack_app``,
``jack_client`` (``falcon.testing.TestClient``), ``jack_server`` (a base URL, served by uvicorn)
and the model fakes ``fake_openai``, ``fake_anthropic``, ``fake_ollama``
(``jack_host.testing.fake_llm``).

This module is imported at the start of every pytest run in an environment with Jack, so it
imports only the light test kit; the app, falcon and uvicorn come in when a fixture is used.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

from jack_host.contract.plugins import ENTRY_POINT_GROUP
from jack_host.testing import make_app, running_app
from jack_host.testing.fake_llm import FakeAnthropic, FakeOllama, FakeOpenAI

if TYPE_CHECKING:
    from jack_host.web.app import JackApp

#: A chosen plugin: an installed plugin's entry-point name (``"channel_webchat"``), an importable
#: module path (``"jack_host.testing.channel"``), a ``(name, module)`` pair or a module.
PluginChoice = str | tuple[str, object] | ModuleType

__all__ = ["PluginChoice", "choose_plugins"]


def choose_plugins(plugins: Iterable[PluginChoice] | None) -> tuple[list[str] | None, list[tuple[str, object]]]:
    """Split a choice into installed plugins (by entry-point name) and modules to register besides.

    :param plugins: None for every installed plugin; see :data:`PluginChoice` for the items.
    :returns: ``(entry-point names, (name, module) pairs)``; the names are None for every installed plugin.
    """
    if plugins is None:
        return None, []
    installed = {ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    names: list[str] = []
    extra: list[tuple[str, object]] = []
    for choice in plugins:
        if isinstance(choice, tuple):
            extra.append(choice)
        elif isinstance(choice, ModuleType):
            extra.append((choice.__name__, choice))
        elif choice in installed:
            names.append(choice)
        else:
            try:
                extra.append((choice, importlib.import_module(choice)))
            except ImportError as exc:
                raise ValueError(
                    f"plugin {choice!r} is neither an installed plugin ({', '.join(sorted(installed)) or 'none installed'})"
                    f" nor an importable module: {exc}"
                ) from exc
    return names, extra


@pytest.fixture
def jack_plugins() -> list[PluginChoice] | None:
    """The plugins ``jack_app`` gets besides the host's defaults; None (the default) is every installed one."""
    return None


@pytest.fixture
def jack_env() -> dict[str, str]:
    """Settings for ``jack_app``, as environment variables (the developer's environment is ignored)."""
    return {}


@pytest.fixture
def jack_app_factory(tmp_path: Path) -> Iterator[Callable[..., JackApp]]:
    """``jack_app_factory(plugins=None, env=None, path=None, migrate=True)`` builds a :class:`JackApp`.

    Each app gets a fresh SQLite database, migrated, in its own folder (``tmp_path/jack-1``,
    ``jack-2``...; ``path=`` chooses one, e.g. one holding config files: it is ``JACK_CONFIG_DIR``).
    ``plugins``: None registers every installed plugin; a list registers only those (see
    :data:`PluginChoice`) plus the host's defaults. ``JACK_DISABLED_PLUGINS`` in ``env`` still
    applies. The databases are closed after the test.
    """
    built: list[JackApp] = []
    numbers = itertools.count(1)

    def build(
        plugins: Iterable[PluginChoice] | None = None,
        env: Mapping[str, str] | None = None,
        *,
        path: Path | None = None,
        migrate: bool = True,
    ) -> JackApp:
        names, extra = choose_plugins(plugins)
        environ = dict(env or {})
        if names:
            # The allow-list, so the chosen plugins load as in production (entry point, distribution).
            environ["JACK_ENABLED_PLUGINS"] = ",".join(names)
        folder = path or tmp_path / f"jack-{next(numbers)}"
        folder.mkdir(parents=True, exist_ok=True)
        app = make_app(folder, plugins=extra, env=environ, load_entrypoints=names is None or bool(names), migrate=migrate)
        built.append(app)
        return app

    yield build
    for app in built:
        app.engine.dispose()


@pytest.fixture
def jack_app(jack_app_factory: Callable[..., JackApp], jack_plugins: Any, jack_env: dict[str, str]) -> JackApp:
    """An app with ``jack_plugins`` and ``jack_env``, built by ``jack_app_factory``."""
    return jack_app_factory(plugins=jack_plugins, env=jack_env)


@pytest.fixture
def jack_client(jack_app: JackApp) -> Any:
    """A ``falcon.testing.TestClient`` for ``jack_app``.

    Each request runs the app's whole lifespan (start-up hooks, request, shut-down hooks); use
    ``jack_server`` to keep one app running across requests, or WebSockets.
    """
    import falcon.testing  # here, not at the top: keeps pytest's start-up light

    return falcon.testing.TestClient(jack_app)


@pytest.fixture
def jack_server(jack_app: JackApp) -> Iterator[str]:
    """``jack_app`` served by uvicorn on a loopback port for the test; the value is its base URL."""
    with running_app(jack_app) as base_url:
        yield base_url


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A running :class:`~jack_host.testing.fake_llm.FakeOpenAI`; ``fake_openai.env()`` points Jack at it."""
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def fake_anthropic() -> Iterator[FakeAnthropic]:
    """A running :class:`~jack_host.testing.fake_llm.FakeAnthropic` (``.env()``: key and API base)."""
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture
def fake_ollama() -> Iterator[FakeOllama]:
    """A running :class:`~jack_host.testing.fake_llm.FakeOllama` (``.env()``: ``OLLAMA_BASE_URL``)."""
    with FakeOllama() as fake:
        yield fake
