"""The Costs page in headless Chromium: 30 days of spend drawn as server-side SVG charts (daily AI spend
against the budget, cost per conversation, fallback usage, SMS spend), the budget state and the resume
button after fallback_to_local. All seven plugins installed; axe-core on the page, screenshots saved."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlmodel import Session

from jack_host.builtin.conversations.models import Conversation, Guest
from jack_host.builtin.costs import ledger
from jack_host.builtin.costs.service import CostService
from jack_host.builtin.staff import accounts
from jack_host.contract.services import AICall
from jack_host.testing import make_app, running_app
from tests.browser.dashboard_kit import check_page, chromium, new_context, sign_in

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"
COSTS_YAML = """costs:
  ai:
    daily_budget: 1.0
    alerts:
      - {threshold: 1.2, action: fallback_to_local}
  sms:
    monthly_budget: 50
"""


def seed_thirty_days(app) -> None:
    """Two AI calls a day for one conversation of that day (day n costs n x 0.05 USD), a fallback every
    third day, and n SMS segments; today spends 1.5 USD, over the daily budget's fallback threshold."""
    today = dt.datetime.now(dt.UTC).date()
    days = [today - dt.timedelta(days=29 - n) for n in range(30)]
    conversations = []
    with Session(app.engine) as session:
        for n, day in enumerate(days):
            guest = Guest(name=f"Guest {n}", phone=f"+3460000{n:04d}")
            session.add(guest)
            session.flush()
            noon = dt.datetime.combine(day, dt.time(12), dt.UTC)
            conversation = Conversation(guest_id=guest.id, channel="sms", guest_address=guest.phone, created_at=noon)
            session.add(conversation)
            session.flush()
            conversations.append((conversation.id, guest.id))
        session.commit()
    for n, (day, (conversation_id, guest_id)) in enumerate(zip(days, conversations, strict=True)):
        cost = 1.5 if n == 29 else 0.05 * (n + 1)
        for fallback in (False, n % 3 == 0):
            call = AICall(provider="secondary" if fallback else "primary", model="openai/gpt-4o", input_tokens=800,
                          output_tokens=100, conversation_id=conversation_id, guest_id=guest_id, fallback=fallback)
            ledger.record_ai_call(app.engine, call, day.isoformat(), cost / 2, "costs.yaml")
        ledger.record_sms(app.engine, day.isoformat(), 0.0075 * (n + 1), n + 1, None)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("costs-page")
    (tmp_path / "costs.yaml").write_text(COSTS_YAML)
    app = make_app(tmp_path, env={"JWT_SECRET": "c" * 40}, load_entrypoints=True)
    for email, role in (("gm@hotel.test", "manager"), ("desk@hotel.test", "staff")):
        accounts.create_user(app.engine, email, PASSWORD, name=role.title(), role=role)
    seed_thirty_days(app)
    asyncio.run(CostService.of(app).check_ai_budgets())
    assert CostService.of(app).local_only() is not None
    with running_app(app) as base_url:
        yield app, base_url


def test_the_costs_charts_render_thirty_days_and_resume_lifts_fallback_to_local(server):
    from playwright.sync_api import expect

    app, url = server
    with chromium() as browser:
        page = new_context(browser).new_page()
        sign_in(page, url, "gm@hotel.test", PASSWORD, path="/costs")
        spend = page.locator("svg#chart-spend")
        expect(spend).to_have_attribute("role", "img")
        assert spend.locator("rect.bar").count() == 30
        # Days over the 1 USD budget are marked, and the budget is drawn as a line.
        assert spend.locator("rect.bar.over").count() == 10  # days 20..29: 1.05 .. 1.5 USD
        assert spend.locator("line.line").count() == 1
        assert page.locator("svg#chart-per-conversation rect.bar").count() == 30
        assert page.locator("svg#chart-fallback rect.bar").count() == 10  # every third day
        assert page.locator("svg#chart-sms rect.bar").count() == 30
        first, last = spend.locator("rect.bar").first, spend.locator("rect.bar").last
        assert float(last.get_attribute("height")) > float(first.get_attribute("height"))
        expect(last.locator("title")).to_contain_text(": 1.50 USD")
        page.get_by_text("The numbers behind the charts").click()
        assert page.locator("details.data tbody tr").count() == 30
        expect(page.locator(".flash-error")).to_contain_text("Paid AI providers are paused")
        check_page(page, "costs")

        page.get_by_role("button", name="Resume paid AI providers").click()
        expect(page.locator(".flash")).to_have_text("Paid AI providers are used again.")
        expect(page.get_by_role("button", name="Resume paid AI providers")).to_have_count(0)
        assert CostService.of(app).local_only() is None
        [entry] = [e for e in app.services.audit.entries().items if e["action"] == "budget.resume"]
        assert entry["actor"] == "gm@hotel.test"
        check_page(page, "costs-resumed")

        staff = new_context(browser).new_page()
        sign_in(staff, url, "desk@hotel.test", PASSWORD)
        expect(staff.get_by_role("navigation", name="Main menu")).not_to_contain_text("Costs")
        assert staff.goto(url + "/costs").status == 403
