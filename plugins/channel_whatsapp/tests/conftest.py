"""Fixtures for the WhatsApp channel tests: a fake Graph API and apps pointed at it."""

from __future__ import annotations

import sys
from pathlib import Path

import jack_channel_whatsapp.plugin
import pytest

from jack_host.testing import make_app
from jack_host.testing.fake_whatsapp import FakeGraphAPI

# pytest runs with --import-mode=importlib, so make the helper module importable by the tests.
sys.path.insert(0, str(Path(__file__).parent))

from whatsapp_helpers import APP_SECRET, PHONE_NUMBER_ID, VERIFY_TOKEN  # noqa: E402


@pytest.fixture
def graph():
    with FakeGraphAPI(phone_number_id=PHONE_NUMBER_ID) as fake:
        yield fake


@pytest.fixture
def wa_env(graph) -> dict[str, str]:
    return {
        "WHATSAPP_ACCESS_TOKEN": graph.access_token,
        "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "WHATSAPP_API_URL": graph.api_url,
    }


@pytest.fixture
def make_wa_app(tmp_path, wa_env):
    def build(**overrides: str):
        env = {**wa_env, **overrides}
        return make_app(tmp_path, plugins=[("channel_whatsapp", jack_channel_whatsapp.plugin)],
                        env={k: v for k, v in env.items() if v is not None})

    return build
