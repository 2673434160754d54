"""The embedded default (issue 16): all seven plugins installed, no API key, no Ollama.

A knowledge question over the web chat, WhatsApp and SMS is answered from the article, no task is
made, LiteLLM is never needed, and nothing connects to Ollama's port 11434.  The same app checks
text hygiene on the real channels and the meta each reply records, through the staff API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from jack_host.builtin.staff import accounts
from jack_host.testing import make_app, running_app, wait_until
from jack_host.testing.fake_twilio import FakeTwilio
from jack_host.testing.fake_whatsapp import FakeGraphAPI

BREAKFAST = "Breakfast is served from 7:00 to 10:30 in the Garden Room on the ground floor."
APP_SECRET = "embedded-default-app-secret"
PHONE_NUMBER_ID = "1055000000001"
AUTH_TOKEN = "twilio-test-auth-token"
ACCOUNT_SID = "AC" + "0" * 31 + "1"
PUBLIC_URL = "https://jack.hotel.example"
PLUGINS = {"channel_webchat", "channel_whatsapp", "channel_sms", "channel_email", "llm_ollama", "backup_s3", "alert_pagerduty"}


class ConnectionCounter:
    """A listener on Ollama's own port that counts who connects (None when the port is taken)."""

    def __init__(self, port: int = 11434):
        self.count = 0
        self.sock: socket.socket | None = socket.socket()
        try:
            self.sock.bind(("127.0.0.1", port))
        except OSError:
            self.sock.close()
            self.sock = None
            return
        self.sock.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.sock is not None:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.count += 1
            connection.close()

    def close(self) -> None:
        if self.sock is not None:
            sock, self.sock = self.sock, None
            sock.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("embedded")
    ollama_port = ConnectionCounter()
    with FakeGraphAPI(phone_number_id=PHONE_NUMBER_ID) as graph, FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as twilio:
        env = {
            "JWT_SECRET": "e" * 40,
            "PUBLIC_URL": PUBLIC_URL,
            "WHATSAPP_ACCESS_TOKEN": graph.access_token,
            "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
            "WHATSAPP_APP_SECRET": APP_SECRET,
            "WHATSAPP_VERIFY_TOKEN": "verify-me-please",
            "WHATSAPP_API_URL": graph.api_url,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_PHONE_NUMBER": "+15550100200",
            "TWILIO_API_URL": twilio.url,
            "OUTBOX_BACKOFF_SECONDS": "0.05",
        }
        app = make_app(tmp_path, env=env, load_entrypoints=True)
        app.services.knowledge.create("Breakfast", BREAKFAST, "dining", ["breakfast", "food"])
        accounts.create_user(app.engine, "manager@hotel.test", "correct horse battery", name="Manager", role="manager")
        with running_app(app) as base_url:
            yield app, base_url, graph, twilio, ollama_port
    ollama_port.close()


def ai_replies(app, channel: str) -> list[dict]:
    found = []
    for conversation in app.services.conversations.list_conversations(channel=channel).items:
        found += [m for m in app.services.conversations.history(conversation["id"]) if m["sender"] == "ai"]
    return found


def whatsapp_says(base_url: str, wamid: str, text: str, sender: str = "15551234567") -> httpx.Response:
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550100", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Ana"}, "wa_id": sender}],
        "messages": [{"from": sender, "id": wamid, "timestamp": "1735689600", "type": "text", "text": {"body": text}}],
    }}]}]}).encode()
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return httpx.post(base_url + "/webhooks/whatsapp", content=body, timeout=30,
                      headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})


def sms_says(base_url: str, sid: str, text: str, sender: str = "+15551234567") -> httpx.Response:
    params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": ACCOUNT_SID, "From": sender, "To": "+15550100200",
              "Body": text, "NumMedia": "0"}
    data = PUBLIC_URL + "/webhooks/sms" + "".join(key + params[key] for key in sorted(params))
    signature = base64.b64encode(hmac.new(AUTH_TOKEN.encode(), data.encode(), hashlib.sha1).digest()).decode()
    return httpx.post(base_url + "/webhooks/sms", data=params, headers={"X-Twilio-Signature": signature}, timeout=30)


def test_all_seven_plugins_and_no_model_is_configured(served):
    app, *_ = served
    assert PLUGINS <= {name for name, _ in app.pm.list_name_plugin()}
    assert {"webchat", "whatsapp", "sms", "email"} <= set(app.channels)
    assert "ollama" in app.llm_providers and not app.llm_providers["ollama"].is_configured()
    assert app.services.llm.available() is False


def test_a_knowledge_question_is_answered_from_the_article_on_every_channel(served):
    app, base_url, graph, twilio, ollama_port = served
    # web chat: a real WebSocket client
    with connect(base_url.replace("http://", "ws://") + "/ws", origin=base_url, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "hello", "protocol": 1, "token": None, "language": "en"}))
        frames = []
        while not any(f["type"] == "history" for f in frames):
            frames.append(json.loads(ws.recv(timeout=10)))
        ws.send(json.dumps({"type": "message", "client_id": "c-breakfast", "body": "What time is breakfast?"}))
        reply = None
        while reply is None:
            frame = json.loads(ws.recv(timeout=15))
            reply = frame if frame["type"] == "message" and frame.get("sender") == "ai" else None
        assert reply["body"] == BREAKFAST
    assert whatsapp_says(base_url, "wamid.breakfast", "What time is breakfast?").status_code == 200
    assert sms_says(base_url, "SM" + "b" * 32, "What time is breakfast?").status_code == 200

    wait_until(lambda: ai_replies(app, "whatsapp") and ai_replies(app, "sms"), timeout=20, what="the WhatsApp and SMS replies")
    for channel in ("webchat", "whatsapp", "sms"):
        [answer] = ai_replies(app, channel)
        assert answer["body"] == BREAKFAST, channel
        assert (answer["meta"]["path"], answer["meta"]["why"], answer["meta"]["knowledge_title"]) == (
            "knowledge", "no_model_configured", "Breakfast"), channel
    sent_to_whatsapp = wait_until(lambda: [r for r in graph.requests if r.method == "POST" and r.path.endswith("/messages")],
                                  what="the WhatsApp reply sent to the Graph API")
    assert sent_to_whatsapp[0].json()["text"]["body"] == BREAKFAST
    assert app.services.tasks.list() == []
    if ollama_port.sock is not None:
        assert ollama_port.count == 0  # nothing tried localhost:11434: not per message, not the health check
        socket.create_connection(("127.0.0.1", 11434), timeout=5).close()
        wait_until(lambda: ollama_port.count == 1, what="the counter to see a connection")  # it does count


def test_the_staff_history_shows_which_path_answered_and_phone_numbers_are_checked(served):
    app, base_url, *_ = served
    token = httpx.post(f"{base_url}/api/v1/auth/login", json={"email": "manager@hotel.test", "password": "correct horse battery"}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    conversation = app.services.conversations.list_conversations(channel="sms").items[0]
    history = httpx.get(f"{base_url}/api/v1/conversations/{conversation['id']}/messages", headers=headers).json()["items"]
    ai = [m for m in history if m["sender"] == "ai"]
    assert ai and ai[0]["meta"]["path"] == "knowledge" and ai[0]["meta"]["why"] == "no_model_configured"

    bad = httpx.put(f"{base_url}/api/v1/hotel", headers=headers, json={"phone": "+1 555 123 4567"})
    assert bad.status_code == 422
    assert "no such number range for country code +1" in bad.text
    good = httpx.put(f"{base_url}/api/v1/hotel", headers=headers, json={"phone": "+39 06 6982 1234"})
    assert good.status_code == 200 and good.json()["phone"] == "+39 06 6982 1234"

    # text hygiene: a staff reply of control characters only is refused; one too long for SMS too
    replies = f"{base_url}/api/v1/conversations/{conversation['id']}/messages"
    refused = httpx.post(replies, headers=headers, json={"body": "\x00\x1b\x07"})
    assert refused.status_code == 422 and "control characters" in refused.text
    too_long = httpx.post(replies, headers=headers, json={"body": "x" * 2000})
    assert too_long.status_code == 422 and "at most 1600" in too_long.text
    sent = httpx.post(replies, headers=headers, json={"body": "Hello\x00 from\r\nthe desk\x1b[31m"})
    assert sent.status_code == 201 and sent.json()["body"] == "Hello from\nthe desk[31m"


def test_inbound_text_is_capped_per_channel_and_control_characters_stripped(served):
    app, base_url, *_ = served
    huge = "Is there a gym?\x00\x1b " + "a" * 2_000_000
    assert whatsapp_says(base_url, "wamid.huge", huge, sender="15557654321").status_code == 200
    assert sms_says(base_url, "SM" + "h" * 32, "Tab\there\x07 and\r\nnewline" + "b" * 60_000, sender="+15557654321").status_code == 200
    inbound = {}
    for channel in ("whatsapp", "sms"):
        conversations = app.services.conversations.list_conversations(channel=channel).items
        messages = [m for c in conversations for m in app.services.conversations.history(c["id"]) if m["sender"] == "guest"]
        inbound[channel] = next(m for m in messages if m["body"].startswith(("Is there a gym", "Tab")))
    assert len(inbound["whatsapp"]["body"]) == 4096 and inbound["whatsapp"]["body"].endswith("…")
    assert inbound["whatsapp"]["body"].startswith("Is there a gym? a")
    assert inbound["whatsapp"]["meta"]["truncated"] is True
    assert len(inbound["sms"]["body"]) == 1600 and inbound["sms"]["body"].startswith("Tab\there and\nnewline")


def test_a_real_jack_serve_answers_its_first_guest_from_the_article(tmp_path):
    # benchmarks/first_answer.py's embedded scenario, once: it keeps the script (and its quoted figures) working
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "benchmarks/first_answer.py", "--scenario", "embedded"], cwd=root,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert re.fullmatch(r"embedded: ready [\d.]+ s, first answer [\d.]+ s after ready \(article\)\n", result.stdout), result.stdout
