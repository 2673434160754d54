"""Helpers for the SMS channel tests: Twilio signatures computed with hmac directly (never the plugin's code)."""

from __future__ import annotations

import base64
import hashlib
import hmac

from jack_host.testing import inbound_messages, replies, stored_messages  # noqa: F401 (re-exported for the tests)

AUTH_TOKEN = "twilio-test-auth-token"
ACCOUNT_SID = "AC" + "0" * 31 + "1"
HOTEL_NUMBER = "+15550100200"
PUBLIC_URL = "https://jack.hotel.example"


def twilio_sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    data = url + "".join(key + params[key] for key in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def inbound_params(sid: str, body: str, sender: str = "+15551234567", **extra: str) -> dict[str, str]:
    return {"ToCountry": "US", "SmsMessageSid": sid, "NumMedia": "0", "SmsSid": sid, "SmsStatus": "received",
            "Body": body, "To": HOTEL_NUMBER, "NumSegments": "1", "MessageSid": sid, "AccountSid": ACCOUNT_SID,
            "From": sender, "ApiVersion": "2010-04-01", **extra}




def guest_texts(base: str, sid: str, text: str, sender: str = "+15551234567") -> None:
    import httpx

    params = inbound_params(sid, text, sender)
    response = httpx.post(base + "/webhooks/sms", data=params,
                          headers={"X-Twilio-Signature": twilio_sign(PUBLIC_URL + "/webhooks/sms", params)}, timeout=10)
    assert response.status_code == 200, response.text
