"""Hostile frames on /ws: absurd nesting and oversized frames get an error frame or a clean close (issue 11)."""

from __future__ import annotations

import json

from jack_channel_webchat.protocol import CLOSE_PROTOCOL_ERROR, MAX_FRAME_CHARS


async def test_deeply_nested_hello_is_closed_cleanly(serve, open_chat):
    _, url = serve()
    tab = await open_chat(url, hello=False)
    await tab.ws.send("[" * 100_000)
    refusal = await tab.expect("error")
    assert refusal["code"] == "hello_required" and refusal["fatal"] is True
    assert await tab.closed_with() == CLOSE_PROTOCOL_ERROR  # not 1006: the handler did not crash


async def test_hostile_frames_after_hello_leave_the_chat_working(serve, open_chat):
    _, url = serve()
    tab = await open_chat(url)
    await tab.ws.send("[" * 100_000)
    assert (await tab.expect("error"))["code"] == "bad_json"
    await tab.ws.send(json.dumps({"type": "message", "client_id": "c-big", "body": "x" * (MAX_FRAME_CHARS + 1)}))
    assert (await tab.expect("error"))["code"] == "frame_too_large"
    # The socket is still open and the next real message is stored.
    client_id = await tab.say("Can I have more towels?")
    ack = await tab.expect("ack", client_id=client_id)
    assert ack["duplicate"] is False and isinstance(ack["message_id"], int)
