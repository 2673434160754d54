"""Fixtures for the SMS channel tests: a fake Twilio REST API and apps pointed at it."""

from __future__ import annotations

import sys
from pathlib import Path

import jack_channel_sms.plugin
import pytest

from jack_host.testing import make_app
from jack_host.testing.fake_twilio import FakeTwilio

# pytest runs with --import-mode=importlib, so make the helper module importable by the tests.
sys.path.insert(0, str(Path(__file__).parent))

from sms_helpers import ACCOUNT_SID, AUTH_TOKEN, HOTEL_NUMBER, PUBLIC_URL  # noqa: E402


@pytest.fixture
def twilio():
    with FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture
def sms_env(twilio) -> dict[str, str]:
    return {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_PHONE_NUMBER": HOTEL_NUMBER,
        "TWILIO_API_URL": twilio.url,
        "PUBLIC_URL": PUBLIC_URL,
        "HOTEL_NAME": "Hotel Mirador",
    }


@pytest.fixture
def make_sms_app(tmp_path, sms_env):
    def build(**overrides: str | None):
        env = {**sms_env, **overrides}
        return make_app(tmp_path, plugins=[("channel_sms", jack_channel_sms.plugin)],
                        env={k: v for k, v in env.items() if v is not None})

    return build
