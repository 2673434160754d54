"""Hostile bodies on the signed WhatsApp webhook: 400 for absurd nesting, 413 past Meta's 3 MB (issue 11)."""

from __future__ import annotations

import httpx
from whatsapp_helpers import inbound_messages, messages_change, sign, text_message, webhook_body

from jack_host.testing import running_app

META_MAX = 3 * 1024 * 1024  # "Webhooks payloads can be up to 3MB"


def test_hostile_bodies_are_refused_and_real_ones_still_stored(make_wa_app):
    app = make_wa_app()
    with running_app(app) as base:
        url = base + "/webhooks/whatsapp"
        nested = b"[" * 100_000
        deep = httpx.post(url, content=nested, headers={"X-Hub-Signature-256": sign(nested),
                                                        "Content-Type": "application/json"}, timeout=30)
        assert deep.status_code == 400, deep.text
        assert deep.json()["error"] == "malformed_payload" and "nested deeper than" in deep.json()["detail"]

        declared = httpx.post(url, content=b" " * (META_MAX + 1), headers={"Content-Type": "application/json"}, timeout=30)
        assert declared.status_code == 413 and declared.json()["error"] == "body_too_large"

        def chunks():  # no Content-Length: refused once the streamed body passes 3 MiB
            for _ in range(64):
                yield b" " * 65536

        streamed = httpx.post(url, content=chunks(), headers={"Content-Type": "application/json"}, timeout=30)
        assert streamed.status_code == 413 and streamed.json()["error"] == "body_too_large"

        # A real notification just under the cap is stored.
        body = webhook_body(messages_change(text_message("wamid.BIG", "x" * (META_MAX - 2000))))
        assert len(body) < META_MAX
        ok = httpx.post(url, content=body, headers={"X-Hub-Signature-256": sign(body),
                                                    "Content-Type": "application/json"}, timeout=30)
        assert ok.status_code == 200, ok.text
    assert [m.channel_message_id for m in inbound_messages(app)] == ["wamid.BIG"]
