"""The widget in headless Chromium: the full-page chat, an embedded bubble on a hotel's site, phone size."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from jack_host import hookimpl
from jack_host.testing.loopback import LoopbackServer, RecordedRequest, Reply

pytestmark = pytest.mark.browser

BREAKFAST = "Breakfast is served from 7:00 to 10:30 in the Garden Room on the ground floor."
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
#: Screenshots for a human to look at; never committed.
SCREENSHOT_DIR = Path(os.environ.get("WEBCHAT_SCREENSHOT_DIR", "/tmp"))


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: apt-get install chromium (scripts/test does it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_full_page_chat_answers_from_knowledge_and_keeps_history(serve, browser):
    from playwright.sync_api import expect

    app, url = serve()
    app.services.knowledge.create("Breakfast hours", BREAKFAST, "dining", ["breakfast"])
    context = browser.new_context()
    page = context.new_page()
    page.goto(url + "/chat")
    page.locator("textarea").fill("What time is breakfast served?")
    page.locator("textarea").press("Enter")
    expect(page.locator(".msg.other .body")).to_have_text(BREAKFAST, timeout=15000)
    expect(page.locator(".msg.guest .body")).to_have_text("What time is breakfast served?")
    expect(page.locator(".state")).to_have_attribute("data-state", "sent")

    page.reload()
    expect(page.locator(".msg .body")).to_have_text(["What time is breakfast served?", BREAKFAST], timeout=15000)
    # A second tab of the same browser restores the same conversation.
    second = context.new_page()
    second.goto(url + "/chat")
    expect(second.locator(".msg .body")).to_have_text(["What time is breakfast served?", BREAKFAST], timeout=15000)


def test_phone_size_and_right_to_left(serve, browser):
    from playwright.sync_api import expect

    app, url = serve()
    app.services.knowledge.create("Breakfast hours", BREAKFAST, "dining", ["breakfast"])
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    page.goto(url + "/chat?lang=ar")
    expect(page.locator(".wrap")).to_have_attribute("dir", "rtl")
    expect(page.locator("textarea")).to_have_attribute("placeholder", "اكتب رسالتك…")
    page.locator("textarea").fill("What time is breakfast?")
    page.locator("button[type=submit]").click()
    expect(page.locator(".msg.other .body")).to_have_text(BREAKFAST, timeout=15000)
    panel = page.locator(".panel").bounding_box()
    assert panel is not None and panel["width"] == 390  # the chat fills a phone's width
    # In right-to-left the guest's own messages sit on the left.
    guest = page.locator(".msg.guest").bounding_box()
    other = page.locator(".msg.other").bounding_box()
    assert guest["x"] < other["x"]
    page.screenshot(path=str(SCREENSHOT_DIR / "webchat-phone-ar.png"))

    english = context.new_page()
    english.goto(url + "/chat")
    expect(english.locator(".msg.other .body")).to_have_text(BREAKFAST, timeout=15000)
    english.screenshot(path=str(SCREENSHOT_DIR / "webchat-phone-en.png"))


class _HotelSite(LoopbackServer):
    """The hotel's own web site, a page that embeds the widget."""

    page = ""

    def answer(self, request: RecordedRequest) -> Reply:
        return Reply(200, self.page, {"Content-Type": "text/html; charset=utf-8"})


def test_widget_embedded_on_the_hotel_site(tmp_path, serve, browser):
    from playwright.sync_api import expect

    with _HotelSite() as site:
        app, url = serve({"WEBCHAT_ALLOWED_ORIGINS": site.url})
        app.services.knowledge.create("Breakfast hours", BREAKFAST, "dining", ["breakfast"])
        site.page = (
            '<!doctype html><html lang="en"><body><h1>Hotel Aurora</h1>'
            f'<script src="{url}/webchat.js" data-jack-title="Hotel Aurora" data-jack-color="#7a1f5c" async></script>'
            "</body></html>")
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(site.url)
        page.locator(".bubble").click()
        expect(page.locator(".head h2")).to_have_text("Hotel Aurora")
        page.locator("textarea").fill("breakfast time?")
        page.locator("textarea").press("Enter")
        expect(page.locator(".msg.other .body")).to_have_text(BREAKFAST, timeout=15000)
        page.screenshot(path=str(SCREENSHOT_DIR / "webchat-embedded.png"))


class DropChatsRoute:
    """``POST /test-drop-chats`` closes every chat socket from the server side (a restart, a proxy timeout)."""

    def __init__(self, app):
        self.app = app

    async def on_post(self, req, resp):
        connections = self.app.state["channel_webchat"].connections.all()
        for connection in connections:
            await connection.ws.close(1012)
        resp.media = {"closed": len(connections)}


class drop_chats:  # noqa: N801  (a plugin namespace)
    @staticmethod
    @hookimpl
    def jack_add_routes(app):
        app.add_route("/test-drop-chats", DropChatsRoute(app))


def test_widget_reconnects_and_sends_what_waited(serve, browser):
    from playwright.sync_api import expect

    app, url = serve(plugins=[("drop_chats", drop_chats)])
    app.services.knowledge.create("Breakfast hours", BREAKFAST, "dining", ["breakfast"])
    page = browser.new_context().new_page()
    page.goto(url + "/chat")
    expect(page.locator(".status")).to_be_hidden(timeout=15000)
    assert httpx.post(url + "/test-drop-chats").json() == {"closed": 1}
    expect(page.locator(".status")).to_have_text("Reconnecting…")
    # Written while disconnected: it waits, then goes out once the widget is back.
    page.locator("textarea").fill("What time is breakfast?")
    page.locator("textarea").press("Enter")
    expect(page.locator(".msg.other .body")).to_have_text(BREAKFAST, timeout=15000)
    expect(page.locator(".state")).to_have_attribute("data-state", "sent")
    expect(page.locator(".status")).to_be_hidden()
