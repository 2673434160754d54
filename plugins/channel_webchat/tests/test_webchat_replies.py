"""Replies through the real pipeline (no model configured: the knowledge-base path) reach the chat."""

from __future__ import annotations

import httpx

from jack_host import hookimpl
from jack_host.testing import wait_until

BREAKFAST = "Breakfast is served from 7:00 to 10:30 in the Garden Room on the ground floor."


def seed_breakfast(app) -> None:
    app.services.knowledge.create("Breakfast hours", BREAKFAST, "dining", ["breakfast", "restaurant"])


async def test_reply_reaches_every_tab_with_typing_indicator(serve, open_chat):
    app, url = serve()
    seed_breakfast(app)
    asking = await open_chat(url)
    watching = await open_chat(url, token=asking.token)
    client_id = await asking.say("What time is breakfast served?")
    await asking.expect("ack", client_id=client_id)

    for tab in (asking, watching):
        reply = await tab.expect("message", sender="ai")
        assert reply["body"] == BREAKFAST
        # The typing indicator went on, and off again, before the answer arrived.
        before_reply = tab.frames[: tab.frames.index(reply)]
        assert [f["active"] for f in before_reply if f["type"] == "typing"] == [True, False]

    conversation_id = app.services.conversations.find_conversation_id("webchat", asking.session["session_id"])
    stored = wait_until(
        lambda: [m for m in app.services.conversations.history(conversation_id) if m["sender"] == "ai" and m["status"] == "delivered"],
        what="the AI reply marked delivered",
    )
    assert stored[0]["id"] == reply["id"]
    assert stored[0]["meta"]["path"] == "knowledge"
    assert stored[0]["meta"]["webchat"] == {"tabs": 2}


async def test_message_sent_just_before_disconnecting_is_answered_on_reconnect(serve, open_chat):
    app, url = serve()
    seed_breakfast(app)
    tab = await open_chat(url)
    client_id = await tab.say("When is breakfast?")
    ack = await tab.expect("ack", client_id=client_id)
    await tab.ws.close()  # the guest closes the tab right after the message was acknowledged

    conversation_id = app.services.conversations.find_conversation_id("webchat", tab.session["session_id"])
    replies = wait_until(
        lambda: [m for m in app.services.conversations.history(conversation_id) if m["sender"] == "ai" and m["status"] == "sent"],
        what="the reply to be sent with no tab open",
    )
    # Nobody was connected: the channel still took it, and it waits in the history.
    assert replies[0]["meta"]["webchat"] == {"tabs": 0}

    back = await open_chat(url, token=tab.token)
    assert [(m["sender"], m["body"]) for m in back.history] == [("guest", "When is breakfast?"), ("ai", BREAKFAST)]
    assert back.history[0]["id"] == ack["message_id"]


class StaffReplyRoute:
    """A stand-in for the staff API: ``POST /test-staff-reply`` queues a staff reply on the server's loop."""

    def __init__(self, app):
        self.app = app

    async def on_post(self, req, resp):
        data = await req.get_media()
        resp.media = {"id": await self.app.services.conversations.send_staff_reply(data["conversation_id"], data["body"], None)}


class staff_api:  # noqa: N801  (a plugin namespace)
    @staticmethod
    @hookimpl
    def jack_add_routes(app):
        app.add_route("/test-staff-reply", StaffReplyRoute(app))


async def test_staff_reply_reaches_both_tabs(serve, open_chat):
    app, url = serve(plugins=[("staff_api", staff_api)])
    tab = await open_chat(url)
    other = await open_chat(url, token=tab.token)
    await tab.expect("ack", client_id=await tab.say("Can someone call me?"))
    await tab.expect("message", sender="ai")  # the holding reply: no model, no matching article
    conversation_id = app.services.conversations.find_conversation_id("webchat", tab.session["session_id"])
    async with httpx.AsyncClient() as client:
        response = await client.post(url + "/test-staff-reply", json={"conversation_id": conversation_id, "body": "Calling you now."})
    staff_id = response.json()["id"]
    for each in (tab, other):
        reply = await each.expect("message", sender="staff")
        assert (reply["id"], reply["body"]) == (staff_id, "Calling you now.")
