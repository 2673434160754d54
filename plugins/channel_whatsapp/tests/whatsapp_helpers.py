"""Helpers for the WhatsApp channel tests: webhook bodies and signatures computed with hmac directly
(never with the plugin's code)."""

from __future__ import annotations

import hashlib
import hmac
import json

from jack_host.testing import inbound_messages, replies, stored_messages  # noqa: F401 (re-exported for the tests)

APP_SECRET = "test-app-secret-0123456789"
VERIFY_TOKEN = "verify-me-please"
PHONE_NUMBER_ID = "1055000000001"


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_body(*changes: dict, entries: int = 1) -> bytes:
    """A webhook document; with ``entries`` > 1 the changes are spread over several entries."""
    entry_list = [{"id": f"WABA{i}", "changes": []} for i in range(entries)]
    for index, change in enumerate(changes):
        entry_list[index % entries]["changes"].append(change)
    return json.dumps({"object": "whatsapp_business_account", "entry": entry_list}).encode()


def messages_change(*messages: dict, contacts: list[dict] | None = None, statuses: list[dict] | None = None) -> dict:
    value: dict = {"messaging_product": "whatsapp",
                   "metadata": {"display_phone_number": "15550100", "phone_number_id": PHONE_NUMBER_ID}}
    if messages:
        value["messages"] = list(messages)
        value["contacts"] = contacts or [{"profile": {"name": "Ana Guest"}, "wa_id": messages[0]["from"]}]
    if statuses:
        value["statuses"] = statuses
    return {"field": "messages", "value": value}


def text_message(wamid: str, body: str, sender: str = "15551234567") -> dict:
    return {"from": sender, "id": wamid, "timestamp": "1735689600", "type": "text", "text": {"body": body}}




def guest_writes(base: str, wamid: str, text: str, sender: str = "15551234567") -> None:
    import httpx

    body = webhook_body(messages_change(text_message(wamid, text, sender)))
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body)}
    response = httpx.post(base + "/webhooks/whatsapp", content=body, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
