"""What the staff API answers: one pydantic model per response body, for the OpenAPI document.

The resources build their answers as plain dicts (``records.py``, ``article_dict``,
``profile_dict``, ``StaffUser.as_dict``, ``error_body``); these models describe those dicts
exactly. Every model forbids unknown keys (``additionalProperties: false``) and lists every key
the dict always has as required, so when a handler starts returning a field the model does not
declare, or stops returning one it does, schemathesis' ``response_schema_conformance`` check in
``tests/test_staff_openapi.py`` fails.

Describing a new endpoint's answer is one line: write (or reuse) a model here, deriving from
:class:`Response`, and name it in the endpoint's ``Operation`` in ``openapi.ROUTES``
(``Operation("GET", "/api/v1/alerts", "...", "staff", response=AlertPage)``). The document then
carries the model's JSON schema under ``components/schemas`` and references it from the
operation's success status; error statuses always reference :class:`ErrorBody`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from jack_host.builtin.staff.models import ROLES
from jack_host.contract.services import CONVERSATION_STATES, TASK_PRIORITIES, TASK_STATUSES


class Response(BaseModel):
    """Base of every response model: a key the model does not declare is a schema violation."""

    model_config = ConfigDict(extra="forbid")


# ---- errors (jack_host.web.errors.error_body)


class FieldProblem(Response):
    """One field at fault in a 422 ``validation_failed``."""

    field: str
    message: str


class ErrorBody(Response):
    """Every error: ``error`` is the short code (``not_found``, ``validation_failed``, ...)."""

    error: str
    #: A sentence, the list of fields at fault (422), or nothing.
    detail: str | list[FieldProblem] | None


# ---- accounts and sign-in (StaffUser.as_dict, auth_api.token_response)


class StaffUserOut(Response):
    id: int
    email: str
    name: str
    role: Literal[ROLES]  # type: ignore[valid-type]
    active: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None


class UserList(Response):
    items: list[StaffUserOut]


class TokenPair(Response):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    refresh_token: str
    user: StaffUserOut


# ---- conversations (jack_host.builtin.conversations.records)


class GuestOut(Response):
    id: int
    name: str | None
    phone: str | None
    email: str | None
    preferred_language: str | None
    notes: str
    created_at: dt.datetime


class ConversationOut(Response):
    id: int
    guest_id: int
    channel: str
    guest_address: str
    state: Literal[CONVERSATION_STATES]  # type: ignore[valid-type]
    assignee_id: int | None
    language: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    last_message_at: dt.datetime
    last_guest_message_at: dt.datetime | None
    closed_at: dt.datetime | None
    guest: GuestOut


class ConversationPage(Response):
    items: list[ConversationOut]
    total: int
    limit: int
    offset: int


class MessageOut(Response):
    id: int
    conversation_id: int
    channel: str
    direction: Literal["inbound", "outbound"]
    sender: str
    body: str
    status: str
    error: str | None
    channel_message_id: str | None
    provider_message_id: str | None
    created_at: dt.datetime
    #: What the channel recorded with the message (attachments, thread ids, ...): free-form.
    meta: dict[str, Any]
    guest_address: str


class MessageList(Response):
    items: list[MessageOut]


# ---- tasks (records.task_dict)


class TaskOut(Response):
    id: int
    conversation_id: int | None
    guest_id: int | None
    department: str
    priority: Literal[TASK_PRIORITIES]  # type: ignore[valid-type]
    status: Literal[TASK_STATUSES]  # type: ignore[valid-type]
    title: str
    description: str
    reason: str
    sla_due_at: dt.datetime | None
    sla_breached: bool
    assignee_id: int | None
    created_at: dt.datetime
    claimed_at: dt.datetime | None
    completed_at: dt.datetime | None


class TaskPage(Response):
    items: list[TaskOut]
    total: int
    limit: int
    offset: int


# ---- knowledge (jack_host.builtin.knowledge.knowledge_base.article_dict)


class ArticleOut(Response):
    id: int
    title: str
    body: str
    category: str
    tags: list[str]
    created_at: dt.datetime
    updated_at: dt.datetime


class ArticlePage(Response):
    items: list[ArticleOut]
    total: int
    limit: int
    offset: int


class SearchHit(ArticleOut):
    score: float
    coverage: float
    confident: bool


class SearchResults(Response):
    q: str
    items: list[SearchHit]


# ---- hotel (jack_host.builtin.conversations.hotel_profile.profile_dict)


class HotelProfileOut(Response):
    name: str
    timezone: str
    check_in_time: str
    check_out_time: str
    languages: list[str]
    phone: str
    email: str
    address: str
    website: str
    updated_at: dt.datetime
