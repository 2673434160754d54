"""The JSON frames of the web chat WebSocket (documented in the plugin's README).

Every frame is a JSON object with a ``type``.  Errors carry a stable ``code`` for
programs and a ``message`` for people; ``fatal`` errors are followed by a close
with the matching close code.
"""

from __future__ import annotations

from typing import Any

from jack_host.kit.safe_json import JSONInputError, parse_json

PROTOCOL_VERSION = 1
#: The longest frame read, in characters. ``jack serve`` already closes a WebSocket message over
#: 256 KiB with 1009 (uvicorn's ``ws_max_size``); this check holds under any other ASGI server.
#: A message of 20,000 characters, every one JSON-escaped as a surrogate pair, still fits.
MAX_FRAME_CHARS = 256 * 1024

# Close codes (4000-4999 are for applications); each also arrives as an error frame first.
CLOSE_ORIGIN_REFUSED = 4403
CLOSE_HELLO_TIMEOUT = 4408
CLOSE_TOO_MANY_CONNECTIONS = 4429
CLOSE_PROTOCOL_ERROR = 4400
CLOSE_SERVER_STOPPING = 1001

ERROR_TEXT = {
    "origin_refused": "This site is not allowed to use this chat. The hotel can add it to WEBCHAT_ALLOWED_ORIGINS.",
    "origin_missing": "The connection did not say which site it comes from (no Origin header); it is refused.",
    "hello_timeout": "No hello frame arrived in time; connect again.",
    "hello_required": "The first frame must be {\"type\": \"hello\"}.",
    "too_many_connections": "This chat is open in too many tabs; close one and try again.",
    "session_not_restored": "Your previous chat could not be restored; a new one has started.",
    "bad_json": "The frame is not a JSON object.",
    "bad_frame": "Frames must be JSON text.",
    "frame_too_large": "The frame is too large.",
    "unknown_type": "Unknown frame type.",
    "empty_message": "The message is empty.",
    "message_too_large": "The message is too long.",
    "rate_limited": "Too many messages; wait a moment before sending again.",
    "not_stored": "Your message could not be saved; it will be sent again.",
}


class FrameError(ValueError):
    """A frame that cannot be read; ``code`` is the error code sent back (``bad_json``, ``frame_too_large``)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def parse_frame(text: str) -> Any:
    """The JSON value of a text frame.

    :raises FrameError: over :data:`MAX_FRAME_CHARS`, not JSON, or nested absurdly deep
        (``[`` × 100,000 once crashed the handler, which dropped the socket with 1006).
    """
    if len(text) > MAX_FRAME_CHARS:
        raise FrameError("frame_too_large")
    try:
        return parse_json(text)
    except JSONInputError:
        raise FrameError("bad_json") from None


def error_frame(code: str, message: str | None = None, *, fatal: bool = False, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message or ERROR_TEXT.get(code, code), "fatal": fatal, **extra}


def message_frame(message: dict[str, Any]) -> dict[str, Any]:
    """A stored message as the widget sees it (no internal metadata)."""
    client_id = None
    if message.get("direction") == "inbound":
        # channel_message_id is "<address>:<client id>" (see websocket.py).
        client_id = str(message.get("channel_message_id") or "").partition(":")[2] or None
    return {
        "type": "message",
        "id": message.get("id"),
        "sender": message.get("sender"),
        "body": message.get("body"),
        "created_at": message.get("created_at"),
        "status": message.get("status"),
        "client_id": client_id,
    }
