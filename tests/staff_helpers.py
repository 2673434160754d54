"""Shared set-up for the staff API tests: an app on loopback with accounts of each role."""

from __future__ import annotations

from pathlib import Path

import httpx

from jack_host.builtin.staff import accounts

PASSWORD = "correct horse battery"


def make_users(app) -> dict[str, int]:
    ids = {}
    for role in ("staff", "manager", "admin"):
        user = accounts.create_user(app.engine, f"{role}@hotel.test", PASSWORD, name=role.title(), role=role)
        ids[role] = user.id
    return ids


def login(base_url: str, email: str, password: str = PASSWORD, **kwargs) -> httpx.Response:
    return httpx.post(f"{base_url}/api/v1/auth/login", json={"email": email, "password": password}, **kwargs)


def token_for(base_url: str, role: str) -> str:
    response = login(base_url, f"{role}@hotel.test")
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"JWT_SECRET": "t" * 40, **extra}


def guest_says(base_url: str, message_id: str, body: str, **sender: str) -> dict:
    """A guest message through the test channel's inbound route (the real pipeline.receive)."""
    if not sender:
        sender = {"sender_phone": "+34600111222", "sender_name": "Ana Guest"}
    response = httpx.post(f"{base_url}/test-channel/inbound", json={"channel_message_id": message_id, "body": body, **sender})
    assert response.status_code == 200, response.text
    return response.json()
