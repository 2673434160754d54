"""Outbound WhatsApp messages and health, against the loopback fake Graph API."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from whatsapp_helpers import PHONE_NUMBER_ID

from jack_host.contract.interfaces import OutboundMessage, PermanentSendError, TransientSendError
from jack_host.kit.webhook_metrics import webhook_failure_counts
from jack_host.testing.fake_whatsapp import graph_error
from jack_host.testing.loopback import Reply


def outbound(body: str = "Breakfast is served 7-10 in the garden room.", hours_ago: float | None = 1) -> OutboundMessage:
    metadata = {"guest_id": 1, "language": "en"}
    if hours_ago is not None:
        last = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago)
        metadata["last_guest_message_at"] = last.isoformat()
    return OutboundMessage(message_id=7, conversation_id=3, guest_address="+15551234567", body=body, sender="ai",
                           metadata=metadata)


def test_text_reply_inside_the_window_posts_the_documented_request(make_wa_app, graph):
    app = make_wa_app()
    result = asyncio.run(app.channels["whatsapp"].send(outbound()))
    [request] = graph.matching("POST")
    assert request.path == f"/v21.0/{PHONE_NUMBER_ID}/messages"
    assert request.headers["authorization"] == "Bearer test-access-token"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "15551234567",
        "type": "text",
        "text": {"preview_url": False, "body": "Breakfast is served 7-10 in the garden room."},
    }
    assert result.provider_message_id == graph.sent_ids[0]
    assert result.metadata == {}


def test_reply_outside_the_24_hour_window_becomes_the_approved_template(make_wa_app, graph):
    app = make_wa_app(WHATSAPP_TEMPLATE_NAME="hotel_followup", WHATSAPP_TEMPLATE_LANGUAGE="pt_PT")
    result = asyncio.run(app.channels["whatsapp"].send(outbound(hours_ago=25)))
    [request] = graph.matching("POST")
    assert request.json()["type"] == "template"
    assert request.json()["template"] == {"name": "hotel_followup", "language": {"code": "pt_PT"}}
    assert "text" not in request.json()
    assert result.metadata == {"template": "hotel_followup"}
    assert result.provider_message_id == graph.sent_ids[0]


def test_no_guest_message_at_all_counts_as_outside_the_window(make_wa_app, graph):
    app = make_wa_app(WHATSAPP_TEMPLATE_NAME="hotel_followup")
    result = asyncio.run(app.channels["whatsapp"].send(outbound(hours_ago=None)))
    assert result.metadata == {"template": "hotel_followup"}


def test_outside_the_window_without_a_template_fails_with_a_clear_reason(make_wa_app, graph):
    app = make_wa_app()
    with pytest.raises(PermanentSendError, match="24-hour customer-service window.*WHATSAPP_TEMPLATE_NAME is not set"):
        asyncio.run(app.channels["whatsapp"].send(outbound(hours_ago=30)))
    assert graph.matching("POST") == []


def test_meta_saying_the_window_closed_falls_back_to_the_template(make_wa_app, graph):
    app = make_wa_app(WHATSAPP_TEMPLATE_NAME="hotel_followup")
    graph.fail_next("POST", "/messages", graph_error(400, "(#131047) Re-engagement message", 131047))
    result = asyncio.run(app.channels["whatsapp"].send(outbound(hours_ago=23.99)))
    first, second = graph.matching("POST")
    assert first.json()["type"] == "text" and second.json()["type"] == "template"
    assert result.metadata == {"template": "hotel_followup"}


def test_429_and_5xx_are_transient_and_honour_retry_after(make_wa_app, graph):
    app = make_wa_app()
    channel = app.channels["whatsapp"]
    graph.fail_next("POST", "/messages", Reply(429, {"error": {"message": "(#130429) Rate limit hit", "code": 130429}},
                                               {"Retry-After": "7"}))
    with pytest.raises(TransientSendError, match="Rate limit hit") as busy:
        asyncio.run(channel.send(outbound()))
    assert busy.value.retry_after == 7
    graph.fail_next("POST", "/messages", graph_error(503, "Service temporarily unavailable", 2))
    with pytest.raises(TransientSendError, match="HTTP 503") as down:
        asyncio.run(channel.send(outbound()))
    assert down.value.retry_after is None
    assert webhook_failure_counts(app, "whatsapp")["whatsapp"]["send_failure"] == 2


def test_4xx_is_permanent_with_the_providers_message(make_wa_app, graph):
    app = make_wa_app()
    graph.fail_next("POST", "/messages", graph_error(400, "(#131030) Recipient phone number not in allowed list", 131030))
    with pytest.raises(PermanentSendError, match=r"Recipient phone number not in allowed list \[code 131030\]"):
        asyncio.run(app.channels["whatsapp"].send(outbound()))


def test_network_errors_are_transient(make_wa_app):
    app = make_wa_app(WHATSAPP_API_URL="http://127.0.0.1:9/v21.0")
    with pytest.raises(TransientSendError, match="could not reach"):
        asyncio.run(app.channels["whatsapp"].send(outbound()))


def test_health_is_connected_only_after_an_authenticated_call(make_wa_app, graph):
    app = make_wa_app()
    health = asyncio.run(app.channels["whatsapp"].health())
    assert health.state == "connected", health.detail
    [request] = graph.matching("GET")
    assert request.path == f"/v21.0/{PHONE_NUMBER_ID}"
    assert request.headers["authorization"] == "Bearer test-access-token"

    bad_token = make_wa_app(WHATSAPP_ACCESS_TOKEN="expired-token")
    health = asyncio.run(bad_token.channels["whatsapp"].health())
    assert health.state == "error"
    assert "rejected the credentials" in health.detail and "Invalid OAuth access token" in health.detail

    unreachable = make_wa_app(WHATSAPP_API_URL="http://127.0.0.1:9/v21.0")
    health = asyncio.run(unreachable.channels["whatsapp"].health())
    assert health.state == "error" and "cannot reach" in health.detail

    unconfigured = make_wa_app(WHATSAPP_ACCESS_TOKEN=None, WHATSAPP_PHONE_NUMBER_ID=None)
    health = asyncio.run(unconfigured.channels["whatsapp"].health())
    assert health.state == "not_configured"
    assert "WHATSAPP_ACCESS_TOKEN" in health.detail


def test_health_in_the_health_document_comes_from_the_monitor(make_wa_app, graph):
    import httpx

    from jack_host.testing import running_app

    app = make_wa_app()
    with running_app(app) as base:
        document = httpx.get(base + "/health").json()
    assert document["channels"]["whatsapp"] == "connected"
    assert document["channel_details"]["whatsapp"] == "the Graph API accepted the access token for the hotel's number"


def test_the_public_health_document_names_no_whatsapp_number(make_wa_app, graph):
    import httpx

    from jack_host.testing import running_app

    with running_app(make_wa_app()) as base:
        response = httpx.get(base + "/health")  # no credentials: anyone on the internet
    assert response.json()["channels"]["whatsapp"] == "connected"
    for identifier in ("+1 555-0100", "5550100", PHONE_NUMBER_ID, "Hotel Test"):
        assert identifier not in response.text
