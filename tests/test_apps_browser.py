"""Engine > Apps in headless Chromium: a channel configured with a secret (masked on reload, encrypted in
the database, connected without a restart), "test connection" for OpenAI and Anthropic against their
loopback fakes, and a staff-role user refused. All seven plugins installed, only the minimum configured.

axe-core checks every page; screenshots go to ``$JACK_TEST_ARTIFACTS/dashboard/``.
"""

from __future__ import annotations

import re
import sqlite3

import httpx
import pytest

from jack_host.builtin.staff import accounts
from jack_host.testing import make_app, running_app, wait_until
from jack_host.testing.fake_llm import FakeAnthropic, FakeOpenAI
from jack_host.testing.fake_twilio import FakeTwilio
from tests.browser.dashboard_kit import check_page, chromium, new_context, sign_in

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"
AUTH_TOKEN = "twilio-secret-auth-token-4242"


@pytest.fixture(scope="module")
def fakes():
    with FakeTwilio(auth_token=AUTH_TOKEN) as twilio, FakeOpenAI() as openai, FakeAnthropic() as anthropic:
        yield twilio, openai, anthropic


@pytest.fixture(scope="module")
def server(tmp_path_factory, fakes):
    tmp_path = tmp_path_factory.mktemp("apps-browser")
    app = make_app(tmp_path, env={
        "JWT_SECRET": "a" * 40, "ENCRYPTION_KEY": "8c1f5e9a2d7b40c6e3f18a9d5b2c7e04",
        "AI_MODEL": "openai/fake-model", "AI_FALLBACK_MODEL": "anthropic/claude-sonnet-4-5",
    }, load_entrypoints=True)
    for email, role in (("gm@hotel.test", "admin"), ("desk@hotel.test", "staff")):
        accounts.create_user(app.engine, email, PASSWORD, name=role.title(), role=role)
    with running_app(app) as base_url:
        yield app, base_url, tmp_path / "data" / "jack.db"


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def admin(server, browser):
    _, url, _ = server
    page = new_context(browser).new_page()
    sign_in(page, url, "gm@hotel.test", PASSWORD, path="/engine/apps")
    return page


def test_a_channel_configured_with_a_secret_is_masked_encrypted_and_connects_without_a_restart(server, fakes, admin):
    from playwright.sync_api import expect

    app, url, database = server
    twilio, _, _ = fakes
    page = admin
    check_page(page, "engine-apps")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="channel_sms"))
    expect(row).to_contain_text("Not configured")
    row.get_by_role("link", name="channel_sms").click()
    expect(page).to_have_url(url + "/engine/apps/channel_sms")
    check_page(page, "engine-app-sms-empty")

    page.get_by_label("TWILIO_ACCOUNT_SID", exact=True).fill(twilio.account_sid)
    page.get_by_label("TWILIO_AUTH_TOKEN", exact=True).fill(AUTH_TOKEN)
    page.get_by_label("TWILIO_PHONE_NUMBER", exact=True).fill("+15550100")
    page.get_by_label("TWILIO_API_URL", exact=True).fill(twilio.url)
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".flash")).to_contain_text("in effect now")

    # Connected against the fake, no restart: in /health and on the page.
    wait_until(lambda: httpx.get(url + "/health").json()["channels"]["sms"] == "connected", timeout=15, what="sms connected")
    page.reload()
    expect(page.locator(".components")).to_contain_text("Connected")
    token = page.get_by_label("TWILIO_AUTH_TOKEN", exact=True)
    expect(token).to_have_value("tw****42")
    assert AUTH_TOKEN not in page.content()
    expect(page.locator(".setting").filter(has=token)).to_contain_text("Source: dashboard")
    expect(page.locator(".setting").filter(has=page.get_by_label("SMS_HELP_TEXT", exact=True))).to_contain_text("Source: default")
    check_page(page, "engine-app-sms-configured")
    with sqlite3.connect(database) as con:
        stored = " ".join(str(cell) for row in con.execute("SELECT * FROM app_settings") for cell in row)
    assert "TWILIO_AUTH_TOKEN" in stored and AUTH_TOKEN not in stored

    # Saving another field leaves the masked secret as it is and changes only that field.
    page.get_by_label("TWILIO_PHONE_NUMBER", exact=True).fill("+15550199")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".flash")).to_have_text("Saved TWILIO_PHONE_NUMBER; in effect now.")
    assert app.settings.get("TWILIO_AUTH_TOKEN") == AUTH_TOKEN
    assert app.settings.source("SMS_HELP_TEXT") == "default"


def test_test_connection_for_openai_and_anthropic_shows_the_models_or_the_exact_error(server, fakes, admin):
    from playwright.sync_api import expect

    _, url, _ = server
    _, openai, anthropic = fakes
    page = admin
    page.goto(url + "/engine/apps/jack.llm")
    page.get_by_label("OPENAI_API_BASE", exact=True).fill(openai.base_url)
    page.get_by_label("OPENAI_API_KEY", exact=True).fill("sk-not-the-key")
    page.get_by_label("ANTHROPIC_API_BASE", exact=True).fill(anthropic.base_url)
    page.get_by_label("ANTHROPIC_API_KEY", exact=True).fill(anthropic.api_key)
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".flash")).to_contain_text("in effect now")

    page.get_by_role("button", name="Test connection").click()
    results = page.locator(".test-results")
    expect(results).to_contain_text("primary: Failed · AuthenticationError: Error code: 401")
    expect(results).to_contain_text(f"secondary: OK · {anthropic.base_url} lists 2 model(s): claude-sonnet-4-5-20250929")
    check_page(page, "engine-app-llm-tested")

    page.goto(url + "/engine/apps/jack.llm")
    page.get_by_label("OPENAI_API_KEY", exact=True).fill(openai.api_key)
    page.get_by_role("button", name="Save settings").click()
    page.get_by_role("button", name="Test connection").click()
    expect(results).to_contain_text(f"primary: OK · {openai.base_url} lists 2 model(s): fake-model, gpt-4o-mini")
    assert openai.matching("GET", "/v1/models") and anthropic.matching("GET", "/v1/models")


def test_a_staff_user_is_refused_from_apps_in_the_browser_and_directly(server, browser):
    from playwright.sync_api import expect

    _, url, _ = server
    context = new_context(browser)
    page = context.new_page()
    sign_in(page, url, "desk@hotel.test", PASSWORD)
    expect(page.get_by_role("navigation", name="Main menu")).not_to_contain_text("Apps")
    response = page.goto(url + "/engine/apps/channel_sms")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not for your role")
    check_page(page, "engine-apps-refused")

    cookies = {c["name"]: c["value"] for c in context.cookies()}
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    jar = "; ".join(f"{k}={v}" for k, v in cookies.items())
    assert httpx.get(url + "/api/v1/apps", headers={"Cookie": jar}).status_code == 403
    put = httpx.put(url + "/api/v1/apps/channel_sms/settings", json={"values": {"SMS_HELP_TEXT": "x"}},
                    headers={"Cookie": jar, "X-CSRF-Token": csrf})
    assert put.status_code == 403 and re.search(r"needs the admin role", put.text), put.text
    form = httpx.post(url + "/engine/apps/channel_sms", data={"action": "save", "SMS_HELP_TEXT": "x", "csrf_token": csrf},
                      headers={"Cookie": jar})
    assert form.status_code == 403
