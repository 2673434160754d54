"""The /ws protocol against a running server, with a real WebSocket client."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from jack_channel_webchat.sessions import hash_token


async def test_message_is_acknowledged_and_restored_on_reconnect(serve, open_chat):
    app, url = serve()
    tab = await open_chat(url)
    assert tab.session["restored"] is False
    assert tab.history == []
    client_id = await tab.say("Hello, is breakfast included?")
    ack = await tab.expect("ack", client_id=client_id)
    assert isinstance(ack["message_id"], int) and ack["duplicate"] is False

    await tab.close()
    again = await open_chat(url, token=tab.token)
    assert again.session["restored"] is True
    assert again.session["session_id"] == tab.session["session_id"]
    first = again.history[0]
    assert (first["id"], first["sender"], first["body"], first["client_id"]) == (
        ack["message_id"], "guest", "Hello, is breakfast included?", client_id
    )
    # The pipeline sees the session's public address, never the token.
    conversation_id = app.services.conversations.find_conversation_id("webchat", tab.session["session_id"])
    assert conversation_id is not None
    assert tab.token not in str(app.services.conversations.history(conversation_id))


async def test_token_is_stored_hashed(serve, open_chat):
    app, url = serve()
    tab = await open_chat(url)
    await tab.expect("ack", client_id=await tab.say("Hello"))  # the row is written with the first message
    with app.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT token_hash, address FROM webchat_sessions")).all()
    assert rows == [(hash_token(tab.token), tab.session["session_id"])]


async def test_resent_message_is_not_stored_twice(serve, open_chat):
    _, url = serve()
    tab = await open_chat(url)
    await tab.say("Late checkout please", client_id="c-resend-1")
    first = await tab.expect("ack", client_id="c-resend-1")
    await tab.say("Late checkout please", client_id="c-resend-1")
    second = await tab.expect("ack", client_id="c-resend-1")
    assert second["message_id"] == first["message_id"]
    assert second["duplicate"] is True


async def test_second_tab_shares_the_session_and_sees_the_guest_messages(serve, open_chat):
    _, url = serve()
    first = await open_chat(url)
    second = await open_chat(url, token=first.token)
    assert second.session["session_id"] == first.session["session_id"]
    client_id = await first.say("Towels for room 12")
    ack = await first.expect("ack", client_id=client_id)
    echoed = await second.expect("message", id=ack["message_id"])
    assert echoed["sender"] == "guest" and echoed["body"] == "Towels for room 12"


async def test_other_origin_is_refused_with_an_error_frame_and_close_code(serve, open_chat):
    _, url = serve({"WEBCHAT_ALLOWED_ORIGINS": "https://hotel.example"})
    refused = await open_chat(url, origin="https://evil.example", hello=False)
    error = await refused.expect("error")
    assert error["code"] == "origin_refused" and error["fatal"] is True
    assert "WEBCHAT_ALLOWED_ORIGINS" in error["message"]
    assert await refused.closed_with() == 4403

    allowed = await open_chat(url, origin="https://hotel.example")
    assert allowed.session["token"]


async def test_missing_origin_is_refused(serve):
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    _, url = serve()
    async with connect(url.replace("http", "ws") + "/ws", ping_interval=None) as ws:
        import json

        frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert frame["code"] == "origin_missing"
        try:
            await asyncio.wait_for(ws.recv(), 10)
        except ConnectionClosed as exc:
            assert exc.rcvd.code == 4403
        else:
            raise AssertionError("the server kept a connection without Origin open")


async def test_token_from_another_origin_is_not_honoured(serve, open_chat):
    _, url = serve({"WEBCHAT_ALLOWED_ORIGINS": "https://hotel.example"})
    own = await open_chat(url)
    await own.say("my secret booking details")
    await own.expect("ack")
    elsewhere = await open_chat(url, origin="https://hotel.example", token=own.token)
    notice = next(f for f in elsewhere.frames if f["type"] == "error")
    assert notice["code"] == "session_not_restored" and notice["reason"] == "origin"
    assert elsewhere.session["session_id"] != own.session["session_id"]
    assert elsewhere.history == []


async def test_idle_session_expires(serve, open_chat):
    app, url = serve({"WEBCHAT_SESSION_IDLE_HOURS": "1"})
    tab = await open_chat(url)
    await tab.expect("ack", client_id=await tab.say("Hello"))
    await tab.close()
    with app.engine.begin() as connection:
        connection.execute(sa.text("UPDATE webchat_sessions SET last_seen_at = datetime('now', '-61 minutes')"))
    again = await open_chat(url, token=tab.token)
    notice = next(f for f in again.frames if f["type"] == "error")
    assert notice["code"] == "session_not_restored" and notice["reason"] == "expired"
    assert again.session["session_id"] != tab.session["session_id"]


async def test_rate_limit_per_session(serve, open_chat):
    _, url = serve({"WEBCHAT_RATE_LIMIT_PER_MINUTE": "3"})
    tab = await open_chat(url)
    other_tab = await open_chat(url, token=tab.token)
    for n in range(2):
        await tab.expect("ack", client_id=await tab.say(f"message {n}"))
    # The limit is the session's, not the tab's.
    await other_tab.expect("ack", client_id=await other_tab.say("message 2"))
    limited_id = await tab.say("message 3")
    error = await tab.expect("error", client_id=limited_id)
    assert error["code"] == "rate_limited" and error["fatal"] is False
    assert 0 < error["retry_after"] <= 60
    # The connection stays usable: a ping is still answered.
    await tab.send({"type": "ping", "ts": 7})
    assert (await tab.expect("pong"))["ts"] == 7


async def test_oversize_message_is_refused(serve, open_chat):
    _, url = serve({"WEBCHAT_MAX_MESSAGE_CHARS": "50"})
    tab = await open_chat(url)
    assert tab.session["max_message_chars"] == 50
    too_long = await tab.say("x" * 51)
    error = await tab.expect("error", client_id=too_long)
    assert error["code"] == "message_too_large" and error["max_chars"] == 50
    assert "51" in error["message"]
    await tab.expect("ack", client_id=await tab.say("y" * 50))


async def test_too_many_tabs_per_session(serve, open_chat):
    _, url = serve({"WEBCHAT_MAX_CONNECTIONS_PER_SESSION": "2"})
    first = await open_chat(url)
    await open_chat(url, token=first.token)
    third = await open_chat(url, token=first.token, hello=False)
    await third.send({"type": "hello", "token": first.token})
    error = await third.expect("error")
    assert error["code"] == "too_many_connections" and error["limit"] == 2
    assert await third.closed_with() == 4429
    # Closing a tab frees a place.
    await first.close()
    await open_chat(url, token=first.token)


async def test_bad_frames_get_error_frames_and_the_connection_stays(serve, open_chat):
    _, url = serve()
    tab = await open_chat(url)
    await tab.ws.send("not json")
    assert (await tab.expect("error"))["code"] == "bad_json"
    await tab.ws.send(b"\x00\x01")
    assert (await tab.expect("error"))["code"] == "bad_frame"
    await tab.send({"type": "dance"})
    assert (await tab.expect("error"))["code"] == "unknown_type"
    await tab.send({"type": "message", "client_id": "c-empty", "body": "   "})
    assert (await tab.expect("error", client_id="c-empty"))["code"] == "empty_message"
    await tab.expect("ack", client_id=await tab.say("still here"))


async def test_first_frame_must_be_hello(serve, open_chat):
    _, url = serve()
    tab = await open_chat(url, hello=False)
    await tab.say("hi without hello")
    error = await tab.expect("error")
    assert error["code"] == "hello_required" and error["fatal"] is True
    assert await tab.closed_with() == 4400


async def test_server_pings_idle_chats(serve, open_chat):
    _, url = serve({"WEBCHAT_PING_INTERVAL": "1"})
    tab = await open_chat(url)
    ping = await tab.expect("ping", timeout=5)
    assert isinstance(ping["ts"], int)
