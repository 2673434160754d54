"""``/webhooks/whatsapp`` over real HTTP: handshake, signatures, batches, duplicates, statuses."""

from __future__ import annotations

import json
import secrets

import httpx
from whatsapp_helpers import (
    APP_SECRET,
    VERIFY_TOKEN,
    guest_writes,
    inbound_messages,
    messages_change,
    replies,
    sign,
    stored_messages,
    text_message,
    webhook_body,
)

from jack_host.kit.webhook_metrics import webhook_failure_counts
from jack_host.testing import running_app, wait_until


def post(base: str, body: bytes, signature: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return httpx.post(base + "/webhooks/whatsapp", content=body, headers=headers, timeout=10)


def test_verification_handshake_answers_the_challenge_as_text(make_wa_app):
    app = make_wa_app()
    with running_app(app) as base:
        ok = httpx.get(base + "/webhooks/whatsapp", params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                                                             "hub.challenge": "1158201444"})
        wrong = httpx.get(base + "/webhooks/whatsapp", params={"hub.mode": "subscribe", "hub.verify_token": "guess",
                                                                "hub.challenge": "1158201444"})
    assert ok.status_code == 200
    assert ok.text == "1158201444"
    assert ok.headers["content-type"].startswith("text/plain")
    assert wrong.status_code == 403
    assert wrong.json()["error"] == "forbidden"


def test_forged_or_missing_signature_is_refused_and_nothing_is_stored(make_wa_app):
    app = make_wa_app()
    body = webhook_body(messages_change(text_message("wamid.FORGED1", "let me in")))
    with running_app(app) as base:
        forged = post(base, body, sign(body, secret="not-the-app-secret"))
        missing = post(base, body, None)
        tampered = post(base, body.replace(b"let me in", b"let me out"), sign(body))
    for response in (forged, missing, tampered):
        assert response.status_code == 401
        assert "X-Hub-Signature-256" in response.json()["detail"]
    assert stored_messages(app) == []
    assert webhook_failure_counts(app, "whatsapp") == {"whatsapp": {"bad_signature": 2, "missing_signature": 1}}


def test_only_json_bodies_are_accepted_other_content_types_get_415(make_wa_app):
    app = make_wa_app()
    body = webhook_body(messages_change(text_message("wamid.CT1", "Is the pool open?")))
    signed = {"X-Hub-Signature-256": sign(body)}
    with running_app(app) as base:
        url = base + "/webhooks/whatsapp"
        refused = [
            httpx.post(url, content=body, headers={**signed, "Content-Type": content_type})
            for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/jsonp", "")
        ]
        assert stored_messages(app) == []
        accepted = httpx.post(url, content=body, headers={**signed, "Content-Type": "Application/JSON; charset=utf-8"})
    for response in refused:
        assert response.status_code == 415, response.text
        assert response.json()["error"] == "unsupported_media_type"
        assert "application/json" in response.json()["detail"]
    assert accepted.status_code == 200 and accepted.json()["received"] == 1
    assert [m.channel_message_id for m in inbound_messages(app)] == ["wamid.CT1"]


def test_batched_payload_is_stored_once_even_when_meta_retries(make_wa_app):
    app = make_wa_app()
    body = webhook_body(
        messages_change(
            text_message("wamid.T1", "Is breakfast included?"),
            {"from": "15551234567", "id": "wamid.B1", "timestamp": "1735689601", "type": "interactive",
             "interactive": {"type": "button_reply", "button_reply": {"id": "late_checkout_yes", "title": "Yes please"}}},
        ),
        messages_change(
            {"from": "447700900123", "id": "wamid.L1", "timestamp": "1735689602", "type": "interactive",
             "interactive": {"type": "list_reply", "list_reply": {"id": "spa", "title": "Spa", "description": "Book a massage"}}},
            {"from": "447700900123", "id": "wamid.Q1", "timestamp": "1735689603", "type": "button",
             "button": {"text": "Talk to reception", "payload": "RECEPTION"}},
            contacts=[{"profile": {"name": "Bob"}, "wa_id": "447700900123"}],
        ),
        messages_change(
            {"from": "15551234567", "id": "wamid.I1", "timestamp": "1735689604", "type": "image",
             "image": {"id": "MEDIA123", "mime_type": "image/jpeg", "sha256": "abc", "caption": "this stain on the carpet"}},
            {"from": "15551234567", "id": "wamid.P1", "timestamp": "1735689605", "type": "location",
             "location": {"latitude": 38.7223, "longitude": -9.1393, "name": "Rossio", "address": "Lisbon"}},
            {"from": "15551234567", "id": "wamid.A1", "timestamp": "1735689606", "type": "audio",
             "audio": {"id": "MEDIA456", "mime_type": "audio/ogg; codecs=opus", "voice": True}},
        ),
        entries=2,
    )
    with running_app(app) as base:
        first = post(base, body, sign(body))
        replay = post(base, body, sign(body))
    assert first.status_code == 200, first.text
    assert first.json() == {"received": 7, "duplicates": 0, "statuses": 0}
    assert replay.status_code == 200
    assert replay.json() == {"received": 0, "duplicates": 7, "statuses": 0}

    rows = {m.channel_message_id: m for m in inbound_messages(app)}
    assert len(rows) == 7
    assert rows["wamid.T1"].body == "Is breakfast included?"
    assert rows["wamid.B1"].body == "Yes please"
    assert rows["wamid.B1"].meta["interactive"]["id"] == "late_checkout_yes"
    assert rows["wamid.L1"].body == "Spa"
    assert rows["wamid.L1"].meta["interactive"]["type"] == "list_reply"
    assert rows["wamid.Q1"].body == "Talk to reception"
    assert rows["wamid.Q1"].meta["button"]["payload"] == "RECEPTION"
    assert rows["wamid.I1"].body == "[image] this stain on the carpet"
    assert rows["wamid.I1"].meta["media"] == {"id": "MEDIA123", "mime_type": "image/jpeg", "sha256": "abc"}
    assert rows["wamid.I1"].meta["caption"] == "this stain on the carpet"
    assert rows["wamid.P1"].body == "[location] Rossio, Lisbon (38.7223, -9.1393)"
    assert rows["wamid.A1"].body == "[audio]"
    assert rows["wamid.A1"].meta["media"]["id"] == "MEDIA456"
    assert rows["wamid.T1"].meta["sender_name"] == "Ana Guest"
    # one guest per number, in E.164, and two conversations
    conversation_ids = {m.conversation_id for m in rows.values()}
    assert len(conversation_ids) == 2
    assert app.services.conversations.find_conversation_id("whatsapp", "+15551234567") == rows["wamid.T1"].conversation_id
    assert app.services.conversations.find_conversation_id("whatsapp", "+447700900123") == rows["wamid.L1"].conversation_id


def test_malformed_json_is_a_clear_400(make_wa_app):
    app = make_wa_app()
    with running_app(app) as base:
        broken = b'{"entry": [ {"changes": '
        response = post(base, broken, sign(broken))
        wrong_shape = b'{"hello": "world"}'
        response2 = post(base, wrong_shape, sign(wrong_shape))
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_payload"
    assert "not valid JSON" in response.json()["detail"]
    assert response2.status_code == 400
    assert "'entry' list" in response2.json()["detail"]
    assert webhook_failure_counts(app, "whatsapp")["whatsapp"]["parse_error"] == 2


def test_status_updates_move_the_stored_message_forward_only(make_wa_app, graph):
    app = make_wa_app()

    def status(wamid: str, name: str, **extra) -> dict:
        return {"id": wamid, "status": name, "timestamp": "1735689700", "recipient_id": "15551234567", **extra}

    def report(base: str, *statuses: dict) -> None:
        body = webhook_body(messages_change(statuses=list(statuses)))
        response = post(base, body, sign(body))
        assert response.status_code == 200
        assert response.json()["statuses"] == len(statuses)

    def reply_status() -> str:
        return replies(app)[0].status

    with running_app(app) as base:
        guest_writes(base, "wamid.IN1", "Hello")
        wamid = wait_until(lambda: replies(app), what="the reply to be sent")[0].provider_message_id
        report(base, status(wamid, "sent"), status(wamid, "delivered"))
        wait_until(lambda: reply_status() == "delivered", what="delivered")
        report(base, status(wamid, "read"))
        wait_until(lambda: reply_status() == "read", what="read")
        report(base, status(wamid, "delivered"))  # late and out of order
        assert reply_status() == "read"  # never backwards

        guest_writes(base, "wamid.IN2", "Are you there?", sender="447700900123")  # another guest
        second = wait_until(lambda: len(replies(app)) == 2 and replies(app)[1], what="the second reply")
        report(base, status(second.provider_message_id, "failed", errors=[
            {"code": 131026, "title": "Message undeliverable",
             "error_data": {"details": "Receiver is incapable of receiving this message"}}]))
        failed = wait_until(lambda: [m for m in replies(app) if m.status == "failed"], what="failed status")[0]
    assert failed.id == second.id
    assert failed.error == "131026 Message undeliverable: Receiver is incapable of receiving this message"


def test_without_app_secret_webhooks_are_refused_and_health_says_not_configured(make_wa_app):
    import asyncio

    app = make_wa_app(WHATSAPP_APP_SECRET=None)
    body = webhook_body(messages_change(text_message("wamid.NS1", "hi")))
    with running_app(app) as base:
        response = post(base, body, None)
    assert response.status_code == 503
    assert "WHATSAPP_APP_SECRET" in response.json()["detail"]
    assert stored_messages(app) == []
    health = asyncio.run(app.channels["whatsapp"].health())
    assert health.state == "not_configured"
    assert "WHATSAPP_APP_SECRET" in health.detail


def test_unsigned_webhooks_only_when_explicitly_allowed_outside_production(make_wa_app, tmp_path):
    dev = make_wa_app(WHATSAPP_APP_SECRET=None, WHATSAPP_ALLOW_UNSIGNED="true")
    body = webhook_body(messages_change(text_message("wamid.DEV1", "hi from curl")))
    with running_app(dev) as base:
        assert post(base, body, None).status_code == 200
    assert [m.channel_message_id for m in inbound_messages(dev)] == ["wamid.DEV1"]

    prod = make_wa_app(WHATSAPP_APP_SECRET=None, WHATSAPP_ALLOW_UNSIGNED="true", JACK_ENV="production",
                       JWT_SECRET=secrets.token_hex(32), ENCRYPTION_KEY=secrets.token_hex(32),
                       DATABASE_PATH=str(tmp_path / "prod.db"))
    with running_app(prod) as base:
        assert post(base, body, None).status_code == 503


def test_signature_header_matches_metas_documented_format():
    # Independent of the plugin: the documented header is "sha256=" + lowercase hex.
    body = json.dumps({"entry": []}).encode()
    header = sign(body)
    assert header.startswith("sha256=") and len(header) == len("sha256=") + 64
    from jack_channel_whatsapp.signature import signature_is_valid

    assert signature_is_valid(APP_SECRET, body, header)
    assert signature_is_valid(APP_SECRET, body, header.upper().replace("SHA256=", "sha256="))
    assert not signature_is_valid(APP_SECRET, body, "sha1=" + header[7:])
    assert not signature_is_valid(APP_SECRET, body, "sha256=")


def test_signature_check_rejects_a_wrong_digest_and_a_body_changed_by_one_byte():
    from jack_channel_whatsapp.signature import signature_is_valid

    body = webhook_body(messages_change(text_message("wamid.SIG1", "room 412 needs towels")))
    header = sign(body)
    assert signature_is_valid(APP_SECRET, body, header)
    digest = header.removeprefix("sha256=")

    # The right shape (64 hex digits) with the wrong value: each a single changed digit, first or last.
    flip = {"0": "1"}
    for position in (0, len(digest) - 1):
        wrong = digest[:position] + flip.get(digest[position], "0") + digest[position + 1 :]
        assert len(wrong) == 64 and wrong != digest
        assert not signature_is_valid(APP_SECRET, body, "sha256=" + wrong), position
    assert not signature_is_valid(APP_SECRET, body, "sha256=" + "0" * 64)
    assert not signature_is_valid(APP_SECRET, body, "sha256=" + digest[:-1])  # one digit short
    assert not signature_is_valid(APP_SECRET, body, sign(body, secret=APP_SECRET + "x"))

    # The signature of the original body on a body changed by one byte: first, middle, last, added, dropped.
    middle = body.index(b"412")
    for tampered in (
        b"[" + body[1:],
        body[:middle] + b"413" + body[middle + 3 :],
        body[:-1] + b" ",
        body + b" ",
        body[:-1],
    ):
        assert len(tampered) in (len(body), len(body) + 1, len(body) - 1) and tampered != body
        assert not signature_is_valid(APP_SECRET, tampered, header), tampered
        assert signature_is_valid(APP_SECRET, tampered, sign(tampered))  # what Meta would send for it
