"""Shared by the dashboard's browser tests: Chromium, axe-core on every page, screenshots, sign-in.

axe-core comes from npm (``tests/browser/package.json``; ``scripts/test`` runs ``npm ci`` here) and is
added to every page of a context as an init script, which the pages' Content-Security-Policy does not
block.  ``check_page(page, "inbox")`` runs it, fails on serious or critical violations, and saves a
screenshot under ``$JACK_TEST_ARTIFACTS/dashboard/`` (default ``/tmp/jack-test-artifacts/dashboard``).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(os.environ.get("JACK_TEST_ARTIFACTS", Path(tempfile.gettempdir()) / "jack-test-artifacts")) / "dashboard"
#: Tablet width: the dashboard must work from 768 px up.
VIEWPORT = {"width": 768, "height": 1024}
BLOCKING = ("serious", "critical")


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright  # here: keeps Playwright off pytest's collection

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: apt-get install chromium (scripts/test does it)")
    if not AXE.exists():
        pytest.fail(f"axe-core is missing: run `npm ci` in {AXE.parents[2]} (scripts/test does it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_context(browser: Any, **options: Any) -> Any:
    """A fresh browser profile (its own cookies) at tablet size, with axe-core in every page."""
    context = browser.new_context(viewport=VIEWPORT, **options)
    context.add_init_script(path=str(AXE))
    return context


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (WCAG 2 A/AA rules)."""
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
        }"""
    )
    return [v for v in result if v["impact"] in BLOCKING]


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def check_page(page: Any, name: str) -> None:
    """Screenshot the page, then fail on any serious or critical accessibility violation."""
    screenshot(page, name)
    violations = axe_violations(page)
    assert not violations, f"{name}: axe-core found {len(violations)} serious/critical violations: {violations}"


def sign_in(page: Any, base_url: str, email: str, password: str, path: str = "/inbox") -> None:
    """Open ``path``, get sent to the sign-in form, sign in, and land back on ``path``."""
    from playwright.sync_api import expect

    page.goto(base_url + path)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(base_url + path)
