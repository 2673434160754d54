"""Through the real pipeline and outbox: a guest writes on WhatsApp, the reply goes out via the fake Graph API."""

from __future__ import annotations

import httpx
from whatsapp_helpers import guest_writes, messages_change, replies, sign, webhook_body

from jack_host.testing import running_app, wait_until
from jack_host.testing.fake_whatsapp import graph_error

FAST_RETRIES = {"OUTBOX_BACKOFF_SECONDS": "0.05", "OUTBOX_MAX_BACKOFF_SECONDS": "0.2", "OUTBOX_MAX_ATTEMPTS": "3"}


def settled_reply(app):
    done = replies(app)
    return done[0] if done else None


def test_a_reply_that_fails_twice_is_retried_and_sent(make_wa_app, graph):
    app = make_wa_app(**FAST_RETRIES)
    graph.fail_next("POST", "/messages", graph_error(503, "Service temporarily unavailable", 2),
                    graph_error(500, "An unknown error occurred", 1))
    with running_app(app) as base:
        guest_writes(base, "wamid.E2E1", "What time is breakfast?")
        reply = wait_until(lambda: settled_reply(app), timeout=20, what="the AI reply to be sent")
        assert reply.status == "sent", reply.error
        sends = graph.matching("POST", "/messages")
        assert len(sends) == 3
        assert all(s.json()["to"] == "15551234567" and s.json()["type"] == "text" for s in sends)
        assert reply.provider_message_id == graph.sent_ids[0]
        assert reply.meta["attempts"] == 3

        # Meta then reports delivery of that very wamid
        status = {"id": reply.provider_message_id, "status": "delivered", "timestamp": "1", "recipient_id": "15551234567"}
        body = webhook_body(messages_change(statuses=[status]))
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body)}
        assert httpx.post(base + "/webhooks/whatsapp", content=body, headers=headers).status_code == 200
        wait_until(lambda: settled_reply(app).status == "delivered", what="delivered status")


def test_a_reply_that_always_fails_ends_failed_with_the_reason(make_wa_app, graph):
    app = make_wa_app(**FAST_RETRIES)
    graph.fail_next("POST", "/messages", *[graph_error(503, "Service temporarily unavailable", 2)] * 5)
    with running_app(app) as base:
        guest_writes(base, "wamid.E2E2", "Is the pool open?")
        reply = wait_until(lambda: settled_reply(app), timeout=20, what="the AI reply to fail")
    assert reply.status == "failed"
    assert "gave up after 3 attempts" in reply.error and "Service temporarily unavailable" in reply.error
    assert len(graph.matching("POST", "/messages")) == 3
