"""The staff dashboard in headless Chromium, on one app with all seven plugins installed and only the
minimum configured (no AI model: answers come from the knowledge base or a holding reply).

axe-core checks every page (serious or critical violations fail); screenshots go to
``$JACK_TEST_ARTIFACTS/dashboard/`` (default ``/tmp/jack-test-artifacts/dashboard``).
"""

from __future__ import annotations

import re

import httpx
import pytest

from jack_host.builtin.staff import accounts
from jack_host.testing import make_app, running_app, wait_until
from tests.browser.dashboard_kit import check_page, chromium, new_context, sign_in

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"
TIMEOUT = 15000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("dashboard"), env={"JWT_SECRET": "d" * 40}, load_entrypoints=True)
    with running_app(app) as base_url:
        yield app, base_url


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def account(app, email: str, role: str) -> str:
    """An account to sign in with (made directly: these tests are about the pages, not the first run)."""
    if not any(u.email == email for u in accounts.list_users(app.engine)):
        accounts.create_user(app.engine, email, PASSWORD, name=email.split("@")[0].title(), role=role)
    return email


def cookie_header(context) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{c['name']}={c['value']}" for c in context.cookies())}


def guest_asks(page, question: str) -> None:
    page.locator("textarea").fill(question)
    page.locator("textarea").press("Enter")


def test_first_run_creates_the_admin_then_closes_sign_out_and_back_to_the_page_asked_for(server, browser):
    from playwright.sync_api import expect

    app, url = server
    context = new_context(browser)
    page = context.new_page()
    page.goto(url + "/")
    expect(page).to_have_url(url + "/setup")
    check_page(page, "setup")
    page.get_by_label("Your name").fill("Grace")
    page.get_by_label("E-mail").fill("gm@hotel.test")
    page.get_by_label("Password (at least 10 characters)").fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create the admin account").click()
    expect(page).to_have_url(url + "/inbox")
    expect(page.locator(".flash")).to_contain_text("your admin account is ready")
    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies["jack_access"]["httpOnly"] and cookies["jack_access"]["sameSite"] == "Strict"
    assert cookies["jack_refresh"]["httpOnly"] and cookies["jack_csrf"]["httpOnly"]
    signed_in = cookie_header(context)
    assert httpx.get(url + "/api/v1/auth/me", headers=signed_in).json()["role"] == "admin"

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(url + "/login")
    expect(page.locator(".flash")).to_have_text("You are signed out.")
    check_page(page, "login")
    # Signing out revoked the tokens, not only the cookies.
    assert httpx.get(url + "/api/v1/auth/me", headers=signed_in).status_code == 401

    page.get_by_label("E-mail").fill("gm@hotel.test")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#login-error")).to_contain_text("wrong e-mail or password")
    sign_in(page, url, "gm@hotel.test", PASSWORD, path="/tasks?status=done")

    # The first-run page is closed now, in the browser and to a direct request.
    other = new_context(browser).new_page()
    other.goto(url + "/setup")
    expect(other).to_have_url(url + "/login")
    assert len([u for u in accounts.list_users(app.engine) if u.role == "admin"]) == 1


def test_a_guest_message_appears_live_staff_take_over_and_the_guest_sees_the_reply(server, browser):
    from playwright.sync_api import expect

    app, url = server
    staff = new_context(browser).new_page()
    sign_in(staff, url, account(app, "front@hotel.test", "staff"), PASSWORD)
    expect(staff.locator("body")).to_have_attribute("data-live-ready", "1", timeout=TIMEOUT)
    rows = staff.locator("#inbox-rows tr[data-conversation-id]")
    before = rows.count()

    guest = new_context(browser).new_page()
    guest.goto(url + "/chat")
    guest_asks(guest, "Blorp zizzle wumpus, the quantum flux?")
    # No model and no article: Jack sends the holding reply and escalates, and the inbox shows it live.
    expect(rows).to_have_count(before + 1, timeout=TIMEOUT)
    row = rows.first
    expect(row).to_have_class(re.compile("escalated"), timeout=TIMEOUT)
    expect(row.locator(".sla")).to_contain_text(re.compile(r"SLA \d+:\d\d left"), timeout=TIMEOUT)
    check_page(staff, "inbox-live")

    row.get_by_role("link").click()
    expect(staff).to_have_url(re.compile(r"/conversations/\d+$"))
    history = staff.locator("#history")
    expect(history).to_contain_text("the quantum flux")
    expect(history.locator(".path").first).to_have_text("answered by holding reply", timeout=TIMEOUT)
    expect(history.locator(".escalation").first).to_have_text("escalated: no confident answer")
    check_page(staff, "conversation")

    staff.get_by_role("button", name="Take over").click()
    expect(staff.locator("#conversation-state")).to_have_text("Staff")
    staff.get_by_label(re.compile("Message to the guest")).fill("On their way, with a second duvet too.")
    staff.get_by_role("button", name="Send reply").click()
    expect(guest.locator(".msg.other .body").last).to_have_text("On their way, with a second duvet too.",
                                                                timeout=TIMEOUT)
    # The reply's delivery status reaches the open page without a reload.
    reply = staff.locator("li.msg.outbound").last
    expect(reply.locator(".status")).to_have_text(re.compile("^(sent|delivered|read)$"), timeout=TIMEOUT)

    staff.get_by_role("textbox", name="Notes", exact=True).fill("Allergic to feathers")
    staff.get_by_role("button", name="Save profile").click()
    expect(staff.get_by_role("textbox", name="Notes", exact=True)).to_have_value("Allergic to feathers")
    conversation_id = int(staff.url.rsplit("/", 1)[1])
    guest_id = app.services.conversations.get_conversation(conversation_id)["guest_id"]
    assert app.services.conversations.get_guest(guest_id)["notes"] == "Allergic to feathers"

    # A private note stays with the staff: listed on the page, never sent to the guest.
    staff.get_by_label("New note").fill("Called the room: guest asleep, try after 9.")
    staff.get_by_role("button", name="Add note").click()
    expect(staff.locator(".notes li")).to_have_text([re.compile("Called the room: guest asleep, try after 9.")])
    expect(guest.locator(".msg .body")).not_to_contain_text(["Called the room"])
    assert all("Called the room" not in m["body"] for m in app.services.conversations.history(conversation_id))


def test_the_staff_role_is_refused_apps_users_and_costs_in_the_menu_the_browser_and_directly(server, browser):
    from playwright.sync_api import expect

    app, url = server
    context = new_context(browser)
    page = context.new_page()
    sign_in(page, url, account(app, "front@hotel.test", "staff"), PASSWORD)
    menu = page.get_by_role("navigation", name="Main menu")
    expect(menu.get_by_role("link")).to_have_text(["Inbox", "Tasks", "Knowledge"])
    for path in ("/engine/apps", "/users", "/costs"):
        response = page.goto(url + path)
        assert response.status == 403, path
        expect(page.get_by_role("heading", level=1)).to_have_text("Not for your role")
    check_page(page, "forbidden")
    cookies = cookie_header(context)
    for path in ("/engine/apps", "/users", "/costs", "/api/v1/users"):
        assert httpx.get(url + path, headers=cookies).status_code == 403, path

    manager = new_context(browser).new_page()
    sign_in(manager, url, account(app, "duty@hotel.test", "manager"), PASSWORD)
    expect(manager.get_by_role("navigation", name="Main menu").get_by_role("link", name="Engine › Apps")).to_be_visible()
    expect(manager.get_by_role("navigation", name="Main menu").get_by_role("link", name="Users")).to_have_count(0)


def test_a_knowledge_article_edited_in_the_browser_changes_the_next_guest_answer(server, browser):
    from playwright.sync_api import expect

    app, url = server
    page = new_context(browser).new_page()
    sign_in(page, url, account(app, "duty@hotel.test", "manager"), PASSWORD, path="/knowledge")
    page.get_by_label("Title", exact=True).fill("Breakfast hours")
    page.get_by_label("Text", exact=True).fill("Breakfast is served from 7:00 to 10:30 in the Garden Room.")
    page.get_by_label("Tags (comma-separated)").fill("breakfast, dining")
    page.get_by_role("button", name="Create article").click()
    expect(page.locator("tr[data-article-id]")).to_contain_text(["Breakfast hours"])
    check_page(page, "knowledge")

    guest = new_context(browser).new_page()
    guest.goto(url + "/chat")
    guest_asks(guest, "What time is breakfast served?")
    expect(guest.locator(".msg.other .body").last).to_have_text(
        "Breakfast is served from 7:00 to 10:30 in the Garden Room.", timeout=TIMEOUT)

    page.get_by_role("link", name="Edit Breakfast hours").click()
    page.get_by_label("Text", exact=True).fill("Breakfast is served from 6:30 to 11:00 on the roof terrace.")
    page.get_by_role("button", name="Save article").click()
    expect(page.locator(".flash")).to_contain_text("saved")
    page.get_by_label("A guest asks…").fill("When is breakfast?")
    page.get_by_role("button", name="Ask Jack").click()
    expect(page.locator("#try-answer pre")).to_have_text("Breakfast is served from 6:30 to 11:00 on the roof terrace.")
    expect(page.locator("#try-answer")).to_contain_text("knowledge article “Breakfast hours”")
    check_page(page, "knowledge-try-it")

    changes = app.services.audit.entries(target="knowledge:").items
    assert [e["action"] for e in changes][:2] == ["knowledge.update", "knowledge.create"]
    assert changes[0]["actor"] == "duty@hotel.test" and "roof terrace" in changes[0]["new"]["body"]
    assert "Garden Room" in changes[0]["old"]["body"]

    guest_asks(guest, "And what time is breakfast on Sunday?")
    expect(guest.locator(".msg.other .body").last).to_have_text(
        "Breakfast is served from 6:30 to 11:00 on the roof terrace.", timeout=TIMEOUT)


def test_tasks_board_and_users_pages_by_keyboard_and_mouse(server, browser):
    from playwright.sync_api import expect

    app, url = server
    page = new_context(browser).new_page()
    sign_in(page, url, account(app, "gm@hotel.test", "admin"), PASSWORD, path="/tasks")
    page.get_by_label("Title").fill("Fix the minibar in 214")
    page.get_by_label("Department").last.select_option("maintenance")
    page.get_by_label("Priority (sets the SLA)").select_option("high")
    page.get_by_role("button", name="Create task").click()
    task = page.locator("article.task", has_text="Fix the minibar in 214")
    expect(task.locator(".sla")).to_contain_text(re.compile(r"SLA \d+:\d\d left"))
    check_page(page, "tasks")
    task.get_by_role("button", name=re.compile("^Claim task")).click()
    expect(task).to_contain_text("In progress")
    task.get_by_label("Reassign to").select_option(label="Front")
    task.get_by_role("button", name=re.compile("^Reassign task")).click()
    expect(task).to_contain_text("Front")
    task.get_by_role("button", name=re.compile("^Complete task")).click()
    expect(task).to_have_count(0)  # the board shows open work by default

    page.goto(url + "/users")
    check_page(page, "users")
    page.get_by_label("Name").fill("Night Porter")
    page.get_by_label("E-mail").fill("night@hotel.test")
    page.get_by_label(re.compile("^Password")).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".flash")).to_contain_text("night@hotel.test created (staff)")
    page.get_by_label("Role of night@hotel.test", exact=True).select_option("manager")
    page.get_by_role("button", name="Change the role of night@hotel.test").click()
    expect(page.locator(".flash")).to_contain_text("now manager")
    page.get_by_label("New password for night@hotel.test").fill("another long passphrase")
    page.get_by_role("button", name="Reset the password of night@hotel.test").click()
    page.get_by_role("button", name="Disable night@hotel.test").click()
    expect(page.locator(".flash")).to_contain_text("disabled")
    night = next(u for u in accounts.list_users(app.engine) if u.email == "night@hotel.test")
    assert night.role == "manager" and not night.active
    assert accounts.verify_password(night.password_hash, "another long passphrase")
    logged = app.services.audit.entries(target=f"user:{night.id}").items
    assert [e["action"] for e in reversed(logged)] == ["user.create", "user.role", "user.password", "user.disable"]
    assert {e["actor"] for e in logged} == {"gm@hotel.test"}
    assert (logged[0]["old"], logged[0]["new"]) == ({"active": True}, {"active": False})
    assert (logged[2]["old"], logged[2]["new"]) == ({"role": "staff"}, {"role": "manager"})
    assert "another long passphrase" not in str(logged)

    # Keyboard only: the skip link is the first stop and lands on the main content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


# Records each ``new Notification(...)`` the page makes, in front of the real API, whose permission
# (granted by Playwright's context) still decides ``Notification.permission`` and ``requestPermission``.
NOTIFICATION_SPY = """(() => {
    const Real = window.Notification;
    if (!Real) return;
    window.__notifications = [];
    class Spy {
        constructor(title, options) { window.__notifications.push({title, body: (options || {}).body || ""}); }
        static get permission() { return Real.permission; }
        static requestPermission(...args) { return Real.requestPermission(...args); }
    }
    window.Notification = Spy;
})();"""


def test_with_notifications_switched_on_an_escalation_calls_the_notification_api(server, browser):
    from playwright.sync_api import expect

    app, url = server
    context = new_context(browser, permissions=["notifications"])
    context.add_init_script(NOTIFICATION_SPY)
    staff = context.new_page()
    sign_in(staff, url, account(app, "concierge@hotel.test", "staff"), PASSWORD)
    expect(staff.locator("body")).to_have_attribute("data-live-ready", "1", timeout=TIMEOUT)
    switch = staff.get_by_label("Browser notification")
    switch.check()
    # The switch stays on only when the browser granted the permission, and is remembered.
    expect(switch).to_be_checked()
    # (the page's CSP forbids eval, so poll from here rather than with wait_for_function)
    wait_until(lambda: staff.evaluate("localStorage.getItem('jack.alert.notify')") == "1", what="the switch saved")
    assert staff.evaluate("window.__notifications.length") == 0

    guest = new_context(browser).new_page()
    guest.goto(url + "/chat")
    guest_asks(guest, "Flibber gronk, the mauve teapot protocol?")  # no article, no model: escalated
    shown = wait_until(lambda: [n for n in staff.evaluate("window.__notifications") if n["title"] == "Escalated"]
                       and staff.evaluate("window.__notifications"), timeout=TIMEOUT / 1000, what="a notification")
    assert any(n["title"] == "New message" and "mauve teapot" in n["body"] for n in shown), shown

    # Switched off, the next escalation shows no notification (the inbox still updates).
    switch.uncheck()
    wait_until(lambda: staff.evaluate("localStorage.getItem('jack.alert.notify')") == "0", what="the switch saved")
    count = len(shown)
    rows = staff.locator("#inbox-rows tr[data-conversation-id]")
    before = rows.count()
    other = new_context(browser).new_page()
    other.goto(url + "/chat")
    guest_asks(other, "Snorkel wibble, the chartreuse abacus?")
    expect(rows).to_have_count(before + 1, timeout=TIMEOUT)
    assert staff.evaluate("window.__notifications.length") == count
