"""A signed SMS claiming 30,000,000 media is read as Twilio's maximum of 10, at once (issue 11)."""

from __future__ import annotations

import time

import httpx
from sms_helpers import PUBLIC_URL, inbound_messages, inbound_params, twilio_sign

from jack_host.testing import running_app


def test_num_media_is_capped_at_twilios_maximum(make_sms_app):
    app = make_sms_app()
    media = {}
    for i in range(12):
        media[f"MediaUrl{i}"] = f"https://api.twilio.com/media/ME{i:032d}"
        media[f"MediaContentType{i}"] = "image/jpeg"
    params = inbound_params("SM" + "m" * 32, "Photos of the broken lamp", NumMedia="30000000", **media)
    signature = twilio_sign(PUBLIC_URL + "/webhooks/sms", params)
    with running_app(app) as base:
        started = time.monotonic()
        response = httpx.post(base + "/webhooks/sms", data=params, headers={"X-Twilio-Signature": signature}, timeout=60)
        elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    [message] = inbound_messages(app)
    assert [m["url"] for m in message.meta["media"]] == [media[f"MediaUrl{i}"] for i in range(10)]
    assert message.body.startswith("[image] " * 9 + "[image] Photos")
    assert elapsed < 5, f"the webhook took {elapsed:.1f} s (it looped over 30 million media numbers)"
