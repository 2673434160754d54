"""The dashboard's sign-in as HTTP sees it: cookies and their flags, CSRF on every state change (pages
and the staff API), the first-run page closing, safe redirects after sign-in, the login limits, the
renewal of an expired access token, and /ws/staff with the cookie (same origin only).

One app on loopback for the module; the browser tests (test_dashboard_browser.py) drive the pages.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from jack_host.builtin.staff import accounts
from jack_host.testing import make_app, running_app

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("dashboard-auth"),
                   env={"JWT_SECRET": "a" * 40, "STAFF_LOGIN_MAX_FAILURES": "3"})
    with running_app(app) as base_url:
        yield app, base_url


def browser(base_url: str, **headers: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, follow_redirects=False, headers=headers, timeout=30)


def csrf_of(client: httpx.Client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return CSRF.search(page.text).group(1)


def signed_in(base_url: str, email: str, next_path: str = "/inbox") -> httpx.Client:
    client = browser(base_url)
    token = csrf_of(client, "/login")
    answer = client.post("/login", data={"csrf_token": token, "email": email, "password": PASSWORD, "next": next_path})
    assert answer.status_code == 303, answer.text
    return client


def test_first_run_makes_one_admin_then_refuses_and_the_csrf_token_is_required(server):
    app, url = server
    client = browser(url)
    assert client.get("/").headers["location"] == "/setup"
    token = csrf_of(client, "/setup")
    form = {"email": "gm@hotel.test", "name": "Grace", "password": PASSWORD, "confirm": PASSWORD}
    # Without the token (a cross-site form), nothing is created.
    refused = browser(url).post("/setup", data=form)
    assert refused.status_code == 403 and "expired" in refused.text
    assert not accounts.admin_exists(app.engine)
    short = client.post("/setup", data={**form, "csrf_token": token, "password": "short", "confirm": "short"})
    assert short.status_code == 400 and "at least 10 characters" in short.text
    made = client.post("/setup", data={**form, "csrf_token": token})
    assert made.status_code == 303 and made.headers["location"] == "/inbox"
    assert client.get("/inbox").status_code == 200
    # Once an admin exists the page is closed, to a browser and to a direct request with a valid token.
    other = browser(url)
    assert other.get("/setup").headers["location"] == "/login"
    late = other.post("/setup", data={**form, "email": "intruder@hotel.test", "csrf_token": csrf_of(other, "/login")})
    assert late.status_code == 409 and "Already set up" in late.text
    assert [u.email for u in accounts.list_users(app.engine) if u.role == "admin"] == ["gm@hotel.test"]


def test_cookies_are_httponly_samesite_strict_and_secure_behind_https(server):
    app, url = server
    accounts.create_user(app.engine, "front@hotel.test", PASSWORD, role="staff")
    # httpx keeps Secure cookies off plain http, so this test carries the cookie by hand.
    https = {"X-Forwarded-Proto": "https"}  # loopback is a trusted proxy by default
    form = httpx.get(url + "/login", headers=https)
    nonce = re.search(r"jack_csrf=([^;]+)", form.headers["set-cookie"]).group(1)
    answer = httpx.post(url + "/login", headers={**https, "Cookie": f"jack_csrf={nonce}"}, data={
        "csrf_token": CSRF.search(form.text).group(1), "email": "front@hotel.test", "password": PASSWORD})
    assert answer.status_code == 303, answer.text
    cookies = [form.headers["set-cookie"], *answer.headers.get_list("set-cookie")]
    for name in ("jack_access", "jack_refresh", "jack_csrf"):
        line = next(c for c in cookies if c.startswith(name + "="))
        assert "HttpOnly" in line and "SameSite=Strict" in line and "Secure" in line, line
    # On plain http (development on loopback) the cookies could not come back if they were Secure.
    plain = httpx.get(url + "/login").headers["set-cookie"]
    assert "HttpOnly" in plain and "SameSite=Strict" in plain and "Secure" not in plain


def test_after_sign_in_only_same_site_paths_are_followed(server):
    app, url = server
    for asked, landed in (("/tasks?status=done", "/tasks?status=done"), ("//evil.example/x", "/inbox"),
                          ("https://evil.example/", "/inbox"), ("/\\evil.example", "/inbox"), ("/logout", "/inbox")):
        client = browser(url)
        token = csrf_of(client, "/login")
        answer = client.post("/login", data={"csrf_token": token, "email": "front@hotel.test",
                                             "password": PASSWORD, "next": asked})
        assert answer.headers["location"] == landed, asked
    # A page asked for while signed out sends the browser to sign in, remembering the page.
    assert browser(url).get("/tasks?status=done").headers["location"] == "/login?next=%2Ftasks%3Fstatus%3Ddone"


def test_the_staff_api_takes_the_cookie_with_the_csrf_header_and_bearer_tokens_still_work(server):
    app, url = server
    accounts.create_user(app.engine, "duty@hotel.test", PASSWORD, role="manager")
    client = signed_in(url, "duty@hotel.test")
    assert client.get("/api/v1/auth/me").json()["email"] == "duty@hotel.test"
    article = {"title": "Parking", "body": "The garage is under the hotel."}
    refused = client.post("/api/v1/knowledge", json=article)
    assert refused.status_code == 403 and "X-CSRF-Token" in refused.json()["detail"]
    wrong = client.post("/api/v1/knowledge", json=article, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    token = csrf_of(client, "/inbox")
    made = client.post("/api/v1/knowledge", json=article, headers={"X-CSRF-Token": token})
    assert made.status_code == 201, made.text
    # Dashboard forms without the token are refused too, and change nothing.
    page_refused = client.post("/knowledge", data={"action": "delete", "article_id": str(made.json()["id"])})
    assert page_refused.status_code == 403
    assert app.services.knowledge.get(made.json()["id"]) is not None
    # Bearer tokens keep working, with no CSRF token (no cookie is involved).
    access = httpx.post(url + "/api/v1/auth/login", json={"email": "duty@hotel.test", "password": PASSWORD}).json()
    bearer = httpx.get(url + "/api/v1/auth/me", headers={"Authorization": f"Bearer {access['access_token']}"})
    assert bearer.status_code == 200


def test_an_expired_access_cookie_is_renewed_from_the_refresh_cookie_and_sign_out_ends_both(server):
    app, url = server
    client = signed_in(url, "front@hotel.test")
    client.cookies.set("jack_access", "not-a-valid-token", domain="127.0.0.1", path="/")
    page = client.get("/inbox")
    assert page.status_code == 200
    assert any(c.startswith("jack_access=ey") for c in page.headers.get_list("set-cookie"))
    token = CSRF.search(page.text).group(1)
    refresh = client.cookies.get("jack_refresh")
    out = client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    # The refresh token was revoked on the server, not only dropped from the browser.
    again = browser(url)
    again.cookies.set("jack_refresh", refresh, domain="127.0.0.1", path="/")
    assert again.get("/inbox").headers["location"].startswith("/login?next=")


def test_two_requests_renewing_one_expired_sign_in_at_once_keep_it(server):
    app, url = server
    client = signed_in(url, "front@hotel.test")
    refresh = client.cookies.get("jack_refresh")
    cookie = {"Cookie": f"jack_access=expired; jack_refresh={refresh}"}

    async def both() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, follow_redirects=False, timeout=30) as a:
            return list(await asyncio.gather(a.get("/inbox", headers=cookie), a.get("/tasks", headers=cookie)))

    answers = asyncio.run(both())
    assert [a.status_code for a in answers] == [200, 200]
    renewed = {re.search(r"jack_refresh=([^;]+)", c).group(1) for a in answers
               for c in a.headers.get_list("set-cookie") if c.startswith("jack_refresh=")}
    assert len(renewed) == 1  # one rotation, not two (a second one would read as a stolen token)
    later = httpx.get(url + "/inbox", headers={"Cookie": f"jack_refresh={renewed.pop()}"}, follow_redirects=False)
    assert later.status_code == 200


def test_the_pages_script_renews_the_sign_in_with_its_csrf_header(server):
    app, url = server
    client = signed_in(url, "front@hotel.test")
    token = csrf_of(client, "/inbox")
    assert client.post("/session/refresh").status_code == 403  # no CSRF token: another site's request
    old_refresh = client.cookies.get("jack_refresh")
    renewed = client.post("/session/refresh", headers={"X-CSRF-Token": token})
    assert renewed.status_code == 200 and renewed.json()["user"]["email"] == "front@hotel.test"
    assert client.cookies.get("jack_refresh") != old_refresh
    assert client.get("/api/v1/auth/me").status_code == 200


def test_the_login_limits_apply_to_the_sign_in_page(server):
    app, url = server
    client = browser(url)
    token = csrf_of(client, "/login")
    statuses = [client.post("/login", data={"csrf_token": token, "email": "front@hotel.test", "password": "wrong"}
                            ).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    blocked = client.post("/login", data={"csrf_token": token, "email": "front@hotel.test", "password": PASSWORD})
    assert blocked.status_code == 429 and "too many failed sign-ins" in blocked.text
    assert blocked.headers["Retry-After"].isdigit()


def test_ws_staff_takes_the_cookie_from_a_same_origin_page_only(server):
    app, url = server
    accounts.create_user(app.engine, "night@hotel.test", PASSWORD, role="staff")
    client = signed_in(url, "night@hotel.test")
    cookie = f"jack_access={client.cookies.get('jack_access')}"
    ws_url = url.replace("http://", "ws://") + "/ws/staff"

    async def first_frame(origin: str) -> tuple[dict | None, int | None]:
        async with connect(ws_url, origin=origin, additional_headers={"Cookie": cookie}, open_timeout=10) as ws:
            try:
                return json.loads(await asyncio.wait_for(ws.recv(), 10)), None
            except Exception:  # closed by the server
                return None, ws.close_code

    hello, _ = asyncio.run(first_frame(url))
    assert hello["type"] == "hello" and hello["payload"]["user"]["email"] == "night@hotel.test"
    frame, code = asyncio.run(first_frame("http://evil.example"))
    assert frame is None and code == 4401


def test_the_inbox_benchmark_still_runs_on_a_tiny_database():
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "benchmarks/dashboard_inbox.py", "--conversations", "60", "--rounds", "2",
                             "--no-browser"], cwd=root, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "database: 60 conversations, 120 messages" in result.stdout
    for label in ("inbox", "escalated", "search", "page 100"):
        assert re.search(rf"^server {label} +first byte p50 +[\d.]+ ms", result.stdout, re.MULTILINE), result.stdout
