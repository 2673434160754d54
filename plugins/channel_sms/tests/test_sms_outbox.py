"""Through the real pipeline and outbox: a guest texts, the reply goes out via the fake Twilio."""

from __future__ import annotations

from sms_helpers import PUBLIC_URL, guest_texts, replies

from jack_host.testing import running_app, wait_until
from jack_host.testing.fake_twilio import twilio_error_reply

FAST_RETRIES = {"OUTBOX_BACKOFF_SECONDS": "0.05", "OUTBOX_MAX_BACKOFF_SECONDS": "0.2", "OUTBOX_MAX_ATTEMPTS": "3"}


def settled_reply(app):
    done = replies(app)
    return done[0] if done else None


def test_a_reply_that_fails_twice_is_retried_and_sent_with_its_cost(make_sms_app, twilio):
    app = make_sms_app(**FAST_RETRIES)
    twilio.fail_next("POST", "Messages.json", twilio_error_reply(503, 20503, "Service Unavailable"),
                     twilio_error_reply(429, 20429, "Too Many Requests", {"Retry-After": "0"}))
    with running_app(app) as base:
        guest_texts(base, "SM" + "7" * 32, "What time is breakfast?")
        reply = wait_until(lambda: settled_reply(app), timeout=20, what="the AI reply to be sent")
    assert reply.status == "sent", reply.error
    sends = twilio.matching("POST", "Messages.json")
    assert len(sends) == 3
    assert sends[-1].form()["To"] == "+15551234567"
    assert sends[-1].form()["StatusCallback"] == PUBLIC_URL + "/webhooks/sms/status"
    assert reply.provider_message_id == twilio.sent_sids[0]
    # no model configured: the reply is the hand-off text, 113 GSM-7 characters, so one segment at
    # the default rate (a retried send is priced once, as one message)
    assert reply.meta["sms"] == {"segments": 1, "cost_usd": 0.0075, "encoding": "GSM-7"}, reply.body


def test_a_reply_that_always_fails_ends_failed_with_the_reason(make_sms_app, twilio):
    app = make_sms_app(**FAST_RETRIES)
    twilio.fail_next("POST", "Messages.json", *[twilio_error_reply(500, 20500, "Internal Server Error")] * 5)
    with running_app(app) as base:
        guest_texts(base, "SM" + "8" * 32, "Is the pool open?")
        reply = wait_until(lambda: settled_reply(app), timeout=20, what="the AI reply to fail")
    assert reply.status == "failed"
    assert "gave up after 3 attempts" in reply.error and "Internal Server Error (Twilio error 20500)" in reply.error
    assert len(twilio.matching("POST", "Messages.json")) == 3


def test_a_permanent_refusal_fails_at_once_with_twilios_message(make_sms_app, twilio):
    app = make_sms_app(**FAST_RETRIES)
    twilio.fail_next("POST", "Messages.json", twilio_error_reply(400, 21408, "Permission to send an SMS has not been enabled"))
    with running_app(app) as base:
        guest_texts(base, "SM" + "9" * 32, "Hello?")
        reply = wait_until(lambda: settled_reply(app), timeout=20, what="the AI reply to fail")
    assert reply.status == "failed"
    assert reply.error.endswith("Permission to send an SMS has not been enabled (Twilio error 21408)")
    assert len(twilio.matching("POST", "Messages.json")) == 1
