"""``/ws/staff`` with the real ``websockets`` client: auth, forwarded events, keep-alive."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

import jack_host.testing.channel
from jack_host.testing import make_app, running_app
from tests.staff_helpers import bearer, env, make_users, token_for


@pytest.fixture
def server(tmp_path):
    app = make_app(tmp_path, plugins=[("test_channel", jack_host.testing.channel)],
                   env=env(tmp_path, STAFF_WS_PING_SECONDS="0.3"))
    ids = make_users(app)
    with running_app(app) as base_url:
        yield app, base_url, ids


def ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://") + "/ws/staff"


async def next_of(ws, wanted: str, timeout: float = 15) -> dict:
    """The next frame of type ``wanted`` (others are skipped)."""
    async def find():
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == wanted:
                return frame
    return await asyncio.wait_for(find(), timeout)


async def test_escalation_reaches_the_staff_stream(server):
    _, base_url, _ = server
    token = token_for(base_url, "staff")
    async with connect(ws_url(base_url), subprotocols=["bearer", token]) as ws:
        assert ws.subprotocol == "bearer"
        hello = await next_of(ws, "hello")
        assert hello["payload"]["user"]["email"] == "staff@hotel.test"
        async with httpx.AsyncClient() as client:
            received = (await client.post(f"{base_url}/test-channel/inbound", json={
                "channel_message_id": "wamid-esc", "body": "I want to speak to a manager",
                "sender_phone": "+34600999888"})).json()
        created = await next_of(ws, "message.created")
        assert created["payload"]["body"] == "I want to speak to a manager"
        assert created["payload"]["guest_address"] == "+34600999888"
        escalated = await next_of(ws, "conversation.escalated")
        assert escalated["payload"]["id"] == received["conversation_id"]
        assert escalated["payload"]["state"] == "escalated" and escalated["payload"]["reason"]
        task = await next_of(ws, "task.created")
        assert task["payload"]["conversation_id"] == received["conversation_id"]


async def test_query_token_and_staff_actions_are_streamed(server):
    _, base_url, ids = server
    token = token_for(base_url, "staff")
    async with connect(ws_url(base_url) + f"?token={token}") as ws:
        await next_of(ws, "hello")
        async with httpx.AsyncClient(headers=bearer(token)) as client:
            received = (await client.post(f"{base_url}/test-channel/inbound", json={
                "channel_message_id": "m-1", "body": "Hello", "sender_email": "guest@example.org"})).json()
            await client.post(f"{base_url}/api/v1/conversations/{received['conversation_id']}/takeover")
        while True:
            updated = await next_of(ws, "conversation.updated")
            if updated["payload"]["state"] == "staff":
                break
        assert updated["payload"]["assignee_id"] == ids["staff"]


@pytest.mark.parametrize("how", ["none", "garbage", "query-garbage"])
async def test_bad_or_missing_token_is_closed_with_4401(server, how):
    _, base_url, _ = server
    url, protocols = ws_url(base_url), None
    if how == "garbage":
        protocols = ["bearer", "not.a.jwt"]
    elif how == "query-garbage":
        url += "?token=nope"
    async with connect(url, subprotocols=protocols) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd.code == 4401
    assert ("no access token" if how == "none" else "not valid") in closed.value.rcvd.reason


async def test_ping_pong_and_server_pings(server):
    _, base_url, _ = server
    async with connect(ws_url(base_url), subprotocols=["bearer", token_for(base_url, "manager")]) as ws:
        await next_of(ws, "hello")
        await ws.send(json.dumps({"type": "ping"}))
        assert (await next_of(ws, "pong"))["type"] == "pong"
        assert (await next_of(ws, "ping", timeout=5))["type"] == "ping"  # every STAFF_WS_PING_SECONDS
        await ws.send("not json")
        assert "JSON" in (await next_of(ws, "error"))["payload"]["detail"]


async def test_disabled_account_is_disconnected(server):
    _, base_url, ids = server
    admin = token_for(base_url, "admin")
    async with connect(ws_url(base_url), subprotocols=["bearer", token_for(base_url, "staff")]) as ws:
        await next_of(ws, "hello")
        async with httpx.AsyncClient(headers=bearer(admin)) as client:
            assert (await client.post(f"{base_url}/api/v1/users/{ids['staff']}/disable")).status_code == 200
        with pytest.raises(ConnectionClosed) as closed:
            await next_of(ws, "never", timeout=10)
    assert closed.value.rcvd.code == 4401 and "disabled" in closed.value.rcvd.reason
