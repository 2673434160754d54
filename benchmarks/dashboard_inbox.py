"""How fast the dashboard's inbox first paints with 10,000 conversations in the database.

Fills a fresh SQLite database with N guests, each with one conversation (a mix of states and
channels, some escalated with an open task) and a few messages, serves it with the real app on
loopback, signs in, then measures:

- the server: time to the first byte and to the whole page of ``GET /inbox`` (unfiltered, by
  state, and a text search), with httpx, over ``--rounds`` requests each;
- the browser (headless Chromium via Playwright): ``first-contentful-paint`` and
  ``domContentLoadedEventEnd`` of the inbox, from the Performance API, over ``--rounds`` loads.

    .venv/bin/python benchmarks/dashboard_inbox.py --conversations 10000

Target: first paint under 300 ms.  ``--no-browser`` measures the server only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jack_host.builtin.conversations.models import Conversation, Guest, Message, Task  # noqa: E402
from jack_host.builtin.staff import accounts  # noqa: E402
from jack_host.testing import make_app, running_app  # noqa: E402

PASSWORD = "benchmark passphrase"
STATES = ("ai", "ai", "ai", "staff", "closed", "escalated")
CHANNELS = ("webchat", "sms", "whatsapp", "email")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def fill(app, count: int) -> None:
    now = dt.datetime.now(dt.UTC)
    guests, conversations, messages, tasks = [], [], [], []
    for n in range(1, count + 1):
        at = now - dt.timedelta(minutes=n)
        state, channel = STATES[n % len(STATES)], CHANNELS[n % len(CHANNELS)]
        guests.append({"id": n, "name": f"Guest {n}", "phone": f"+4479{n:08d}", "notes": "",
                       "created_at": at, "updated_at": at})
        conversations.append({"id": n, "guest_id": n, "channel": channel, "guest_address": f"+4479{n:08d}",
                              "state": state, "created_at": at, "updated_at": at, "last_message_at": at})
        for k, (direction, sender, status) in enumerate((("inbound", "guest", "received"),
                                                         ("outbound", "ai", "delivered"))):
            messages.append({"conversation_id": n, "channel": channel, "direction": direction, "sender": sender,
                             "body": f"message {k} about room {n % 400}", "status": status,
                             "meta": {"path": "holding"} if sender == "ai" else {},
                             "created_at": at, "updated_at": at})
        if state == "escalated":
            tasks.append({"conversation_id": n, "guest_id": n, "department": "front_desk", "priority": "standard",
                          "status": "open", "title": f"Follow up guest {n}", "description": "", "reason": "complaint",
                          # Due in the future: a past SLA would set the SLA checker alerting during the run.
                          "sla_due_at": now + dt.timedelta(hours=4, minutes=n % 60), "created_at": at,
                          "updated_at": at})
    with app.engine.begin() as connection:
        connection.execute(insert(Guest), guests)
        connection.execute(insert(Conversation), conversations)
        connection.execute(insert(Message), messages)
        if tasks:
            connection.execute(insert(Task), tasks)


def server_timings(client: httpx.Client, path: str, rounds: int) -> tuple[list[float], list[float], int]:
    first_byte, whole = [], []
    size = 0
    for _ in range(rounds):
        started = time.perf_counter()
        with client.stream("GET", path) as response:
            chunks = response.iter_bytes()
            body = next(chunks, b"")
            first_byte.append((time.perf_counter() - started) * 1000)
            body += b"".join(chunks)
            whole.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
            size = len(body)
    return first_byte, whole, size


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):6.1f} ms  p95 {p95:6.1f} ms  max {ordered[-1]:6.1f} ms"


def browser_timings(base_url: str, rounds: int) -> tuple[list[float], list[float], int]:
    from playwright.sync_api import sync_playwright  # here: only the browser part needs it

    paints, ready = [], []
    rows = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 768, "height": 1024})
        page = context.new_page()
        page.goto(base_url + "/login?next=/inbox")
        page.get_by_label("E-mail").fill("bench@hotel.test")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(base_url + "/inbox")
        for _ in range(rounds):
            page.goto(base_url + "/inbox", wait_until="load")
            page.wait_for_function("() => performance.getEntriesByName('first-contentful-paint').length > 0")
            timing = page.evaluate("""() => ({
                fcp: performance.getEntriesByName('first-contentful-paint')[0].startTime,
                dcl: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
                rows: document.querySelectorAll('#inbox-rows tr[data-conversation-id]').length,
            })""")
            paints.append(timing["fcp"])
            ready.append(timing["dcl"])
            rows = timing["rows"]
        browser.close()
    return paints, ready, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="example: benchmarks/dashboard_inbox.py --conversations 10000 --rounds 20")
    parser.add_argument("--conversations", type=int, default=10_000, help="conversations in the database")
    parser.add_argument("--rounds", type=int, default=20, help="requests (and page loads) per measurement")
    parser.add_argument("--no-browser", action="store_true", help="measure the server only")
    args = parser.parse_args()
    if args.conversations < 1 or args.rounds < 1:
        parser.error("--conversations and --rounds must be at least 1")

    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder), env={"JWT_SECRET": "b" * 40, "LOG_LEVEL": "error"})
        started = time.perf_counter()
        fill(app, args.conversations)
        print(f"database: {args.conversations} conversations, {2 * args.conversations} messages "
              f"filled in {time.perf_counter() - started:.1f} s")
        accounts.create_user(app.engine, "bench@hotel.test", PASSWORD, role="staff")
        with running_app(app) as base_url:
            client = httpx.Client(base_url=base_url, timeout=30)
            form = client.get("/login").text
            token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            signed = client.post("/login", data={"csrf_token": token, "email": "bench@hotel.test",
                                                 "password": PASSWORD, "next": "/inbox"})
            assert signed.status_code == 303, signed.text
            server_timings(client, "/inbox", 3)  # warm-up: templates compiled, caches filled
            for label, path in (("inbox", "/inbox"), ("escalated", "/inbox?state=escalated"),
                                ("search", "/inbox?q=room+42"), ("page 100", "/inbox?page=100")):
                first_byte, whole, size = server_timings(client, path, args.rounds)
                print(f"server {label:<10} first byte {summary(first_byte)} | whole page {summary(whole)} | {size} bytes")
            if not args.no_browser:
                paints, ready, rows = browser_timings(base_url, args.rounds)
                print(f"browser inbox first-contentful-paint {summary(paints)}")
                print(f"browser inbox DOMContentLoaded       {summary(ready)}")
                print(f"browser inbox rows shown: {rows}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
