"""The feature's rows as the dicts it hands out: service answers, API responses and events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jack_host.builtin.conversations.models import (
    OPEN_TASK_STATUSES,
    Conversation,
    Guest,
    Message,
    Task,
    now_utc,
)
from jack_host.db.models import iso


def message_dict(message: Message, guest_address: str | None = None) -> dict[str, Any]:
    data = {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "channel": message.channel,
        "direction": message.direction,
        "sender": message.sender,
        "body": message.body,
        "status": message.status,
        "error": message.error,
        "channel_message_id": message.channel_message_id,
        "provider_message_id": message.provider_message_id,
        "created_at": iso(message.created_at),
        "meta": dict(message.meta or {}),
    }
    if guest_address is not None:
        data["guest_address"] = guest_address
    return data


def conversation_dict(conversation: Conversation, guest: Guest | None = None) -> dict[str, Any]:
    data = {
        "id": conversation.id,
        "guest_id": conversation.guest_id,
        "channel": conversation.channel,
        "guest_address": conversation.guest_address,
        "state": conversation.state,
        "assignee_id": conversation.assignee_id,
        "language": conversation.language,
        "created_at": iso(conversation.created_at),
        "updated_at": iso(conversation.updated_at),
        "last_message_at": iso(conversation.last_message_at),
        "last_guest_message_at": iso(conversation.last_guest_message_at),
        "closed_at": iso(conversation.closed_at),
    }
    if guest is not None:
        data["guest"] = guest_dict(guest)
    return data


def guest_dict(guest: Guest) -> dict[str, Any]:
    return {
        "id": guest.id,
        "name": guest.name,
        "phone": guest.phone,
        "email": guest.email,
        "preferred_language": guest.preferred_language,
        "notes": guest.notes,
        "created_at": iso(guest.created_at),
    }


def task_dict(task: Task) -> dict[str, Any]:
    now = now_utc()
    due = task.sla_due_at.replace(tzinfo=dt.UTC) if task.sla_due_at and task.sla_due_at.tzinfo is None else task.sla_due_at
    return {
        "id": task.id,
        "conversation_id": task.conversation_id,
        "guest_id": task.guest_id,
        "department": task.department,
        "priority": task.priority,
        "status": task.status,
        "title": task.title,
        "description": task.description,
        "reason": task.reason,
        "sla_due_at": iso(task.sla_due_at),
        "sla_breached": bool(task.sla_breached_at) or (task.status in OPEN_TASK_STATUSES and due is not None and due < now),
        "assignee_id": task.assignee_id,
        "created_at": iso(task.created_at),
        "claimed_at": iso(task.claimed_at),
        "completed_at": iso(task.completed_at),
    }
