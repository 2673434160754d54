"""The sign-in limiter under attack: parallel guesses, several processes, and staff never locked out.

Every 401 here is one password check (argon2); a 429 checked nothing. So "at most N
checks" is "at most N answers of 401".
"""

from __future__ import annotations

import asyncio
import collections
import signal
import time

import httpx
import pytest

from jack_host.testing import JackProcess, make_app, running_app
from tests.staff_helpers import env, login, make_users

LIMITS = {"STAFF_LOGIN_MAX_FAILURES": "5", "STAFF_LOGIN_MAX_FAILURES_PER_IP": "20",
          "STAFF_LOGIN_SLOWDOWN_AFTER": "8", "STAFF_LOGIN_SLOWDOWN_MAX_SECONDS": "1"}


def burst(urls: list[str], bodies: list[dict], address: str) -> collections.Counter:
    """Send every body at once (spread over ``urls``) from client ``address``; count the statuses."""

    async def run() -> list[int]:
        limits = httpx.Limits(max_connections=len(bodies))
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            responses = await asyncio.gather(*(
                client.post(f"{urls[n % len(urls)]}/api/v1/auth/login", json=body, headers={"X-Forwarded-For": address})
                for n, body in enumerate(bodies)
            ))
        return [response.status_code for response in responses]

    return collections.Counter(asyncio.run(run()))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("limits")
    app = make_app(folder, env=env(folder, **LIMITS))
    make_users(app)
    with running_app(app) as base_url:
        yield base_url


def test_sixty_parallel_wrong_passwords_for_one_account_check_only_five(server):
    statuses = burst([server], [{"email": "staff@hotel.test", "password": f"guess {n}"} for n in range(60)],
                     "203.0.113.10")
    assert statuses == {401: 5, 429: 55}
    blocked = login(server, "staff@hotel.test", headers={"X-Forwarded-For": "203.0.113.10"})
    assert blocked.status_code == 429 and 1 <= int(blocked.headers["Retry-After"]) <= 900


def test_sixty_parallel_guesses_at_sixty_accounts_from_one_address_check_only_twenty(server):
    statuses = burst([server], [{"email": f"guess{n}@hotel.test", "password": "guess"} for n in range(60)],
                     "203.0.113.20")
    assert statuses == {401: 20, 429: 40}
    # The address is blocked for every account, even with the right password...
    assert login(server, "admin@hotel.test", headers={"X-Forwarded-For": "203.0.113.20"}).status_code == 429
    # ...and no one else is.
    assert login(server, "admin@hotel.test", headers={"X-Forwarded-For": "198.51.100.20"}).status_code == 200


def test_an_attack_on_an_account_does_not_lock_its_owner_out(server):
    attacker = {"X-Forwarded-For": "203.0.113.30"}
    for _ in range(5):
        assert login(server, "manager@hotel.test", "guess", headers=attacker).status_code == 401
    assert login(server, "manager@hotel.test", headers=attacker).status_code == 429  # even the right password
    # The manager at the front desk signs in while the attacker is blocked.
    assert login(server, "manager@hotel.test", headers={"X-Forwarded-For": "198.51.100.30"}).status_code == 200

    # Guesses from many addresses (one each) are never refused, but they slow the account down:
    # past 8 attempts account-wide, every attempt waits first (0.5 s, then 1 s, capped at 1 s here).
    for n in range(5):
        assert login(server, "manager@hotel.test", "guess", headers={"X-Forwarded-For": f"192.0.2.{n}"}).status_code == 401
    started = time.monotonic()
    owner = login(server, "manager@hotel.test", headers={"X-Forwarded-For": "198.51.100.30"})
    assert owner.status_code == 200, owner.text
    assert time.monotonic() - started >= 0.9


def test_two_jack_serve_processes_share_the_limit_and_it_survives_a_restart(tmp_path):
    app = make_app(tmp_path, env=env(tmp_path))
    make_users(app)
    app.engine.dispose()
    settings = {**env(tmp_path), "STAFF_LOGIN_MAX_FAILURES": "5"}
    processes = [JackProcess(tmp_path, env=settings).start(wait=False) for _ in range(2)]
    try:
        for process in processes:
            process.wait_ready()
        statuses = burst([process.url for process in processes],
                         [{"email": "staff@hotel.test", "password": f"guess {n}"} for n in range(60)], "203.0.113.40")
        assert statuses == {401: 5, 429: 55}
    finally:
        for process in processes:
            process.stop(signal.SIGKILL)  # a crash: nothing is written on the way out
    # A fresh server on the same database still remembers the guesses.
    with running_app(make_app(tmp_path, env=settings)) as base_url:
        assert login(base_url, "staff@hotel.test", headers={"X-Forwarded-For": "203.0.113.40"}).status_code == 429
        assert login(base_url, "staff@hotel.test", headers={"X-Forwarded-For": "198.51.100.40"}).status_code == 200
