"""Sign-in, refresh rotation, sign-out, rate limits and the error shapes, against a real server."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest

from jack_host.builtin.staff.auth import StaffAuth
from jack_host.testing import make_app, running_app
from tests.staff_helpers import PASSWORD, bearer, env, login, make_users, token_for


@pytest.fixture
def server(tmp_path):
    app = make_app(tmp_path, env=env(tmp_path, STAFF_LOGIN_MAX_FAILURES="3", STAFF_LOGIN_MAX_FAILURES_PER_IP="6"))
    make_users(app)
    with running_app(app) as base_url:
        yield app, base_url


def test_login_returns_a_short_lived_jwt_and_a_refresh_token(server):
    app, base_url = server
    response = login(base_url, "Manager@Hotel.test ")
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["token_type"] == "Bearer" and data["expires_in"] == 900
    assert data["user"]["email"] == "manager@hotel.test" and data["user"]["role"] == "manager"
    claims = jwt.decode(data["access_token"], "t" * 40, algorithms=["HS256"], issuer="jack")
    assert claims["role"] == "manager" and claims["exp"] - claims["iat"] == 900
    me = httpx.get(f"{base_url}/api/v1/auth/me", headers=bearer(data["access_token"]))
    assert me.status_code == 200 and me.json()["email"] == "manager@hotel.test"
    assert me.json()["last_login_at"] is not None


def test_wrong_password_and_unknown_email_get_the_same_401(server):
    _, base_url = server
    wrong = login(base_url, "staff@hotel.test", "not the password")
    unknown = login(base_url, "nobody@hotel.test", PASSWORD)
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.json() == {
            "error": "unauthorized",
            "detail": "wrong e-mail or password, or the account is disabled",
        }
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_repeated_failures_for_one_account_are_rate_limited_with_retry_after(server):
    _, base_url = server
    for _ in range(3):
        assert login(base_url, "staff@hotel.test", "guess").status_code == 401
    blocked = login(base_url, "staff@hotel.test", PASSWORD)  # even the right password waits, from that address
    assert blocked.status_code == 429
    assert blocked.json()["error"] == "rate_limited"
    assert 1 <= int(blocked.headers["Retry-After"]) <= 900
    # Another account from the same address is not locked out by this one.
    assert login(base_url, "manager@hotel.test").status_code == 200


def test_failures_from_one_client_ip_are_rate_limited_across_accounts(server):
    _, base_url = server
    # Loopback is a trusted proxy by default, so X-Forwarded-For names the client.
    attacker = {"X-Forwarded-For": "203.0.113.7"}
    for n in range(6):
        assert login(base_url, f"guess{n}@hotel.test", "guess", headers=attacker).status_code == 401
    assert login(base_url, "admin@hotel.test", headers=attacker).status_code == 429
    assert login(base_url, "admin@hotel.test", headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 200


def test_rate_limit_window_expires(tmp_path):
    app = make_app(tmp_path, env=env(tmp_path, STAFF_LOGIN_MAX_FAILURES="1", STAFF_LOGIN_WINDOW_SECONDS="1"))
    make_users(app)
    with running_app(app) as base_url:
        assert login(base_url, "staff@hotel.test", "guess").status_code == 401
        blocked = login(base_url, "staff@hotel.test")
        assert blocked.status_code == 429 and blocked.headers["Retry-After"] == "1"
        deadline = time.monotonic() + 5
        while (response := login(base_url, "staff@hotel.test")).status_code == 429:
            assert time.monotonic() < deadline, "the block never lifted"
            time.sleep(0.1)
        assert response.status_code == 200


def test_refresh_rotates_and_a_reused_token_ends_the_session(server):
    _, base_url = server
    first = login(base_url, "staff@hotel.test").json()
    second = httpx.post(f"{base_url}/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200, second.text
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert httpx.get(f"{base_url}/api/v1/auth/me", headers=bearer(second["access_token"])).status_code == 200

    # The first token was spent: presenting it again is treated as theft...
    reused = httpx.post(f"{base_url}/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401 and "already used" in reused.json()["detail"]
    # ...and the whole sign-in is revoked, including the token the thief may have rotated to.
    after = httpx.post(f"{base_url}/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert after.status_code == 401


def test_refresh_tokens_are_stored_hashed(server):
    app, base_url = server
    token = login(base_url, "staff@hotel.test").json()["refresh_token"]
    with app.engine.connect() as connection:
        stored = [row[0] for row in connection.exec_driver_sql("SELECT token_hash FROM staff_refresh_tokens")]
    assert stored and token not in stored and all(len(value) == 64 for value in stored)


def test_logout_revokes_the_refresh_token_and_the_access_token(server):
    _, base_url = server
    tokens = login(base_url, "staff@hotel.test").json()
    assert httpx.get(f"{base_url}/api/v1/auth/me", headers=bearer(tokens["access_token"])).status_code == 200
    out = httpx.post(f"{base_url}/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    assert out.status_code == 204
    again = httpx.post(f"{base_url}/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 401
    # The access token is dead at once, not in 15 minutes.
    me = httpx.get(f"{base_url}/api/v1/auth/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 401 and "revoked" in me.json()["detail"]
    # Signing in again gives a token that works.
    fresh = token_for(base_url, "staff")
    assert httpx.get(f"{base_url}/api/v1/auth/me", headers=bearer(fresh)).status_code == 200


def test_logout_with_only_the_access_token_ends_it_too(server):
    _, base_url = server
    access = token_for(base_url, "manager")
    out = httpx.post(f"{base_url}/api/v1/auth/logout", json={"refresh_token": "unknown-token"}, headers=bearer(access))
    assert out.status_code == 204
    assert httpx.get(f"{base_url}/api/v1/auth/me", headers=bearer(access)).status_code == 401


def test_unauthenticated_and_bad_tokens_get_401_with_bearer_challenge(server):
    _, base_url = server
    missing = httpx.get(f"{base_url}/api/v1/auth/me")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="jack"'
    assert missing.json()["error"] == "unauthorized" and "Authorization: Bearer" in missing.json()["detail"]

    forged = jwt.encode({"sub": "1", "role": "admin", "typ": "access", "iss": "jack", "exp": time.time() + 60},
                        "another-secret-another-secret-12345", algorithm="HS256")
    expired = jwt.encode({"sub": "1", "role": "admin", "typ": "access", "iss": "jack", "exp": time.time() - 5},
                         "t" * 40, algorithm="HS256")
    for token, hint in ((forged, "not valid"), (expired, "expired"), ("garbage", "not valid")):
        response = httpx.get(f"{base_url}/api/v1/auth/me", headers=bearer(token))
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
        assert hint in response.json()["detail"]


def test_malformed_json_is_400_and_missing_fields_are_422_naming_them(server):
    _, base_url = server
    broken = httpx.post(f"{base_url}/api/v1/auth/login", content=b'{"email": ', headers={"Content-Type": "application/json"})
    assert broken.status_code == 400
    assert broken.json()["error"] == "malformed_json" and "not valid JSON" in broken.json()["detail"]

    missing = httpx.post(f"{base_url}/api/v1/auth/login", json={"email": "staff@hotel.test", "pasword": "x"})
    assert missing.status_code == 422
    body = missing.json()
    assert body["error"] == "validation_failed"
    fields = {problem["field"] for problem in body["detail"]}
    assert fields == {"password", "pasword"}  # the missing one and the misspelled extra one

    not_object = httpx.post(f"{base_url}/api/v1/auth/login", json=["staff@hotel.test"])
    assert not_object.status_code == 422 and not_object.json()["detail"][0]["field"] == "body"


def test_disabled_account_loses_access_at_once(server):
    app, base_url = server
    admin = token_for(base_url, "admin")
    staff = login(base_url, "staff@hotel.test").json()
    staff_id = staff["user"]["id"]
    disabled = httpx.post(f"{base_url}/api/v1/users/{staff_id}/disable", headers=bearer(admin))
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    # The unexpired access token stops working, refresh is refused, and so is signing in.
    assert httpx.get(f"{base_url}/api/v1/auth/me", headers=bearer(staff["access_token"])).status_code == 401
    refresh = httpx.post(f"{base_url}/api/v1/auth/refresh", json={"refresh_token": staff["refresh_token"]})
    assert refresh.status_code == 401
    assert login(base_url, "staff@hotel.test").status_code == 401

    enabled = httpx.post(f"{base_url}/api/v1/users/{staff_id}/enable", headers=bearer(admin))
    assert enabled.status_code == 200 and login(base_url, "staff@hotel.test").status_code == 200
    # Enabling the account again does not bring the old access token back.
    assert httpx.get(f"{base_url}/api/v1/auth/me", headers=bearer(staff["access_token"])).status_code == 401


def test_without_jwt_secret_development_uses_a_random_secret_and_warns(tmp_path, caplog):
    app = make_app(tmp_path)  # no JWT_SECRET, development
    make_users(app)
    with caplog.at_level("WARNING", logger="jack.staff.tokens"), running_app(app) as base_url:
        token = token_for(base_url, "staff")
        assert httpx.get(f"{base_url}/api/v1/auth/me", headers=bearer(token)).status_code == 200
    assert any("JWT_SECRET is not set" in record.getMessage() for record in caplog.records)
    other = make_app(tmp_path / "other")
    assert StaffAuth.of(other).tokens.secret != StaffAuth.of(app).tokens.secret
