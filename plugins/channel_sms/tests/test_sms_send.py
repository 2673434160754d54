"""Outbound SMS against the loopback fake Twilio: the exact request, errors, cost, health."""

from __future__ import annotations

import asyncio

import pytest
from jack_channel_sms.segments import count_segments
from sms_helpers import ACCOUNT_SID, AUTH_TOKEN, HOTEL_NUMBER, PUBLIC_URL

from jack_host.contract.interfaces import OutboundMessage, PermanentSendError, TransientSendError
from jack_host.kit.webhook_metrics import webhook_failure_counts
from jack_host.testing.fake_twilio import twilio_error_reply


def outbound(body: str = "Your room 412 is ready.", to: str = "+15551234567") -> OutboundMessage:
    return OutboundMessage(message_id=9, conversation_id=2, guest_address=to, body=body, sender="ai",
                           metadata={"guest_id": 1, "language": "en"})


def test_send_posts_the_documented_form_with_basic_auth(make_sms_app, twilio):
    app = make_sms_app()
    result = asyncio.run(app.channels["sms"].send(outbound()))
    [request] = twilio.matching("POST")
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    import base64

    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form() == {"To": "+15551234567", "From": HOTEL_NUMBER, "Body": "Your room 412 is ready.",
                              "StatusCallback": PUBLIC_URL + "/webhooks/sms/status"}
    assert result.provider_message_id == twilio.sent_sids[0]
    assert result.metadata == {"sms": {"segments": 1, "cost_usd": 0.0075, "encoding": "GSM-7"}}


def test_messaging_service_and_cost_from_the_costs_file(make_sms_app, twilio, tmp_path):
    (tmp_path / "costs.yaml").write_text("costs:\n  sms:\n    monthly_budget: 500\n    per_message_cost: 0.01\n")
    app = make_sms_app(TWILIO_MESSAGING_SERVICE_SID="MG" + "9" * 32, TWILIO_PHONE_NUMBER=None)
    body = "Ä" * 100 + "€" * 40  # GSM-7: 100 + 80 septets -> 2 segments
    result = asyncio.run(app.channels["sms"].send(outbound(body)))
    form = twilio.matching("POST")[0].form()
    assert form["MessagingServiceSid"] == "MG" + "9" * 32 and "From" not in form
    assert result.metadata["sms"] == {"segments": 2, "cost_usd": 0.02, "encoding": "GSM-7"}


def test_a_non_gsm_text_is_priced_per_ucs2_segment(make_sms_app, twilio):
    app = make_sms_app()
    body = "Ваш номер 412 готов. " * 4  # 84 characters outside GSM-7: UCS-2, 67 per part -> 2 segments
    result = asyncio.run(app.channels["sms"].send(outbound(body)))
    assert twilio.matching("POST")[0].form()["Body"] == body
    assert result.metadata["sms"] == {"segments": 2, "cost_usd": 0.015, "encoding": "UCS-2"}


def test_national_numbers_get_the_default_country_code(make_sms_app, twilio):
    app = make_sms_app(DEFAULT_COUNTRY_CODE="44")
    asyncio.run(app.channels["sms"].send(outbound(to="07700 900123")))
    assert twilio.matching("POST")[0].form()["To"] == "+447700900123"


def test_429_and_5xx_are_transient_4xx_permanent_with_twilios_message(make_sms_app, twilio):
    app = make_sms_app()
    channel = app.channels["sms"]
    twilio.fail_next("POST", "Messages.json",
                     twilio_error_reply(429, 20429, "Too Many Requests", {"Retry-After": "3"}),
                     twilio_error_reply(500, 20500, "Internal Server Error"),
                     twilio_error_reply(400, 21211, "Invalid 'To' Phone Number: +1555"))
    with pytest.raises(TransientSendError, match="Too Many Requests") as busy:
        asyncio.run(channel.send(outbound()))
    assert busy.value.retry_after == 3
    with pytest.raises(TransientSendError, match="HTTP 500"):
        asyncio.run(channel.send(outbound()))
    with pytest.raises(PermanentSendError, match=r"Invalid 'To' Phone Number: \+1555 \(Twilio error 21211\)"):
        asyncio.run(channel.send(outbound()))
    assert webhook_failure_counts(app, "sms")["sms"]["send_failure"] == 3


def test_twilio_saying_unsubscribed_records_the_opt_out(make_sms_app, twilio):
    app = make_sms_app()
    twilio.fail_next("POST", "Messages.json", twilio_error_reply(400, 21610, "Attempt to send to unsubscribed recipient"))
    with pytest.raises(PermanentSendError, match="guest opted out of SMS"):
        asyncio.run(app.channels["sms"].send(outbound()))
    with pytest.raises(PermanentSendError, match="guest opted out of SMS"):
        asyncio.run(app.channels["sms"].send(outbound()))
    assert len(twilio.matching("POST")) == 1  # the second attempt never reached Twilio


def test_health_is_connected_only_after_an_authenticated_call(make_sms_app, twilio):
    app = make_sms_app()
    health = asyncio.run(app.channels["sms"].health())
    assert health.state == "connected" and health.detail == "the Twilio account is active"
    [request] = twilio.matching("GET")
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}.json"

    wrong = make_sms_app(TWILIO_AUTH_TOKEN="rotated-token")
    health = asyncio.run(wrong.channels["sms"].health())
    assert health.state == "error" and "rejected the credentials" in health.detail and "Authenticate" in health.detail

    missing = make_sms_app(TWILIO_PHONE_NUMBER=None)
    health = asyncio.run(missing.channels["sms"].health())
    assert health.state == "not_configured" and "TWILIO_PHONE_NUMBER" in health.detail


def test_the_public_health_document_names_no_twilio_account_or_number(make_sms_app, twilio):
    import httpx

    from jack_host.testing import running_app

    with running_app(make_sms_app()) as base:
        response = httpx.get(base + "/health")  # no credentials: anyone on the internet
    assert response.json()["channels"]["sms"] == "connected"
    assert response.json()["channel_details"]["sms"] == "the Twilio account is active"
    for identifier in (ACCOUNT_SID, "Hotel Test", HOTEL_NUMBER, HOTEL_NUMBER.lstrip("+")):
        assert identifier not in response.text


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension characters take two septets
        ("€" * 81, 2),
        ("a" * 152 + "€", 1),  # 154 septets fit one message
        ("a" * 152 + "€" + "a" * 152, 3),  # 306 septets, but the escape pair may not straddle two parts
        ("ł" * 70, 1),  # not GSM-7: UCS-2
        ("ł" * 71, 2),
        ("ł" * 134, 2),
        ("ł" * 135, 3),
        ("Thanks! 🙂" + "a" * 60, 1),  # 8 + a surrogate pair (2 UTF-16 units) + 60 = 70 units
        ("🙂" * 35, 1),
        ("🙂" * 36, 2),
    ],
)
def test_segment_counts(text, segments):
    assert count_segments(text) == segments
