"""``jack users create-admin`` through the real command, and admin-only account management."""

from __future__ import annotations

import httpx
import pytest

from jack_host.testing import make_app, run_jack, running_app
from tests.staff_helpers import bearer, env, login, make_users, token_for


def test_create_admin_prompts_twice_and_the_account_can_sign_in(tmp_path):
    result = run_jack(
        tmp_path, "users", "create-admin", "--email", "GM@Hotel.test", "--name", "General Manager",
        input="a long passphrase\na long passphrase\n",
    )
    assert result.returncode == 0, result.stderr
    assert "Created admin gm@hotel.test" in result.stdout
    assert "Repeat password" in result.stdout + result.stderr

    app = make_app(tmp_path, env=env(tmp_path))  # same database file
    with running_app(app) as base_url:
        response = login(base_url, "gm@hotel.test", "a long passphrase")
        assert response.status_code == 200
        assert response.json()["user"] | {"created_at": None, "last_login_at": None} == {
            "id": 1, "email": "gm@hotel.test", "name": "General Manager", "role": "admin", "active": True,
            "created_at": None, "last_login_at": None,
        }


def test_create_admin_mismatched_confirmation_asks_again(tmp_path):
    result = run_jack(
        tmp_path, "users", "create-admin", "--email", "gm@hotel.test",
        input="first passphrase\nsecond passphrase\nfinal passphrase\nfinal passphrase\n",
    )
    assert result.returncode == 0, result.stderr
    assert "do not match" in (result.stdout + result.stderr).lower()


def test_create_admin_password_stdin_and_duplicate_email(tmp_path):
    first = run_jack(tmp_path, "users", "create-admin", "--email", "gm@hotel.test", "--password-stdin",
                     input="a long passphrase\n")
    assert first.returncode == 0, first.stderr
    again = run_jack(tmp_path, "users", "create-admin", "--email", "GM@hotel.test", "--password-stdin",
                     input="another passphrase\n")
    assert again.returncode == 1
    assert "error: an account with e-mail gm@hotel.test already exists" in again.stderr
    assert "Traceback" not in again.stderr


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--email", "not-an-email", "--password-stdin"], "a long passphrase\n", "not an e-mail address"),
        (["--email", "gm@hotel.test", "--password-stdin"], "short\n", "at least 10 characters"),
        (["--email", "gm@hotel.test", "--password-stdin"], "", "standard input was empty"),
    ],
)
def test_create_admin_bad_input_is_a_clear_error(tmp_path, args, stdin, message):
    result = run_jack(tmp_path, "users", "create-admin", *args, input=stdin)
    assert result.returncode == 1
    assert message in result.stderr and result.stderr.startswith("error: ")


def test_create_admin_help_has_an_example(tmp_path):
    result = run_jack(tmp_path, "users", "create-admin", "--help")
    assert result.returncode == 0 and "jack users create-admin --email" in result.stdout


@pytest.fixture
def server(tmp_path):
    app = make_app(tmp_path, env=env(tmp_path))
    ids = make_users(app)
    with running_app(app) as base_url:
        yield base_url, ids


def test_only_admins_manage_users(server):
    base_url, _ = server
    for role in ("staff", "manager"):
        response = httpx.get(f"{base_url}/api/v1/users", headers=bearer(token_for(base_url, role)))
        assert response.status_code == 403
        assert response.json() == {"error": "forbidden", "detail": f"this needs the admin role or higher; you are {role}"}
    response = httpx.get(f"{base_url}/api/v1/users", headers=bearer(token_for(base_url, "admin")))
    assert response.status_code == 200
    assert [user["email"] for user in response.json()["items"]] == [
        "staff@hotel.test", "manager@hotel.test", "admin@hotel.test"]
    assert all("password_hash" not in user for user in response.json()["items"])


def test_admin_creates_an_account_that_can_sign_in(server):
    base_url, _ = server
    admin = bearer(token_for(base_url, "admin"))
    created = httpx.post(f"{base_url}/api/v1/users", headers=admin,
                         json={"email": "Night@Hotel.test", "name": "Night Porter", "password": "a long passphrase"})
    assert created.status_code == 201, created.text
    assert created.json()["role"] == "staff" and created.json()["email"] == "night@hotel.test"
    assert login(base_url, "night@hotel.test", "a long passphrase").status_code == 200

    duplicate = httpx.post(f"{base_url}/api/v1/users", headers=admin,
                           json={"email": "night@hotel.test", "password": "a long passphrase"})
    assert duplicate.status_code == 409 and duplicate.json()["error"] == "conflict"

    bad = httpx.post(f"{base_url}/api/v1/users", headers=admin,
                     json={"email": "nope", "password": "short", "role": "owner"})
    assert bad.status_code == 422
    assert {p["field"] for p in bad.json()["detail"]} == {"password", "role"}
    bad_email = httpx.post(f"{base_url}/api/v1/users", headers=admin, json={"email": "nope", "password": "a long passphrase"})
    assert bad_email.status_code == 422 and bad_email.json()["detail"][0]["field"] == "email"


def test_admin_cannot_disable_self_and_unknown_user_is_404(server):
    base_url, ids = server
    admin = bearer(token_for(base_url, "admin"))
    own = httpx.post(f"{base_url}/api/v1/users/{ids['admin']}/disable", headers=admin)
    assert own.status_code == 409
    missing = httpx.post(f"{base_url}/api/v1/users/999/disable", headers=admin)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
