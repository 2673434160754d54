"""``/webhooks/whatsapp``: Meta's verification handshake (GET) and signed notifications (POST)."""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import TYPE_CHECKING

import falcon
import falcon.asgi

from jack_channel_whatsapp.payload import PayloadError, parse_webhook
from jack_channel_whatsapp.signature import signature_is_valid
from jack_host.contract.interfaces import Inbox
from jack_host.kit.webhook_metrics import count_webhook_failure

if TYPE_CHECKING:
    from jack_channel_whatsapp.channel import WhatsappChannel

log = logging.getLogger("jack.whatsapp")


class WhatsappWebhook:
    #: Meta: "Webhooks payloads can be up to 3MB" (Cloud API, Set up webhooks); bigger bodies are 413, unread.
    max_body_bytes = 3 * 1024 * 1024

    def __init__(self, channel: WhatsappChannel):
        self.channel = channel
        self.app = channel.app

    def _fail(self, reason: str) -> None:
        count_webhook_failure(self.app, "whatsapp", reason)

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        mode = req.get_param("hub.mode")
        token = req.get_param("hub.verify_token") or ""
        challenge = req.get_param("hub.challenge")
        if mode != "subscribe" or challenge is None:
            raise falcon.HTTPBadRequest(
                title="bad_request", description="expected hub.mode=subscribe, hub.verify_token and hub.challenge"
            )
        expected = self.channel.setting("WHATSAPP_VERIFY_TOKEN")
        if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
            self._fail("bad_verify_token")
            raise falcon.HTTPForbidden(
                title="forbidden",
                description="hub.verify_token does not match WHATSAPP_VERIFY_TOKEN" if expected
                else "WHATSAPP_VERIFY_TOKEN is not set",
            )
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = challenge

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        refusal = self.channel.webhook_refusal()
        if refusal:
            self._fail("not_configured")
            raise falcon.HTTPServiceUnavailable(title="not_configured", description=refusal)
        # Meta sends JSON only; anything else is refused before the body is read.
        media_type, _ = falcon.parse_header(req.content_type or "")
        if media_type.strip().lower() != "application/json":
            self._fail("unsupported_media_type")
            raise falcon.HTTPUnsupportedMediaType(
                title="unsupported_media_type",
                description=f"send Content-Type: application/json (got {media_type[:80] or 'none'})",
            )
        body = await req.stream.read()
        secret = self.channel.setting("WHATSAPP_APP_SECRET")
        if secret:
            header = req.get_header("X-Hub-Signature-256")
            if not header:
                self._fail("missing_signature")
                raise falcon.HTTPUnauthorized(title="missing_signature", description="X-Hub-Signature-256 header is missing")
            if not signature_is_valid(secret, body, header):
                self._fail("bad_signature")
                raise falcon.HTTPUnauthorized(
                    title="bad_signature", description="X-Hub-Signature-256 does not match the body signed with the app secret"
                )
        try:
            # In a thread: parsing up to 3 MB of JSON must not hold up the event loop.
            batch = await asyncio.to_thread(parse_webhook, body, self.channel.setting("WHATSAPP_PHONE_NUMBER_ID"))
        except PayloadError as exc:
            self._fail("parse_error")
            raise falcon.HTTPBadRequest(title="malformed_payload", description=str(exc)) from None
        pipeline = self.app.services.find(Inbox)
        if pipeline is None:
            self._fail("no_pipeline")
            raise falcon.HTTPServiceUnavailable(title="unavailable", description="the conversation pipeline is not running")
        stored = duplicates = 0
        try:
            for message in batch.messages:
                received = await pipeline.receive(message)
                duplicates += int(received.duplicate)
                stored += int(not received.duplicate)
            for update in batch.statuses:
                if not await pipeline.update_delivery_status("whatsapp", update.provider_message_id, update.status, update.error):
                    log.info("WhatsApp status %s for unknown message %s", update.status, update.provider_message_id)
        except Exception:
            # Not 2xx: Meta retries, and the messages already stored come back as duplicates.
            self._fail("store_error")
            log.exception("storing a WhatsApp webhook failed")
            raise falcon.HTTPServiceUnavailable(title="store_failed", description="could not store the messages; retry later") from None
        if batch.ignored:
            log.info("WhatsApp webhook: ignored %s", ", ".join(batch.ignored))
        resp.media = {"received": stored, "duplicates": duplicates, "statuses": len(batch.statuses)}
