"""Conversations through the staff API: list and filter, read, reply, take over, hand back, close."""

from __future__ import annotations

import httpx
import pytest

import jack_host.testing.channel
from jack_host.testing import make_app, running_app, wait_until
from tests.staff_helpers import bearer, env, guest_says, make_users, token_for


@pytest.fixture
def server(tmp_path):
    app = make_app(tmp_path, plugins=[("test_channel", jack_host.testing.channel)], env=env(tmp_path))
    ids = make_users(app)
    with running_app(app) as base_url:
        yield app, base_url, ids


def test_staff_reply_goes_out_on_the_guests_channel(server):
    app, base_url, ids = server
    received = guest_says(base_url, "wamid-1", "Is breakfast included?")
    conversation_id = received["conversation_id"]
    staff = bearer(token_for(base_url, "staff"))

    reply = httpx.post(f"{base_url}/api/v1/conversations/{conversation_id}/messages", headers=staff,
                       json={"body": "  Yes, from 7 to 10 in the garden room.  "})
    assert reply.status_code == 201, reply.text
    message = reply.json()
    assert message["sender"] == "staff" and message["direction"] == "outbound" and message["channel"] == "test"
    assert message["body"] == "Yes, from 7 to 10 in the garden room."

    def delivered():
        sent = httpx.get(f"{base_url}/test-channel/sent").json()["sent"]
        return [m for m in sent if m["message_id"] == message["id"]]

    [sent] = wait_until(delivered, timeout=15, what="the staff reply to reach the test channel")
    assert sent["guest_address"] == "+34600111222" and sent["sender"] == "staff"

    conversation = httpx.get(f"{base_url}/api/v1/conversations/{conversation_id}", headers=staff).json()
    assert conversation["state"] == "staff" and conversation["assignee_id"] == ids["staff"]
    history = httpx.get(f"{base_url}/api/v1/conversations/{conversation_id}/messages", headers=staff).json()["items"]
    assert [m["body"] for m in history][:1] == ["Is breakfast included?"]
    assert history[-1]["id"] == message["id"]


def test_reply_errors(server):
    _, base_url, _ = server
    conversation_id = guest_says(base_url, "m-1", "Hello")["conversation_id"]
    staff = bearer(token_for(base_url, "staff"))
    empty = httpx.post(f"{base_url}/api/v1/conversations/{conversation_id}/messages", headers=staff, json={"body": "   "})
    assert empty.status_code == 422 and empty.json()["detail"][0]["field"] == "body"
    missing = httpx.post(f"{base_url}/api/v1/conversations/999/messages", headers=staff, json={"body": "hi"})
    assert missing.status_code == 404 and missing.json() == {"error": "not_found", "detail": "conversation 999 does not exist"}
    unauthenticated = httpx.post(f"{base_url}/api/v1/conversations/{conversation_id}/messages", json={"body": "hi"})
    assert unauthenticated.status_code == 401


def test_take_over_hand_back_and_close(server):
    _, base_url, ids = server
    conversation_id = guest_says(base_url, "m-1", "Can I get a late checkout?")["conversation_id"]
    staff = bearer(token_for(base_url, "staff"))
    url = f"{base_url}/api/v1/conversations/{conversation_id}"

    taken = httpx.post(f"{url}/takeover", headers=staff)
    assert taken.status_code == 200
    assert taken.json()["state"] == "staff" and taken.json()["assignee_id"] == ids["staff"]
    back = httpx.post(f"{url}/handback", headers=staff).json()
    assert back["state"] == "ai" and back["assignee_id"] is None
    closed = httpx.post(f"{url}/close", headers=staff).json()
    assert closed["state"] == "closed" and closed["closed_at"] is not None
    assert httpx.post(f"{base_url}/api/v1/conversations/4242/takeover", headers=staff).status_code == 404


def test_list_filters_search_and_paging(server):
    app, base_url, ids = server
    staff = bearer(token_for(base_url, "staff"))
    a = guest_says(base_url, "a-1", "The shower is cold", sender_phone="+351911000001", sender_name="Bruno")
    b = guest_says(base_url, "b-1", "Where do I park?", sender_email="carla@example.org", sender_name="Carla")
    c = guest_says(base_url, "c-1", "Thanks for everything", sender_address="webchat-session-7", sender_name="Dora")
    api = f"{base_url}/api/v1/conversations"
    httpx.post(f"{api}/{a['conversation_id']}/takeover", headers=staff)
    httpx.post(f"{api}/{b['conversation_id']}/close", headers=staff)

    def ids_for(**params):
        response = httpx.get(api, headers=staff, params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert ids_for(state="staff") == [a["conversation_id"]]
    assert ids_for(state="closed") == [b["conversation_id"]]
    assert ids_for(assignee="me") == [a["conversation_id"]]
    assert ids_for(assignee=str(ids["staff"])) == [a["conversation_id"]]
    assert a["conversation_id"] not in ids_for(assignee="none")
    assert ids_for(q="shower") == [a["conversation_id"]]  # message text
    assert ids_for(q="carla@") == [b["conversation_id"]]  # guest e-mail
    assert ids_for(q="dora") == [c["conversation_id"]]  # guest name, any case
    assert ids_for(q="100%") == []  # LIKE wildcards are literal
    assert sorted(ids_for(channel="test")) == sorted([a["conversation_id"], b["conversation_id"], c["conversation_id"]])

    # Newest activity first: once the AI is done replying, Dora and then Bruno write again.
    wait_until(lambda: app.services.conversations.health_summary()["queue"]["pending"] == 0, timeout=15,
               what="the AI's replies to go out")
    httpx.post(f"{api}/{c['conversation_id']}/takeover", headers=staff)  # keep the AI quiet
    guest_says(base_url, "c-2", "One more thing", sender_address="webchat-session-7", sender_name="Dora")
    guest_says(base_url, "a-2", "Still cold", sender_phone="+351911000001", sender_name="Bruno")
    listing = httpx.get(api, headers=staff).json()["items"]
    assert [(item["id"], item["guest"]["name"]) for item in listing] == [
        (a["conversation_id"], "Bruno"), (c["conversation_id"], "Dora"), (b["conversation_id"], "Carla")]
    page = httpx.get(api, headers=staff, params={"limit": 1, "offset": 1}).json()
    assert (page["total"], page["limit"], page["offset"]) == (3, 1, 1)
    assert [item["id"] for item in page["items"]] == [c["conversation_id"]]

    bad = httpx.get(api, headers=staff, params={"state": "sleeping", "limit": "lots", "assignee": "x"})
    assert bad.status_code == 422
    assert {p["field"] for p in bad.json()["detail"]} == {"state", "limit"}
    unknown_channel = httpx.get(api, headers=staff, params={"channel": "pigeon"})
    assert unknown_channel.status_code == 422 and "registered channels: test" in unknown_channel.json()["detail"][0]["message"]
    bad_assignee = httpx.get(api, headers=staff, params={"assignee": "someone"})
    assert bad_assignee.status_code == 422 and bad_assignee.json()["detail"][0]["field"] == "assignee"


def test_message_paging(server):
    _, base_url, _ = server
    staff = bearer(token_for(base_url, "staff"))
    conversation_id = guest_says(base_url, "p-1", "one")["conversation_id"]
    httpx.post(f"{base_url}/api/v1/conversations/{conversation_id}/takeover", headers=staff)  # keep the AI quiet
    for n, text in enumerate(["two", "three"], start=2):
        guest_says(base_url, f"p-{n}", text)
    url = f"{base_url}/api/v1/conversations/{conversation_id}/messages"
    everything = httpx.get(url, headers=staff).json()["items"]
    bodies = [m["body"] for m in everything]
    assert bodies[0] == "one" and bodies[-2:] == ["two", "three"]  # the AI may have answered "one" in between
    latest = httpx.get(url, headers=staff, params={"limit": 2}).json()["items"]
    assert latest == everything[-2:]
    older = httpx.get(url, headers=staff, params={"limit": 2, "before": latest[0]["id"]}).json()["items"]
    assert older == everything[-4:-2] and older[0]["body"] == "one"
    assert httpx.get(f"{base_url}/api/v1/conversations/77/messages", headers=staff).status_code == 404
