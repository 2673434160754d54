"""Read a WhatsApp Cloud API webhook body into guest messages and delivery statuses.

One POST may batch several ``entry`` items, each with several ``changes``, each with
several ``messages`` and ``statuses``.  Every guest message becomes an
:class:`InboundMessage` whose ``channel_message_id`` is the wamid, so a retried webhook
is recognised by the pipeline as a duplicate.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from jack_host.contract.interfaces import InboundMessage
from jack_host.kit.phone import InvalidPhoneNumber, normalise_phone
from jack_host.kit.safe_json import JSONInputError, parse_json
from jack_host.kit.text_hygiene import clean_inbound

log = logging.getLogger("jack.whatsapp")

MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
#: WhatsApp's statuses, mapped to the pipeline's (they happen to be the same words).
STATUSES = {"sent": "sent", "delivered": "delivered", "read": "read", "failed": "failed"}


class PayloadError(ValueError):
    """The body is not a WhatsApp webhook; the message says what is wrong."""


@dataclass
class StatusUpdate:
    provider_message_id: str
    status: str
    error: str | None = None


@dataclass
class WebhookBatch:
    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def parse_webhook(body: bytes, phone_number_id: str = "") -> WebhookBatch:
    """Parse the raw body; messages to another phone number id than ours are ignored.

    :raises PayloadError: not JSON (or nested absurdly deep), or not shaped like a WhatsApp webhook.
    """
    try:
        document = parse_json(body)
    except JSONInputError as exc:
        raise PayloadError(f"the body is not valid JSON: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("entry"), list):
        raise PayloadError("expected a JSON object with an 'entry' list (a WhatsApp Business webhook)")
    batch = WebhookBatch()
    for entry in document["entry"]:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            raise PayloadError("every item of 'entry' must be an object with a 'changes' list")
        for change in changes:
            if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
                raise PayloadError("every item of 'changes' must be an object with a 'value' object")
            if change.get("field", "messages") != "messages":
                batch.ignored.append(f"field {change.get('field')!r}")
                continue
            _read_value(change["value"], phone_number_id, batch)
    return batch


def _obj(value: Any) -> dict[str, Any]:
    """An optional nested object: anything else counts as absent."""
    return value if isinstance(value, dict) else {}


def _items(value: dict[str, Any], key: str) -> list[Any]:
    """A list field of ``value``: absent is empty, any other type is not a WhatsApp webhook."""
    items = value.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise PayloadError(f"'{key}' must be a list")
    return items


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _read_value(value: dict[str, Any], phone_number_id: str, batch: WebhookBatch) -> None:
    target = str(_obj(value.get("metadata")).get("phone_number_id") or "")
    if phone_number_id and target and target != phone_number_id:
        batch.ignored.append(f"phone number id {target}")
        return
    names = {
        str(contact.get("wa_id")): _text(_obj(contact.get("profile")).get("name"))
        for contact in _items(value, "contacts")
        if isinstance(contact, dict)
    }
    for message in _items(value, "messages"):
        inbound = _read_message(message, names)
        if inbound is None:
            batch.ignored.append(f"message type {message.get('type')!r}")
        else:
            batch.messages.append(inbound)
    for status in _items(value, "statuses"):
        update = _read_status(status)
        if update is None:
            batch.ignored.append(f"status {status.get('status')!r}")
        else:
            batch.statuses.append(update)


def _read_message(message: Any, names: dict[str, str | None]) -> InboundMessage | None:
    if not isinstance(message, dict) or not message.get("id") or not message.get("from"):
        raise PayloadError("every message needs an 'id' (wamid) and a 'from'")
    kind = str(message.get("type") or "unknown")
    if kind == "reaction":
        return None  # an emoji on an earlier message: nothing to answer
    sender = str(message["from"])
    try:
        phone = normalise_phone("+" + sender.lstrip("+"))
    except InvalidPhoneNumber as exc:
        raise PayloadError(f"message {message['id']}: sender {exc}") from None
    body, meta = _body_and_meta(kind, message)
    body, cut = clean_inbound(body, "whatsapp")  # a 5 MB body is not stored verbatim
    if cut:
        meta["truncated"] = True
    meta["type"] = kind
    if isinstance(message.get("context"), dict):
        meta["reply_to"] = message["context"].get("id")
    return InboundMessage(
        channel="whatsapp",
        channel_message_id=str(message["id"]),
        body=body,
        sender_phone=phone,
        sender_name=names.get(sender),
        received_at=_timestamp(message.get("timestamp")),
        metadata=meta,
    )


def _body_and_meta(kind: str, message: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    part = message.get(kind) if isinstance(message.get(kind), dict) else {}
    if kind == "text":
        return str(part.get("body") or ""), {}
    if kind == "interactive":
        reply_kind = str(part.get("type") or "")
        reply = part.get(reply_kind) if isinstance(part.get(reply_kind), dict) else {}
        return str(reply.get("title") or ""), {"interactive": {"type": reply_kind, "id": reply.get("id"),
                                                               "title": reply.get("title"),
                                                               "description": reply.get("description")}}
    if kind == "button":  # a quick-reply button of a template
        return str(part.get("text") or ""), {"button": {"text": part.get("text"), "payload": part.get("payload")}}
    if kind in MEDIA_TYPES:
        caption = str(part.get("caption") or "").strip()
        media = {key: part[key] for key in ("id", "mime_type", "sha256", "filename", "voice", "animated") if key in part}
        meta: dict[str, Any] = {"media": media}
        if caption:
            meta["caption"] = caption
        label = f"[{kind}: {part['filename']}]" if part.get("filename") else f"[{kind}]"
        return f"{label} {caption}".strip(), meta
    if kind == "location":
        location = {key: part.get(key) for key in ("latitude", "longitude", "name", "address", "url") if part.get(key) is not None}
        place = ", ".join(str(part[key]) for key in ("name", "address") if part.get(key))
        where = f"{part.get('latitude')}, {part.get('longitude')}"
        return f"[location] {place} ({where})" if place else f"[location] ({where})", {"location": location}
    if kind == "contacts":
        cards = [c for c in _items(message, "contacts") if isinstance(c, dict)]
        names = [str(_obj(c.get("name")).get("formatted_name") or "") for c in cards]
        return f"[contacts] {', '.join(n for n in names if n)}".strip(), {"contacts": cards}
    # unsupported/system/order...: keep it visible to staff rather than dropping it
    return f"[{kind}]", {"raw": part or None}


def _read_status(status: Any) -> StatusUpdate | None:
    if not isinstance(status, dict) or not status.get("id"):
        raise PayloadError("every status needs an 'id' (the wamid of our message)")
    mapped = STATUSES.get(str(status.get("status")))
    if mapped is None:
        return None
    error = None
    errors = _items(status, "errors")
    if mapped == "failed" or errors:
        error = "; ".join(_error_text(e) for e in errors if isinstance(e, dict)) or "WhatsApp reported the message failed"
    return StatusUpdate(str(status["id"]), mapped, error)


def _error_text(error: dict[str, Any]) -> str:
    details = _obj(error.get("error_data")).get("details")
    text = f"{error.get('code')} {error.get('title') or error.get('message') or ''}".strip()
    return f"{text}: {details}" if details else text


def _timestamp(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(int(value), dt.UTC)
    except (TypeError, ValueError, OverflowError):
        return None
