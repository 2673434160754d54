"""Engine > Apps as JSON (/api/v1/apps): every plugin, settings stored and applied live, secrets encrypted,
"test connection" through the providers' SDKs, roles, and the audit log.

One app with all seven plugins installed and only the minimum configured, on loopback, with fakes of
Twilio, OpenAI and Anthropic.
"""

from __future__ import annotations

import functools
import sqlite3

import httpx
import pytest

from jack_host import hookimpl
from jack_host.config.settings import Setting
from jack_host.contract.interfaces import AlertRoute, ComponentHealth
from jack_host.testing import make_app, running_app, wait_until
from jack_host.testing.fake_llm import FakeAnthropic, FakeOpenAI
from jack_host.testing.fake_twilio import FakeTwilio
from tests.staff_helpers import bearer, make_users, token_for

ENCRYPTION_KEY = "3f9c2a7e51b84d06a9e1c7f42b8d5e6a"
AUTH_TOKEN = "twilio-secret-auth-token-4242"
#: Provider checks run inside the request (up to 10 s each when a server is down).
http = httpx.Client(timeout=30)
SEVEN = {"alert_pagerduty", "backup_s3", "channel_email", "channel_sms", "channel_webchat", "channel_whatsapp", "llm_ollama"}


@pytest.fixture(scope="module")
def fakes():
    with FakeTwilio(auth_token=AUTH_TOKEN) as twilio, FakeOpenAI() as openai, FakeAnthropic() as anthropic:
        yield twilio, openai, anthropic


@pytest.fixture(scope="module")
def server(tmp_path_factory, fakes):
    tmp_path = tmp_path_factory.mktemp("apps")
    _, openai, anthropic = fakes
    app = make_app(tmp_path, env={
        "JWT_SECRET": "t" * 40, "ENCRYPTION_KEY": ENCRYPTION_KEY,
        # The models are chosen in .env; their servers and keys are set in the dashboard below.
        "AI_MODEL": "openai/fake-model", "AI_FALLBACK_MODEL": "anthropic/claude-sonnet-4-5",
    }, load_entrypoints=True)
    make_users(app)
    with running_app(app) as base_url:
        yield app, base_url, tmp_path / "data" / "jack.db"


@functools.cache
def headers(base_url: str, role: str) -> dict[str, str]:
    """One sign-in per role (password hashing is slow on purpose)."""
    return bearer(token_for(base_url, role))


def plugin(base_url: str, name: str, role: str = "admin") -> dict:
    response = http.get(f"{base_url}/api/v1/apps/{name}", headers=headers(base_url, role))
    assert response.status_code == 200, response.text
    return response.json()


def setting(document: dict, name: str) -> dict:
    return next(s for s in document["settings"] if s["name"] == name)


def put(base_url: str, name: str, values: dict, role: str = "admin") -> httpx.Response:
    return http.put(f"{base_url}/api/v1/apps/{name}/settings", json={"values": values}, headers=headers(base_url, role))


def test_every_installed_plugin_is_listed_with_its_status_and_declared_settings(server):
    app, base_url, _ = server
    listed = http.get(f"{base_url}/api/v1/apps", headers=headers(base_url, "manager")).json()["items"]
    names = {p["name"] for p in listed}
    assert SEVEN <= names and {"jack.llm", "jack.host", "jack.staff"} <= names
    sms = next(p for p in listed if p["name"] == "channel_sms")
    assert sms["version"] and sms["builtin"] is False
    assert "sms" in [c["name"] for c in sms["components"]]
    assert setting(sms, "TWILIO_AUTH_TOKEN")["secret"] is True
    assert setting(sms, "TWILIO_API_URL")["source"] == "default"
    host = next(p for p in listed if p["name"] == "jack.host")
    assert host["settings_editable"] is False and setting(host, "ENCRYPTION_KEY")["value"] != ENCRYPTION_KEY


def test_a_channel_configured_with_a_secret_connects_without_a_restart_and_the_secret_is_encrypted(server, fakes):
    app, base_url, database = server
    twilio, _, _ = fakes
    values = {"TWILIO_ACCOUNT_SID": twilio.account_sid, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
              "TWILIO_PHONE_NUMBER": "+15550100", "TWILIO_API_URL": twilio.url}
    response = put(base_url, "channel_sms", values)
    assert response.status_code == 200, response.text
    assert sorted(response.json()["changed"]) == sorted(values)
    # No restart: /health shows the channel connected against the fake (the account GET was really made).
    wait_until(lambda: http.get(f"{base_url}/health").json()["channels"]["sms"] == "connected", timeout=15, what="sms connected")
    assert twilio.matching("GET", f"/2010-04-01/Accounts/{twilio.account_sid}.json")

    shown = plugin(base_url, "channel_sms")
    token = setting(shown, "TWILIO_AUTH_TOKEN")
    assert token["value"] == "tw****42" and token["source"] == "dashboard" and AUTH_TOKEN not in str(shown)
    assert setting(shown, "TWILIO_PHONE_NUMBER")["value"] == "+15550100"

    with sqlite3.connect(database) as con:
        raw = con.execute("SELECT value FROM app_settings WHERE name = 'TWILIO_AUTH_TOKEN'").fetchone()[0]
        everything = " ".join(str(cell) for row in con.execute("SELECT * FROM app_settings") for cell in row)
    assert raw.startswith("gAAAAA") and AUTH_TOKEN not in everything

    # The mask sent back unchanged (as the page's form does) keeps the stored secret.
    again = put(base_url, "channel_sms", {"TWILIO_AUTH_TOKEN": "tw****42", "TWILIO_PHONE_NUMBER": "+15550199"})
    assert again.status_code == 200 and again.json()["changed"] == ["TWILIO_PHONE_NUMBER"], again.text
    assert app.settings.get("TWILIO_AUTH_TOKEN") == AUTH_TOKEN


def test_bad_values_are_refused_with_one_line_naming_the_setting(server):
    _, base_url, _ = server
    cases = [
        ({"TWILIO_API_URL": "ftp://x"}, "TWILIO_API_URL=ftp://x: expected a URL"),
        ({"OPENAI_API_KEY": "x"}, "OPENAI_API_KEY: not a setting of channel_sms"),
        ({"NOPE": "1"}, "NOPE: not a setting of channel_sms"),
    ]
    for values, message in cases:
        response = put(base_url, "channel_sms", values)
        assert response.status_code == 422 and message in response.json()["detail"], response.text
    start_up_only = put(base_url, "jack.host", {"PORT": "1"})
    assert start_up_only.status_code == 422 and "read at start-up only" in start_up_only.text
    malformed = http.put(f"{base_url}/api/v1/apps/channel_sms/settings", content=b"{", headers=headers(base_url, "admin"))
    assert malformed.status_code == 400
    assert put(base_url, "no_such_plugin", {}).status_code == 404


def test_test_connection_lists_the_models_with_the_openai_and_anthropic_sdks(server, fakes):
    app, base_url, _ = server
    _, openai, anthropic = fakes
    assert put(base_url, "jack.llm", {"OPENAI_API_BASE": openai.base_url, "OPENAI_API_KEY": "sk-wrong",
                                      "ANTHROPIC_API_BASE": anthropic.base_url, "ANTHROPIC_API_KEY": anthropic.api_key}).status_code == 200

    def test() -> dict:
        response = http.post(f"{base_url}/api/v1/apps/jack.llm/test", headers=headers(base_url, "manager"))
        assert response.status_code == 200, response.text
        return {r["name"]: r for r in response.json()["results"]}

    results = test()
    # A wrong key: the SDK's own error, as it is.
    assert results["primary"]["ok"] is False and results["primary"]["detail"].startswith("AuthenticationError: Error code: 401")
    assert results["secondary"]["ok"] is True and results["secondary"]["models"] == list(anthropic.models)
    [listed] = anthropic.matching("GET", "/v1/models")
    assert anthropic.api_key in (listed.headers.get("x-api-key"), listed.headers.get("authorization", "").removeprefix("Bearer "))
    assert listed.headers["anthropic-version"] and listed.headers["user-agent"].startswith("AsyncAnthropic/Python")

    assert put(base_url, "jack.llm", {"OPENAI_API_KEY": openai.api_key}).status_code == 200
    results = test()
    assert results["primary"]["ok"] is True and results["primary"]["models"] == openai.models
    assert f"{openai.base_url} lists 2 model(s)" in results["primary"]["detail"]
    # The rebuilt provider uses the dashboard's server and key for guests' replies too.
    assert app.llm_providers["primary"].api_base == openai.base_url


def test_staff_are_refused_and_managers_cannot_change_settings(server):
    _, base_url, _ = server
    for method, path in (("GET", "/api/v1/apps"), ("GET", "/api/v1/apps/channel_sms"), ("POST", "/api/v1/apps/channel_sms/test"),
                         ("PUT", "/api/v1/apps/channel_sms/settings"), ("GET", "/api/v1/audit")):
        response = http.request(method, base_url + path, json={"values": {}}, headers=headers(base_url, "staff"))
        assert response.status_code == 403, (path, response.text)
        assert http.request(method, base_url + path, json={"values": {}}).status_code == 401
    assert put(base_url, "channel_sms", {"SMS_HELP_TEXT": "hi"}, role="manager").status_code == 403


def test_every_change_is_in_the_audit_log_with_secrets_masked(server):
    _, base_url, _ = server
    created = http.post(f"{base_url}/api/v1/users", json={"email": "night@hotel.test", "password": "a long enough password"},
                         headers=headers(base_url, "admin"))
    assert created.status_code == 201, created.text
    article = http.post(f"{base_url}/api/v1/knowledge", json={"title": "Pool", "body": "Open 8-20."}, headers=headers(base_url, "manager"))
    assert http.put(f"{base_url}/api/v1/knowledge/{article.json()['id']}", json={"body": "Open 9-21."},
                     headers=headers(base_url, "manager")).status_code == 200
    entries = http.get(f"{base_url}/api/v1/audit?limit=200", headers=headers(base_url, "manager")).json()["items"]
    actions = [e["action"] for e in entries]
    assert {"app.settings", "user.create", "knowledge.create", "knowledge.update"} <= set(actions)
    assert AUTH_TOKEN not in str(entries) and "a long enough password" not in str(entries)
    sms = next(e for e in entries if e["action"] == "app.settings" and "TWILIO_AUTH_TOKEN" in (e["new"] or {}))
    assert sms["actor"] == "admin@hotel.test" and sms["target"] == "app:channel_sms" and sms["new"]["TWILIO_AUTH_TOKEN"] == "tw****42"
    update = next(e for e in entries if e["action"] == "knowledge.update")
    assert (update["old"], update["new"]) == ({"body": "Open 8-20."}, {"body": "Open 9-21."})
    assert http.get(f"{base_url}/api/v1/audit?limit=0", headers=headers(base_url, "manager")).status_code == 400


class HotelRadio:
    """A plugin the host has never heard of (as if pip-installed later): one setting, one alert route."""

    @staticmethod
    @hookimpl
    def jack_settings_validators():
        return [Setting("RADIO_CHANNEL", int, 5, "the walkie-talkie channel alerts go out on", minimum=1)]

    @staticmethod
    @hookimpl
    def jack_register_alert_routes(register, app):
        class Radio(AlertRoute):
            name = "radio"

            async def health(self):
                return ComponentHealth.connected(f"on channel {app.settings.get('RADIO_CHANNEL')}")

            async def send(self, alert):
                return None

        register(Radio())


def test_a_plugin_installed_later_is_listed_with_its_settings_and_components(tmp_path):
    app = make_app(tmp_path, plugins=[("hotel_radio", HotelRadio())], env={"JWT_SECRET": "t" * 40})
    make_users(app)
    with running_app(app) as base_url:
        radio = plugin(base_url, "hotel_radio")
        assert [c["name"] for c in radio["components"]] == ["radio"] and radio["status"] == "connected"
        assert setting(radio, "RADIO_CHANNEL") | {"help": ""} == {
            "name": "RADIO_CHANNEL", "type": "integer", "help": "", "secret": False, "choices": None, "default": 5,
            "value": 5, "is_set": True, "source": "default", "editable": True}
        assert put(base_url, "hotel_radio", {"RADIO_CHANNEL": "0"}).json()["detail"] == "RADIO_CHANNEL=0: expected a whole number of at least 1"
        changed = put(base_url, "hotel_radio", {"RADIO_CHANNEL": "9"}).json()
        assert changed["changed"] == ["RADIO_CHANNEL"] and changed["components"][0]["detail"] == "on channel 9"
