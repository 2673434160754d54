"""The ``pytest11`` plugin (``jack_host.testing.pytest_plugin``) gives a plugin author's tests their fixtures.

Each test writes a plugin author's test files into a fresh folder and runs pytest on them
in a pytest subprocess (``pytester``), the way ``pip install jack-host`` + ``pytest`` would: the fixtures
come from the entry point, nothing is imported by the author's conftest.  (Not in-process:
pytester then unloads the modules the inner run imported, SQLAlchemy's among them, and the
tests that run after it in this process fail.)
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

pytest_plugins = ["pytester"]

AUTHOR_TESTS = '''
from jack_host.contract.plugins import plugin_infos


def test_only_the_chosen_plugin_is_loaded(jack_app_factory):
    app = jack_app_factory(plugins=["channel_webchat"])
    names = {info.name for info in plugin_infos(app.pm)}
    assert names == {"channel_webchat"}
    assert "webchat" in app.channels and "whatsapp" not in app.channels
    [info] = plugin_infos(app.pm)
    assert info.distribution == "jack-channel-webchat"  # loaded through its entry point, as in production


def test_a_module_can_be_chosen_and_every_app_gets_its_own_database(jack_app_factory, tmp_path):
    first = jack_app_factory(plugins=["jack_host.testing.channel"], env={"HOTEL_NAME": "Hotel Aurora"})
    second = jack_app_factory(plugins=[])
    assert "test" in first.channels and "test" not in second.channels and not second.channels
    assert first.settings.get("HOTEL_NAME") == "Hotel Aurora"
    assert str(tmp_path) in str(first.engine.url) and first.engine.url != second.engine.url


def test_jack_client_serves_the_chosen_plugins(jack_client):
    health = jack_client.get("/health")
    assert health.status_code == 200
    assert health.json["channels"] == {"webchat": "connected"}


def test_by_default_every_installed_plugin_is_loaded(jack_app_factory):
    app = jack_app_factory()
    assert {"channel_webchat", "channel_whatsapp"} <= {info.name for info in plugin_infos(app.pm)}


def test_fake_openai_configures_the_primary_model(jack_app_factory, fake_openai):
    app = jack_app_factory(plugins=[], env=fake_openai.env())
    assert app.llm_providers["primary"].is_configured()
    assert fake_openai.base_url.endswith("/v1") and fake_openai.requests == []
'''

#: pytest-asyncio (installed here) warns about its unset loop scope in a folder without settings.
AUTHOR_INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"

AUTHOR_CONFTEST = '''
import pytest


@pytest.fixture
def jack_plugins():
    return ["channel_webchat"]
'''


def test_plugin_author_fixtures_build_apps_with_a_chosen_set_of_plugins(pytester):
    pytester.makeini(AUTHOR_INI)
    pytester.makeconftest(AUTHOR_CONFTEST)
    pytester.makepyfile(test_my_plugin=AUTHOR_TESTS)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


def test_an_unknown_plugin_name_is_a_clear_error(pytester):
    pytester.makeini(AUTHOR_INI)
    pytester.makepyfile(test_typo='''
import pytest

def test_typo(jack_app_factory):
    with pytest.raises(ValueError, match="channel_webchta.*neither an installed plugin.*channel_webchat"):
        jack_app_factory(plugins=["channel_webchta"])
''')
    pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_the_plugin_is_registered_as_a_pytest11_entry_point():
    [entry_point] = [ep for ep in importlib.metadata.entry_points(group="pytest11") if ep.name == "jack"]
    assert entry_point.value == "jack_host.testing.pytest_plugin"


def test_loading_the_plugin_leaves_the_app_and_litellm_out():
    # A fresh interpreter: pytest imports every pytest11 plugin at start-up, in every test run.
    code = (
        "import sys, jack_host.testing.pytest_plugin; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'litellm', 'falcon', 'sqlalchemy', 'uvicorn', 'httpx'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"
