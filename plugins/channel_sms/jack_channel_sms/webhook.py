"""``/webhooks/sms`` (incoming SMS) and ``/webhooks/sms/status`` (delivery reports) from Twilio."""

from __future__ import annotations

import logging
import urllib.parse
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

import falcon
import falcon.asgi

from jack_channel_sms import opt_outs
from jack_channel_sms.keywords import keyword_action
from jack_channel_sms.settings import DEFAULT_HELP_TEXT
from jack_channel_sms.signature import signature_is_valid
from jack_host.contract.interfaces import InboundMessage, Inbox
from jack_host.kit.phone import InvalidPhoneNumber
from jack_host.kit.text_hygiene import clean_inbound
from jack_host.kit.webhook_metrics import count_webhook_failure

if TYPE_CHECKING:
    from jack_channel_sms.channel import SmsChannel

log = logging.getLogger("jack.sms")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
#: Twilio's MessageStatus -> the pipeline's delivery status.
STATUSES = {
    "accepted": "queued", "scheduled": "queued", "queued": "queued",
    "sending": "sent", "sent": "sent",
    "delivered": "delivered", "read": "read",
    "undelivered": "failed", "failed": "failed", "canceled": "failed",
}


def twiml(reply: str | None = None) -> str:
    if not reply:
        return EMPTY_TWIML
    return f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{escape(reply)}</Message></Response>'


#: Twilio: "up to 10 media files" per message; NumMedia beyond that is not from Twilio.
MAX_MEDIA = 10


class _SignedTwilioResource:
    # Twilio's form: a Body of at most 1,600 characters and at most 10 MediaUrl/MediaContentType
    # pairs, percent-encoded, is under 30 KB; 64 KiB leaves room for the parameters Twilio adds.
    max_body_bytes = 64 * 1024

    def __init__(self, channel: SmsChannel):
        self.channel = channel
        self.app = channel.app

    def _fail(self, reason: str) -> None:
        count_webhook_failure(self.app, "sms", reason)

    async def verified_params(self, req: falcon.asgi.Request) -> list[tuple[str, str]]:
        """The POST parameters, once the signature over the public URL checks out."""
        token = self.channel.setting("TWILIO_AUTH_TOKEN")
        if not token:
            self._fail("not_configured")
            raise falcon.HTTPServiceUnavailable(
                title="not_configured", description="TWILIO_AUTH_TOKEN is not set, so Twilio signatures cannot be checked"
            )
        body = (await req.stream.read()).decode("utf-8", errors="replace")
        if not (req.content_type or "").startswith("application/x-www-form-urlencoded"):
            self._fail("parse_error")
            raise falcon.HTTPBadRequest(title="malformed_payload",
                                        description="expected an application/x-www-form-urlencoded body from Twilio")
        params = urllib.parse.parse_qsl(body, keep_blank_values=True)
        signature = req.get_header("X-Twilio-Signature")
        base = self.app.public_url(req)
        url = base + req.path + (f"?{req.query_string}" if req.query_string else "")
        if not signature:
            self._fail("missing_signature")
            raise falcon.HTTPUnauthorized(title="missing_signature", description="X-Twilio-Signature header is missing")
        if not signature_is_valid(token, url, params, signature):
            self._fail("bad_signature")
            raise falcon.HTTPUnauthorized(
                title="bad_signature",
                description=f"X-Twilio-Signature does not match this request signed for {url} with the auth token",
            )
        self.channel.seen_public_url = base
        return params

    def pipeline(self) -> Inbox:
        pipeline = self.app.services.find(Inbox)
        if pipeline is None:
            self._fail("no_pipeline")
            raise falcon.HTTPServiceUnavailable(title="unavailable", description="the conversation pipeline is not running")
        return pipeline

    @staticmethod
    def answer(resp: falcon.asgi.Response, reply: str | None = None) -> None:
        resp.content_type = "text/xml"
        resp.text = twiml(reply)


class SmsWebhook(_SignedTwilioResource):
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        params = dict(await self.verified_params(req))
        sid = params.get("MessageSid") or params.get("SmsSid")
        if not sid or not params.get("From"):
            self._fail("parse_error")
            raise falcon.HTTPBadRequest(title="malformed_payload", description="expected MessageSid and From parameters")
        try:
            phone = self.channel.normalise(params["From"])
        except InvalidPhoneNumber as exc:
            self._fail("parse_error")
            raise falcon.HTTPBadRequest(title="malformed_payload", description=f"From: {exc}") from None
        body, cut = clean_inbound(params.get("Body", ""), "sms")  # no control characters, at most 1600 characters
        action = keyword_action(body)
        if action is not None:
            self.answer(resp, self.handle_keyword(sid, phone, action, body))
            return
        message = InboundMessage(channel="sms", channel_message_id=sid, body=body, sender_phone=phone,
                                 metadata=media_meta(params) | ({"truncated": True} if cut else {}))
        if message.metadata.get("media"):
            kinds = " ".join(f"[{m['content_type'].split('/')[0]}]" for m in message.metadata["media"])
            message.body = f"{kinds} {body}".strip()
        pipeline = self.pipeline()
        try:
            await pipeline.receive(message)
        except Exception:
            self._fail("store_error")
            log.exception("storing SMS %s failed", sid)
            raise falcon.HTTPServiceUnavailable(title="store_failed", description="could not store the message; retry later") from None
        self.answer(resp)

    def handle_keyword(self, sid: str, phone: str, action: str, body: str) -> str | None:
        """STOP/START change the opt-out (no AI reply); HELP gets the help text, once per message."""
        first_time = opt_outs.apply_keyword(self.app.engine, sid, phone, action, body.strip().upper())
        log.info("SMS keyword %s from %s (%s)", action, phone, "handled" if first_time else "repeat delivery ignored")
        if action == "help" and first_time:
            text = self.channel.setting("SMS_HELP_TEXT") or DEFAULT_HELP_TEXT
            return text.replace("{hotel}", str(self.app.settings.get("HOTEL_NAME") or "Our hotel"))
        return None


class SmsStatusWebhook(_SignedTwilioResource):
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        params = dict(await self.verified_params(req))
        sid = params.get("MessageSid") or params.get("SmsSid")
        twilio_status = (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
        if not sid or not twilio_status:
            self._fail("parse_error")
            raise falcon.HTTPBadRequest(title="malformed_payload", description="expected MessageSid and MessageStatus parameters")
        status = STATUSES.get(twilio_status)
        if status is not None:
            error = None
            if status == "failed":
                code = params.get("ErrorCode")
                error = f"Twilio {twilio_status}" + (f": error {code}" if code else "")
                if params.get("ErrorMessage"):
                    error += f" ({params['ErrorMessage']})"
            if not await self.pipeline().update_delivery_status("sms", sid, status, error):
                log.info("SMS status %s for unknown message %s", twilio_status, sid)
        self.answer(resp)


def media_meta(params: dict[str, str]) -> dict:
    """MMS attachments: Twilio's media URLs and content types (at most :data:`MAX_MEDIA`)."""
    try:
        count = min(int(params.get("NumMedia") or 0), MAX_MEDIA)
    except ValueError:
        count = 0
    media = [
        {"url": params.get(f"MediaUrl{i}"), "content_type": params.get(f"MediaContentType{i}") or "application/octet-stream"}
        for i in range(count)
        if params.get(f"MediaUrl{i}")
    ]
    return {"media": media} if media else {}
