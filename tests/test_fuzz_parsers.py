"""Hypothesis against the parsers of what strangers send (issue 11, the fuzz pass).

Whatever arrives, a parser either raises its documented error or yields messages whose
fields have the types the pipeline stores: the WhatsApp webhook body (``PayloadError``),
Twilio's signed SMS form (a 4xx, never a 5xx) and the web chat's frames (an error frame,
and the socket stays open).  Bounded: ~150 examples each, servers shared per module.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
from typing import Any

import httpx
import jack_channel_sms.plugin
import jack_channel_webchat.plugin
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from jack_channel_sms.keywords import keyword_action
from jack_channel_sms.webhook import MAX_MEDIA, media_meta
from jack_channel_whatsapp.payload import PayloadError, parse_webhook
from sqlmodel import Session, select
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from jack_host.builtin.conversations.models import Guest
from jack_host.testing import inbound_messages, make_app, running_app

FUZZ = settings(
    max_examples=150,
    deadline=None,  # a shared server on a 2-core machine: timing is not the property
    database=None,  # no .hypothesis folder in the checkout; a failure prints its reproducer
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")

# Any JSON value, a little deep, with the strings attackers like.
hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "\x00", "null", "[]", "{}", "NaN", "-1", "9" * 400, "\u202e", "<script>", "'; DROP TABLE x"]),
)
leaves = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), hostile_text,
)
json_values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
                           max_leaves=12)


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """The well-formed shape or any JSON value in its place, half and half."""
    return st.one_of(strategy, json_values)


def mostly(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """Outer levels: well-formed three times in four, so the hostile values deeper down are reached."""
    return st.one_of(strategy, strategy, strategy, json_values)


# ---------------------------------------------------------------- WhatsApp webhook bodies

phone_digits = st.one_of(st.from_regex(r"\A[1-9][0-9]{9,12}\Z"), hostile_text)
wa_message = st.fixed_dictionaries(
    {
        "id": maybe(st.from_regex(r"\Awamid\.[A-Za-z0-9]{4,12}\Z")),
        "from": maybe(phone_digits),
        "type": maybe(st.sampled_from(["text", "image", "audio", "video", "document", "sticker", "interactive",
                                       "button", "location", "contacts", "reaction", "order", "unsupported"])),
        "timestamp": maybe(st.integers(min_value=-(2**70), max_value=2**70).map(str)),
    },
    optional={
        "text": maybe(st.fixed_dictionaries({"body": maybe(hostile_text)})),
        "image": maybe(st.fixed_dictionaries({"id": maybe(hostile_text)}, optional={"caption": maybe(hostile_text),
                                                                                     "filename": maybe(hostile_text)})),
        "document": maybe(st.fixed_dictionaries({}, optional={"caption": json_values, "filename": json_values})),
        "interactive": maybe(st.fixed_dictionaries({"type": maybe(st.sampled_from(["button_reply", "list_reply"]))},
                                                   optional={"button_reply": json_values, "list_reply": json_values})),
        "button": json_values,
        "location": maybe(st.dictionaries(st.sampled_from(["latitude", "longitude", "name", "address", "url"]), json_values)),
        "contacts": maybe(st.lists(maybe(st.fixed_dictionaries({"name": maybe(st.fixed_dictionaries(
            {"formatted_name": json_values}))})), max_size=3)),
        "context": json_values,
    },
)
wa_status = st.fixed_dictionaries(
    {"id": maybe(hostile_text), "status": maybe(st.sampled_from(["sent", "delivered", "read", "failed", "deleted"]))},
    optional={"errors": maybe(st.lists(maybe(st.fixed_dictionaries(
        {"code": json_values, "title": json_values}, optional={"error_data": maybe(st.fixed_dictionaries({"details": json_values}))},
    )), max_size=2))},
)
wa_value = st.fixed_dictionaries(
    {},
    optional={
        "metadata": maybe(st.fixed_dictionaries({"phone_number_id": maybe(st.sampled_from(["1234", "9999"]))})),
        "contacts": maybe(st.lists(maybe(st.fixed_dictionaries(
            {"wa_id": maybe(phone_digits), "profile": maybe(st.fixed_dictionaries({"name": maybe(hostile_text)}))})),
            min_size=1, max_size=2)),
        "messages": mostly(st.lists(mostly(wa_message), min_size=1, max_size=3)),
        "statuses": maybe(st.lists(mostly(wa_status), min_size=1, max_size=2)),
    },
)
wa_change = st.fixed_dictionaries({"field": mostly(st.just("messages")), "value": mostly(wa_value)})
wa_entry = st.fixed_dictionaries({"id": json_values, "changes": mostly(st.lists(mostly(wa_change), min_size=1, max_size=2))})
wa_body = st.fixed_dictionaries(
    {"object": mostly(st.just("whatsapp_business_account")), "entry": mostly(st.lists(mostly(wa_entry), min_size=1, max_size=2))},
)


def check_whatsapp(body: bytes) -> None:
    try:
        batch = parse_webhook(body, "1234")
    except PayloadError:
        return
    for message in batch.messages:
        assert message.channel == "whatsapp"
        assert isinstance(message.channel_message_id, str) and message.channel_message_id
        assert isinstance(message.body, str)
        assert isinstance(message.sender_phone, str) and E164.match(message.sender_phone), message.sender_phone
        assert message.sender_name is None or isinstance(message.sender_name, str), message.sender_name
        assert message.received_at is None or isinstance(message.received_at, dt.datetime)
        assert isinstance(message.metadata, dict)
        json.dumps(message.metadata)  # stored as a JSON column
    for update in batch.statuses:
        assert isinstance(update.provider_message_id, str) and update.provider_message_id
        assert update.status in ("sent", "delivered", "read", "failed")
        assert update.error is None or isinstance(update.error, str)


@FUZZ
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_whatsapp_parser_takes_any_bytes(body):
    check_whatsapp(body)


def wa_webhook(value: Any) -> dict:
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}]}


WA_MESSAGE = {"id": "wamid.A1", "from": "15551234567", "type": "text", "text": {"body": "hi"}}
#: What this fuzz found in payload.py, each once an AttributeError/TypeError (the webhook answered
#: 500) or a wrong type; now a PayloadError (400) or tolerated as absent.
WA_FOUND = [
    wa_webhook({"metadata": "x", "messages": [WA_MESSAGE]}),                                   # AttributeError
    wa_webhook({"contacts": [{"wa_id": "15551234567", "profile": "x"}], "messages": [WA_MESSAGE]}),  # AttributeError
    wa_webhook({"contacts": 5}),                                                               # TypeError
    wa_webhook({"messages": 5}),                                                               # TypeError
    wa_webhook({"messages": [{**WA_MESSAGE, "type": "contacts", "contacts": ["x"]}]}),         # AttributeError
    wa_webhook({"statuses": [{"id": "wamid.B", "status": "failed", "errors": [{"error_data": "x"}]}]}),  # AttributeError
    wa_webhook({"contacts": [{"wa_id": "15551234567", "profile": {"name": 5}}], "messages": [WA_MESSAGE]}),  # sender_name int
]


@FUZZ
@given(wa_body)
@example(WA_FOUND[0])
@example(WA_FOUND[1])
@example(WA_FOUND[2])
@example(WA_FOUND[3])
@example(WA_FOUND[4])
@example(WA_FOUND[5])
@example(WA_FOUND[6])
def test_whatsapp_parser_takes_hostile_webhooks(document):
    check_whatsapp(json.dumps(document).encode())


# ---------------------------------------------------------------- Twilio's SMS form

TWILIO_TOKEN = "twilio-fuzz-auth-token"
PUBLIC_URL = "https://jack.hotel.example"
twilio_keys = st.sampled_from(["MessageSid", "SmsSid", "From", "To", "Body", "NumMedia", "MediaUrl0", "MediaContentType0",
                               "MediaUrl1", "MediaContentType1", "MediaUrl9", "MediaUrl10", "AccountSid", "NumSegments"])
form_text = st.text(st.characters(codec="utf-8"), max_size=60)
twilio_params = st.dictionaries(twilio_keys | form_text, form_text | st.sampled_from(
    ["+15551234567", "0", "10", "30000000", "-3", "1e9", "٣", "9" * 5000, "STOP", " help! ", "image/jpeg"]), max_size=10)


def twilio_signature(url: str, params: dict[str, str]) -> str:
    data = url + "".join(key + params[key] for key in sorted(params))
    return base64.b64encode(hmac.new(TWILIO_TOKEN.encode(), data.encode(), hashlib.sha1).digest()).decode()


@FUZZ
@given(twilio_params)
@example({"NumMedia": "9" * 5000, "MediaUrl0": "x"})
@example({"NumMedia": "30000000", **{f"MediaUrl{i}": "https://m.example/x" for i in range(12)}})
def test_twilio_media_and_keywords_take_any_form(params):
    meta = media_meta(params)
    assert meta == {} or set(meta) == {"media"}
    for item in meta.get("media", []):
        assert isinstance(item["url"], str) and item["url"]
        assert isinstance(item["content_type"], str) and item["content_type"]
    assert len(meta.get("media", [])) <= MAX_MEDIA
    assert keyword_action(params.get("Body", "")) in (None, "opt_out", "opt_in", "help")


@pytest.fixture(scope="module")
def sms_server(tmp_path_factory):
    env = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 31 + "1", "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
           "TWILIO_PHONE_NUMBER": "+15550100200", "TWILIO_API_URL": "http://127.0.0.1:9", "PUBLIC_URL": PUBLIC_URL,
           "PIPELINE_CONCURRENCY": "1"}
    app = make_app(tmp_path_factory.mktemp("sms"), plugins=[("channel_sms", jack_channel_sms.plugin)], env=env)
    with running_app(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield app, client


@FUZZ
@given(twilio_params)
@example({"MessageSid": "SM1", "From": "+15551234567", "NumMedia": "30000000", "Body": "hi"})
@example({"MessageSid": "SM2", "From": "not a number"})
def test_signed_sms_webhook_answers_any_form_without_a_5xx(sms_server, params):
    app, client = sms_server
    for path in ("/webhooks/sms", "/webhooks/sms/status"):
        response = client.post(path, data=params, headers={"X-Twilio-Signature": twilio_signature(PUBLIC_URL + path, params)})
        assert response.status_code in (200, 400), (path, response.status_code, response.text)
    for message in inbound_messages(app):
        assert isinstance(message.body, str)
        assert isinstance(message.meta, dict)
        json.dumps(message.meta)
    with Session(app.engine) as session:
        phones = [guest.phone for guest in session.exec(select(Guest)).all() if guest.phone]
    assert all(E164.match(phone) for phone in phones), phones


# ---------------------------------------------------------------- web chat frames

ERROR_CODES = {"bad_json", "bad_frame", "frame_too_large", "unknown_type", "empty_message", "message_too_large",
               "rate_limited", "not_stored"}
frame_types = maybe(st.sampled_from(["message", "ping", "pong", "typing", "hello", "dance"]))
chat_frames = st.one_of(
    st.text(max_size=200),
    json_values.map(json.dumps),
    st.fixed_dictionaries({"type": frame_types}, optional={
        "client_id": maybe(st.from_regex(r"\A[A-Za-z0-9_.-]{1,64}\Z") | hostile_text),
        "body": maybe(hostile_text | st.text(min_size=90, max_size=120)),
        "ts": json_values, "token": json_values, "language": json_values,
    }).map(json.dumps),
    st.just("[" * 100_000),
)


@pytest.fixture(scope="module")
def chat(tmp_path_factory):
    env = {"WEBCHAT_MAX_MESSAGE_CHARS": "100", "WEBCHAT_RATE_LIMIT_PER_MINUTE": "100000",
           "WEBCHAT_MESSAGES_PER_ADDRESS_PER_MINUTE": "100000"}
    app = make_app(tmp_path_factory.mktemp("webchat"), plugins=[("channel_webchat", jack_channel_webchat.plugin)], env=env)
    with running_app(app) as url, connect(url.replace("http://", "ws://") + "/ws", origin=url, open_timeout=10,
                                          ping_interval=None, max_size=None) as ws:
        ws.send(json.dumps({"type": "hello", "protocol": 1, "token": None}))
        frames = [json.loads(ws.recv(timeout=10)) for _ in range(2)]
        assert [f["type"] for f in frames] == ["session", "history"]
        yield app, ws, {"n": 0}


@FUZZ
@given(chat_frames)
@example("[" * 100_000)
@example('{"type": "message", "client_id": "c1", "body": {"nested": 1}}')
@example('{"type": "message", "client_id": ["x"], "body": "hi"}')
def test_web_chat_answers_any_frame_and_stays_open(chat, text):
    app, ws, counter = chat
    counter["n"] += 1
    marker = counter["n"]
    try:
        ws.send(text)
        # A ping after every frame: its pong says the server has dealt with the frame before it.
        ws.send(json.dumps({"type": "ping", "ts": marker}))
        while True:
            frame = json.loads(ws.recv(timeout=10))
            assert isinstance(frame, dict) and isinstance(frame.get("type"), str)
            if frame["type"] == "error":
                assert frame["code"] in ERROR_CODES and frame["fatal"] is False, frame
            elif frame["type"] == "ack":
                assert isinstance(frame["message_id"], int) and isinstance(frame["client_id"], str)
            if frame == {"type": "pong", "ts": marker}:
                break
    except ConnectionClosed as exc:
        raise AssertionError(f"the server closed the chat after {text[:80]!r}: {exc}") from None
    for message in inbound_messages(app):
        assert isinstance(message.body, str) and 0 < len(message.body) <= 100 and message.body.strip()

