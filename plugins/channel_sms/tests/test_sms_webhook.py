"""``/webhooks/sms`` and ``/webhooks/sms/status`` over real HTTP, signed like Twilio signs them."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from jack_channel_sms.opt_outs import SmsKeywordEvent, SmsOptOut
from sms_helpers import (
    PUBLIC_URL,
    guest_texts,
    inbound_messages,
    inbound_params,
    replies,
    stored_messages,
    twilio_sign,
)
from sqlmodel import Session, select

from jack_host.contract.interfaces import OutboundMessage, PermanentSendError
from jack_host.kit.webhook_metrics import webhook_failure_counts
from jack_host.testing import running_app, wait_until

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def post(base: str, path: str, params: dict[str, str], signature: str | None, headers: dict | None = None) -> httpx.Response:
    headers = dict(headers or {})
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return httpx.post(base + path, data=params, headers=headers, timeout=10)


def test_signed_message_is_stored_once_and_answered_with_empty_twiml(make_sms_app):
    app = make_sms_app()
    params = inbound_params("SM" + "a" * 32, "Can I get a late checkout?")
    signature = twilio_sign(PUBLIC_URL + "/webhooks/sms", params)
    with running_app(app) as base:
        first = post(base, "/webhooks/sms", params, signature)
        retry = post(base, "/webhooks/sms", params, signature)
    for response in (first, retry):
        assert response.status_code == 200
        assert response.text == EMPTY_TWIML
        assert response.headers["content-type"].startswith("text/xml")
    [message] = inbound_messages(app)
    assert (message.channel, message.channel_message_id, message.body) == ("sms", "SM" + "a" * 32, "Can I get a late checkout?")
    assert app.services.conversations.find_conversation_id("sms", "+15551234567") == message.conversation_id


def test_forged_missing_or_wrong_url_signatures_are_refused(make_sms_app):
    app = make_sms_app()
    params = inbound_params("SM" + "b" * 32, "free upgrade please")
    with running_app(app) as base:
        forged = post(base, "/webhooks/sms", params, twilio_sign(PUBLIC_URL + "/webhooks/sms", params, token="guessed"))
        missing = post(base, "/webhooks/sms", params, None)
        # signed for the address the app sees, not the public one Twilio called
        internal = post(base, "/webhooks/sms", params, twilio_sign(base + "/webhooks/sms", params))
        tampered = post(base, "/webhooks/sms", {**params, "Body": "free suite please"},
                        twilio_sign(PUBLIC_URL + "/webhooks/sms", params))
    for response in (forged, missing, internal, tampered):
        assert response.status_code == 401
        assert response.json()["error"] in ("bad_signature", "missing_signature")
    assert stored_messages(app) == []
    assert webhook_failure_counts(app, "sms") == {"sms": {"bad_signature": 3, "missing_signature": 1}}


def test_behind_the_proxy_without_public_url_the_forwarded_https_url_is_signed(make_sms_app):
    app = make_sms_app(PUBLIC_URL=None)
    params = inbound_params("SM" + "c" * 32, "Hello from behind nginx")
    proxy_headers = {"X-Forwarded-Proto": "https", "Host": "jack.yourhotel.com"}
    with running_app(app) as base:
        ok = post(base, "/webhooks/sms", params, twilio_sign("https://jack.yourhotel.com/webhooks/sms", params), proxy_headers)
        http_signed = post(base, "/webhooks/sms", params, twilio_sign("http://jack.yourhotel.com/webhooks/sms", params),
                           proxy_headers)
    assert ok.status_code == 200, ok.text
    assert http_signed.status_code == 401
    assert len(inbound_messages(app)) == 1
    # the proven public address is used for delivery reports
    assert app.channels["sms"].status_callback() == "https://jack.yourhotel.com/webhooks/sms/status"


def test_stop_opts_out_without_an_ai_reply_and_start_opts_back_in(make_sms_app, twilio):
    app = make_sms_app()
    channel = app.channels["sms"]
    reply = OutboundMessage(message_id=1, conversation_id=1, guest_address="+15551234567", body="Your taxi is here", sender="staff")
    with running_app(app) as base:
        stop = inbound_params("SM" + "d" * 32, "  Stop ")
        for _delivery in range(2):  # Twilio retrying the STOP changes nothing
            response = post(base, "/webhooks/sms", stop, twilio_sign(PUBLIC_URL + "/webhooks/sms", stop))
            assert response.status_code == 200 and response.text == EMPTY_TWIML
        assert stored_messages(app) == []  # nothing for the AI to answer
        with Session(app.engine) as session:
            entry = session.get(SmsOptOut, "+15551234567")
            events = session.exec(select(SmsKeywordEvent)).all()
        assert (entry.opted_out, entry.keyword) == (True, "STOP")
        assert [(e.message_sid, e.phone, e.action) for e in events] == [("SM" + "d" * 32, "+15551234567", "opt_out")]

        with pytest.raises(PermanentSendError, match="^guest opted out of SMS$"):
            asyncio.run(channel.send(reply))
        assert twilio.matching("POST") == []

        start = inbound_params("SM" + "e" * 32, "UNSTOP")
        assert post(base, "/webhooks/sms", start, twilio_sign(PUBLIC_URL + "/webhooks/sms", start)).status_code == 200
        asyncio.run(channel.send(reply))
        assert len(twilio.matching("POST", "Messages.json")) == 1
    with Session(app.engine) as session:
        entry = session.get(SmsOptOut, "+15551234567")
        assert (entry.opted_out, entry.keyword) == (False, "UNSTOP")
        assert len(session.exec(select(SmsKeywordEvent)).all()) == 2


@pytest.mark.parametrize("word", ["STOPALL", "unsubscribe", "Cancel", "END", "quit."])
def test_every_carrier_stop_synonym_opts_out(make_sms_app, word):
    app = make_sms_app()
    params = inbound_params("SM" + "f" * 32, word)
    with running_app(app) as base:
        assert post(base, "/webhooks/sms", params, twilio_sign(PUBLIC_URL + "/webhooks/sms", params)).status_code == 200
    with Session(app.engine) as session:
        assert session.get(SmsOptOut, "+15551234567").opted_out is True
    assert stored_messages(app) == []


def test_a_sentence_containing_stop_is_an_ordinary_message(make_sms_app):
    app = make_sms_app()
    params = inbound_params("SM" + "1" * 32, "please stop the music in room 12")
    with running_app(app) as base:
        assert post(base, "/webhooks/sms", params, twilio_sign(PUBLIC_URL + "/webhooks/sms", params)).status_code == 200
    assert [m.body for m in inbound_messages(app)] == ["please stop the music in room 12"]


def test_help_is_answered_with_the_hotels_help_text_once(make_sms_app):
    app = make_sms_app()
    params = inbound_params("SM" + "2" * 32, "help")
    with running_app(app) as base:
        first = post(base, "/webhooks/sms", params, twilio_sign(PUBLIC_URL + "/webhooks/sms", params))
        retry = post(base, "/webhooks/sms", params, twilio_sign(PUBLIC_URL + "/webhooks/sms", params))
    assert first.status_code == 200
    assert first.text.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Message>Hotel Mirador: ')
    assert "STOP to stop messages" in first.text and first.text.endswith("</Message></Response>")
    assert retry.text == EMPTY_TWIML
    assert stored_messages(app) == []


def test_mms_media_is_kept_in_meta(make_sms_app):
    app = make_sms_app()
    params = inbound_params("MM" + "3" * 32, "the shower leaks", NumMedia="1",
                            MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
                            MediaContentType0="image/jpeg")
    with running_app(app) as base:
        assert post(base, "/webhooks/sms", params, twilio_sign(PUBLIC_URL + "/webhooks/sms", params)).status_code == 200
    [message] = inbound_messages(app)
    assert message.body == "[image] the shower leaks"
    assert message.meta["media"] == [{"url": params["MediaUrl0"], "content_type": "image/jpeg"}]


def test_delivery_reports_update_the_message(make_sms_app, twilio):
    app = make_sms_app()
    url = PUBLIC_URL + "/webhooks/sms/status"

    def report(base: str, sid: str, status: str, token: str | None = None, **extra: str) -> httpx.Response:
        params = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status, "AccountSid": "AC1",
                  "To": "+15551234567", "From": "+15550100200", "ApiVersion": "2010-04-01", **extra}
        response = post(base, "/webhooks/sms/status", params, twilio_sign(url, params, **({"token": token} if token else {})))
        if token is None:
            assert response.status_code == 200 and response.text == EMPTY_TWIML
        return response

    def status_of(message_id: int):
        return next(m for m in stored_messages(app) if m.id == message_id)

    with running_app(app) as base:
        guest_texts(base, "SM" + "5" * 32, "Hello")
        reply = wait_until(lambda: replies(app), what="the reply to be sent")[0]
        assert reply.status == "sent"
        report(base, reply.provider_message_id, "queued")  # late: never backwards
        assert status_of(reply.id).status == "sent"
        report(base, reply.provider_message_id, "delivered")
        assert status_of(reply.id).status == "delivered"
        assert report(base, reply.provider_message_id, "failed", token="forged", ErrorCode="30003").status_code == 401
        assert status_of(reply.id).status == "delivered"

        guest_texts(base, "SM" + "6" * 32, "Are you there?", sender="+15557654321")  # another guest
        second = wait_until(lambda: len(replies(app)) == 2 and replies(app)[1], what="the second reply")
        report(base, second.provider_message_id, "undelivered", ErrorCode="30003")
    failed = status_of(second.id)
    assert failed.status == "failed"
    assert failed.error == "Twilio undelivered: error 30003"


def test_without_auth_token_webhooks_are_refused(make_sms_app):
    app = make_sms_app(TWILIO_AUTH_TOKEN=None)
    params = inbound_params("SM" + "4" * 32, "hi")
    with running_app(app) as base:
        response = post(base, "/webhooks/sms", params, "anything")
    assert response.status_code == 503
    assert "TWILIO_AUTH_TOKEN" in response.json()["detail"]
    assert stored_messages(app) == []
