"""``/ws``: the guest side of the web chat (protocol in the plugin's README)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import uuid
from typing import TYPE_CHECKING, Any

import falcon.errors

from jack_channel_webchat import protocol
from jack_channel_webchat.config import normalise_origin
from jack_channel_webchat.connections import Connection
from jack_channel_webchat.guards import client_key, origin_allowed, own_origins
from jack_channel_webchat.sessions import Session
from jack_host.contract.interfaces import InboundMessage
from jack_host.kit.text_hygiene import strip_control

if TYPE_CHECKING:
    import falcon.asgi

    from jack_channel_webchat.service import WebchatService

log = logging.getLogger("jack.webchat")
CLIENT_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


class ChatSocketResource:
    def __init__(self, service: WebchatService):
        self.service = service

    async def on_websocket(self, req: falcon.asgi.Request, ws: falcon.asgi.WebSocket) -> None:
        service = self.service
        config = service.config
        # Accept first, so every refusal below reaches the browser as a readable frame
        # (a refused handshake shows up in JavaScript only as an anonymous failure).
        await ws.accept()
        origin_header = req.get_header("Origin")
        origin = normalise_origin(origin_header or "")
        public_url = str(service.app.settings.get("PUBLIC_URL") or "")
        if not origin_header:
            await _refuse(ws, "origin_missing", protocol.CLOSE_ORIGIN_REFUSED)
            return
        if origin is None or not origin_allowed(origin, config, own_origins(public_url, req)):
            await _refuse(ws, "origin_refused", protocol.CLOSE_ORIGIN_REFUSED, origin=origin_header)
            return

        try:
            hello = await asyncio.wait_for(_receive_json(ws), config.hello_timeout)
        except TimeoutError:
            await _refuse(ws, "hello_timeout", protocol.CLOSE_HELLO_TIMEOUT)
            return
        except falcon.errors.WebSocketDisconnected:
            return
        except _BadFrame:
            hello = None
        if not isinstance(hello, dict) or hello.get("type") != "hello":
            await _refuse(ws, "hello_required", protocol.CLOSE_PROTOCOL_ERROR)
            return

        language = hello.get("language")
        language = language[:35] if isinstance(language, str) and LANGUAGE.match(language) else None
        token = hello.get("token")
        client = client_key(req)
        session: Session | None = None
        notice = None
        if isinstance(token, str) and token:
            session, reason = await asyncio.to_thread(service.sessions.restore, token[:200], origin, language)
            if session is None:
                notice = protocol.error_frame("session_not_restored", reason=reason)
        restored = session is not None
        if session is not None and service.connections.count(session.address) >= config.max_connections_per_session:
            await _refuse(
                ws, "too_many_connections", protocol.CLOSE_TOO_MANY_CONNECTIONS,
                limit=config.max_connections_per_session,
            )
            return
        if session is None:
            # Checked and counted with no await in between (see RateLimiter).
            wait = service.session_limiter.check(client)
            if wait:
                limit = config.sessions_per_address_per_minute
                await _refuse(
                    ws, "too_many_sessions", protocol.CLOSE_TOO_MANY_CONNECTIONS,
                    message=f"Too many new chats from your network: at most {limit} a minute. Try again in {wait:g} s.",
                    limit=limit, retry_after=wait,
                )
                return
            session = service.sessions.create(origin, language)
            token = session.token

        connection = Connection(ws, session.address)
        # Registered before the history is read, so a reply sent meanwhile is queued, not lost.
        service.connections.add(connection)
        try:
            if notice is not None:
                await connection.send_direct(notice)
            await connection.send_direct(
                {
                    "type": "session",
                    "protocol": protocol.PROTOCOL_VERSION,
                    "token": token,
                    "session_id": session.address,
                    "restored": restored,
                    "idle_expiry_hours": round(config.session_idle_seconds / 3600, 2),
                    "max_message_chars": config.max_message_chars,
                }
            )
            await connection.send_direct({"type": "history", "messages": await self._history(session.address)})
            await connection.open()
            await self._serve(ws, connection, session, origin, client)
        except falcon.errors.WebSocketDisconnected:
            pass
        finally:
            service.connections.remove(connection)

    async def _history(self, address: str) -> list[dict[str, Any]]:
        conversations = self.service.conversations
        if conversations is None:
            return []

        def load() -> list[dict[str, Any]]:
            conversation_id = conversations.find_conversation_id("webchat", address)
            if conversation_id is None:
                return []
            return conversations.history(conversation_id, limit=self.service.config.history_limit)

        return [protocol.message_frame(m) for m in await asyncio.to_thread(load)]

    async def _serve(
        self, ws: falcon.asgi.WebSocket, connection: Connection, session: Session, origin: str, client: str
    ) -> None:
        while True:
            try:
                frame = await _receive_json(ws)
            except _BadFrame as exc:
                await connection.send(protocol.error_frame(exc.code))
                continue
            kind = frame.get("type") if isinstance(frame, dict) else None
            if kind == "message":
                await self._guest_message(connection, session, origin, client, frame)
            elif kind == "ping":
                await connection.send({"type": "pong", "ts": frame.get("ts")})
            elif kind in ("pong", "typing", "hello"):
                continue  # liveness answers and the guest's own typing need nothing from us
            elif not isinstance(frame, dict):
                await connection.send(protocol.error_frame("bad_json"))
            else:
                await connection.send(protocol.error_frame("unknown_type", f"Unknown frame type {str(kind)[:40]!r}."))

    async def _guest_message(
        self, connection: Connection, session: Session, origin: str, client: str, frame: dict
    ) -> None:
        service = self.service
        config = service.config
        client_id = frame.get("client_id")
        if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
            # Without the client's id a resend cannot be recognised; still accept the message.
            client_id = "s-" + uuid.uuid4().hex
        body = frame.get("body")
        if isinstance(body, str):
            body = strip_control(body)  # issue 16: no control characters stored, newlines and tabs kept
        if not isinstance(body, str) or not body.strip():
            await connection.send(protocol.error_frame("empty_message", client_id=client_id))
            return
        if len(body) > config.max_message_chars:
            await connection.send(
                protocol.error_frame(
                    "message_too_large",
                    f"The message is {len(body)} characters long; the limit is {config.max_message_chars}.",
                    client_id=client_id,
                    max_chars=config.max_message_chars,
                )
            )
            return
        # Both limits are checked before either counts, and with no await in between.
        session_wait = service.rate_limiter.wait(session.address)
        client_wait = service.address_limiter.wait(client)
        if session_wait or client_wait:
            if session_wait >= client_wait:
                text = f"Too many messages: at most {config.rate_limit_per_minute} a minute."
            else:
                text = f"Too many messages from your network: at most {config.messages_per_address_per_minute} a minute."
            wait = max(session_wait, client_wait)
            await connection.send(
                protocol.error_frame(
                    "rate_limited", f"{text} Try again in {wait:g} s.", client_id=client_id, retry_after=wait,
                )
            )
            return
        service.rate_limiter.hit(session.address)
        service.address_limiter.hit(client)
        pipeline = service.pipeline
        try:
            if pipeline is None:
                raise RuntimeError("the conversation pipeline is not loaded")
            if not session.stored:
                await asyncio.to_thread(service.sessions.store, session)
            received = await pipeline.receive(
                InboundMessage(
                    channel="webchat",
                    channel_message_id=f"{session.address}:{client_id}",
                    body=body,
                    sender_address=session.address,
                    language=session.language,
                    metadata={"origin": origin},
                )
            )
        except Exception:
            log.exception("web chat: could not store a guest message for session %s", session.address)
            await connection.send(protocol.error_frame("not_stored", client_id=client_id))
            return
        # Only now, with the message committed, may the guest see it as delivered.
        await connection.send(
            {"type": "ack", "client_id": client_id, "message_id": received.message_id, "duplicate": received.duplicate}
        )
        if not received.duplicate:
            await service.connections.push(
                session.address,
                {
                    "type": "message",
                    "id": received.message_id,
                    "sender": "guest",
                    "body": body,
                    "created_at": dt.datetime.now(dt.UTC).isoformat(),
                    "status": "received",
                    "client_id": client_id,
                },
                exclude=connection,
            )


class _BadFrame(Exception):
    def __init__(self, code: str):
        self.code = code


async def _receive_json(ws: falcon.asgi.WebSocket) -> Any:
    try:
        text = await ws.receive_text()
    except falcon.errors.PayloadTypeError:
        raise _BadFrame("bad_frame") from None
    try:
        return protocol.parse_frame(text)
    except protocol.FrameError as exc:
        raise _BadFrame(exc.code) from None


async def _refuse(
    ws: falcon.asgi.WebSocket, code: str, close_code: int, message: str | None = None, **extra: Any
) -> None:
    frame = protocol.error_frame(code, message, fatal=True, **extra)
    try:
        await ws.send_text(json.dumps(frame, ensure_ascii=False))
        await ws.close(close_code, frame["message"][:120])
    except falcon.errors.WebSocketDisconnected:
        pass
