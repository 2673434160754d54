"""Web chat abuse without an account (issue 11, defect 5): limits per client address, no session rows
for chats that never say anything, and a ceiling on AI calls per minute.

The guest's address is the one the host computes behind its trusted proxy: the test server
listens on loopback (trusted by default), so ``X-Forwarded-For`` names the guest.
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from jack_host.testing import async_wait_until, inbound_messages, replies

BREAKFAST = "Breakfast is served from 7:00 to 10:30 in the Garden Room on the ground floor."
HOLDING = "Thank you for your message. I have passed it to our team, and a member of staff will follow up with you shortly."
MODEL_REPLY = "From the model: breakfast is from 7:00 to 10:30."


def session_rows(app) -> int:
    with app.engine.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM webchat_sessions")).scalar_one()


def reply_jobs(app) -> int:
    with app.engine.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM jobs WHERE kind = 'reply'")).scalar_one()


async def outcomes(tab, client_ids: list[str]) -> dict[str, str]:
    """``client_id -> "ack"`` or the error code the server answered it with."""
    found: dict[str, str] = {}
    while len(found) < len(client_ids):
        frame = await tab.next_frame()
        if frame.get("client_id") in client_ids and frame["type"] in ("ack", "error"):
            found[frame["client_id"]] = "ack" if frame["type"] == "ack" else frame["code"]
    return found


async def test_ten_sessions_from_one_address_share_its_message_limit(serve, open_chat):
    # Today's code counted per session only: 10 fresh sessions x 20 messages were all stored.
    app, url = serve()
    tabs = [await open_chat(url, client_ip="203.0.113.7") for _ in range(10)]
    assert len({tab.session["session_id"] for tab in tabs}) == 10
    answers: dict[str, str] = {}
    for tab in tabs:
        client_ids = [f"m{n}" for n in range(20)]
        for client_id in client_ids:
            await tab.say("What time is breakfast served?", client_id=client_id)
        answers.update({f"{tab.session['session_id']}:{k}": v for k, v in (await outcomes(tab, client_ids)).items()})

    # WEBCHAT_MESSAGES_PER_ADDRESS_PER_MINUTE defaults to 60: the rest get the protocol's rate-limit frame.
    assert sorted(answers.values()).count("ack") == 60
    assert sorted(answers.values()).count("rate_limited") == 140
    limited = next(f for f in tabs[-1].frames if f.get("code") == "rate_limited")
    assert limited["fatal"] is False and 0 < limited["retry_after"] <= 60
    assert "60" in limited["message"]
    assert len(inbound_messages(app)) == 60
    # Only what was stored goes to the AI: one reply job per stored message (today: 233 for 200).
    assert reply_jobs(app) == 60

    # Another guest, from another address, is not held back by the first one.
    other = await open_chat(url, client_ip="198.51.100.20")
    await other.expect("ack", client_id=await other.say("Hello"))


async def test_opening_chats_stores_no_session_until_the_first_message(serve, open_chat):
    # Today's code wrote a row per opened chat, kept for WEBCHAT_SESSION_IDLE_HOURS.
    app, url = serve()
    tabs = []
    for batch in range(10):  # 500 chats from 50 addresses, 10 each (the per-address default)
        tabs += await asyncio.gather(*(open_chat(url, client_ip=f"192.0.2.{batch * 5 + n % 5}") for n in range(50)))
    assert len({tab.session["session_id"] for tab in tabs}) == 500
    assert session_rows(app) == 0

    # A second tab of a chat that has said nothing yet still joins it.
    first = tabs[0]
    second = await open_chat(url, token=first.token, client_ip="192.0.2.0")
    assert second.session["session_id"] == first.session["session_id"]
    await first.expect("ack", client_id=await first.say("Is the pool open?"))
    assert session_rows(app) == 1
    await second.expect("ack", client_id=await second.say("And the gym?"))
    assert session_rows(app) == 1

    # The stored session is restored later, with its history.
    await first.close()
    await second.close()
    again = await open_chat(url, token=first.token, client_ip="192.0.2.0")
    assert again.session["restored"] is True and again.session["session_id"] == first.session["session_id"]
    assert [m["body"] for m in again.history if m["sender"] == "guest"] == ["Is the pool open?", "And the gym?"]


async def test_new_sessions_per_address_are_limited(serve, open_chat):
    app, url = serve({"WEBCHAT_SESSIONS_PER_ADDRESS_PER_MINUTE": "3"})
    kept = [await open_chat(url, client_ip="203.0.113.9") for _ in range(3)]
    refused = await open_chat(url, client_ip="203.0.113.9", hello=False)
    await refused.send({"type": "hello", "protocol": 1, "token": None})
    error = await refused.expect("error")
    assert error["code"] == "too_many_sessions" and error["fatal"] is True
    assert error["limit"] == 3 and 0 < error["retry_after"] <= 60
    assert await refused.closed_with() == 4429
    # A returning guest's token is not a new session, and other addresses are not affected.
    back = await open_chat(url, token=kept[0].token, client_ip="203.0.113.9")
    assert back.session["session_id"] == kept[0].session["session_id"]
    await open_chat(url, client_ip="203.0.113.10")
    assert session_rows(app) == 0


async def test_ai_ceiling_gives_the_next_guests_the_knowledge_or_holding_reply(serve, open_chat, fake_openai):
    fake_openai.reply = {"reply": MODEL_REPLY, "confident": True}
    fake_openai.delay = 0.5  # the calls overlap: the worker runs the guests' replies concurrently
    app, url = serve({**fake_openai.env(), "AI_MAX_CALLS_PER_MINUTE": "3"})
    app.services.knowledge.create("Breakfast hours", BREAKFAST, "dining", ["breakfast", "restaurant"])
    guests = await asyncio.gather(*(open_chat(url, client_ip=f"198.51.100.{n}") for n in range(6)))
    for guest in guests:
        await guest.say("What time is breakfast served?")
    bodies = await asyncio.gather(*(guest.expect("message", timeout=30, sender="ai") for guest in guests))

    assert len(fake_openai.completion_requests()) == 3
    assert sorted(b["body"] for b in bodies) == [BREAKFAST] * 3 + [MODEL_REPLY] * 3
    done = await async_wait_until(lambda: len(replies(app)) == 6 and replies(app), what="6 replies marked sent")
    paths = sorted((m.meta["path"], m.meta.get("ai_ceiling")) for m in done)
    assert paths == [("knowledge", 3)] * 3 + [("llm", None)] * 3

    # With nothing in the knowledge base for it, the guest gets the holding reply, not an error.
    late = await open_chat(url, client_ip="198.51.100.99")
    await late.say("Can I bring my parrot?")
    holding = await late.expect("message", timeout=30, sender="ai")
    assert holding["body"] == HOLDING
    assert len(fake_openai.completion_requests()) == 3
