"""``GET /api/v1/openapi.json``: an OpenAPI 3.1 document of the staff API, built from the code.

Nothing here is written by hand twice. :data:`ROUTES` declares each operation once (its path as
the resources register it, the role its ``require_role`` hook insists on, and the pydantic
``Body``/``Query`` models its responder reads), and :func:`build_document` turns that table into
the document: request bodies are the models' own ``model_json_schema()``, query parameters are
the query models' fields with their bounds, path ids carry the bounds of the ``int`` route
converter. ``tests/test_staff_openapi.py`` checks that every route the app serves under
``/api/v1`` from this feature is in the table (and nothing else), and fuzzes the document with
schemathesis.

Responses are described by the models in :mod:`jack_host.builtin.staff.schemas`: each
``Operation`` names the model of its success body (``response=``), every error status references
``ErrorBody``, and the fuzz pass validates each answer against them (schemathesis'
``response_schema_conformance``). A new endpoint is one ``Operation(...)`` line below, with
``response=`` naming its model in ``schemas.py`` (see that module's docstring).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import falcon
from pydantic import BaseModel

from jack_host.builtin.staff.auth_api import LoginBody, RefreshBody
from jack_host.builtin.staff.conversations_api import ConversationFilters, MessagePage, ReplyBody
from jack_host.builtin.staff.hotel_api import ProfileUpdate
from jack_host.builtin.staff.knowledge_api import ArticleBody, ArticleFilters, ArticlePatch, SearchQuery
from jack_host.builtin.staff.schemas import (
    ArticleOut,
    ArticlePage,
    ConversationOut,
    ConversationPage,
    ErrorBody,
    HotelProfileOut,
    MessageList,
    MessageOut,
    SearchResults,
    StaffUserOut,
    TaskOut,
    TaskPage,
    TokenPair,
    UserList,
)
from jack_host.builtin.staff.tasks_api import TaskFilters
from jack_host.builtin.staff.users_api import NewUserBody
from jack_host.web.converters import DB_INT_MAX, DB_INT_MIN

if TYPE_CHECKING:
    from jack_host.contract.app import App

OPENAPI_PATH = "/api/v1/openapi.json"
REF_TEMPLATE = "#/components/schemas/{model}"

STATUS_TEXT = {
    "200": "OK",
    "201": "created",
    "204": "done; no body",
    "400": "malformed_json: the body is not JSON",
    "401": "unauthorized: no, invalid or expired token, or wrong credentials",
    "403": "forbidden: the role is too low",
    "404": "not_found",
    "409": "conflict",
    "413": "body_too_large: the body is over the route's cap",
    "422": "validation_failed: the body or query does not fit; detail lists each field",
    "429": "rate_limited: too many failed sign-ins (see Retry-After)",
}


@dataclass(frozen=True)
class Operation:
    """One method on one route, as the staff plugin serves it."""

    method: str
    path: str  # Falcon's template, e.g. /api/v1/knowledge/{article_id:int}
    summary: str
    role: str | None  # None: no sign-in (the login, refresh and this document)
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None  # the body of the ``ok`` status (schemas.py); None: no body
    ok: str = "200"
    errors: tuple[str, ...] = ()  # besides those the role, body, query and path ids imply
    optional_auth: bool = False  # logout: an access token, when sent, is revoked too
    tags: tuple[str, ...] = field(default=())


ROUTES: tuple[Operation, ...] = (
    # auth_api.py
    Operation("POST", "/api/v1/auth/login", "Sign in: an access token and a refresh token", None,
              body=LoginBody, errors=("401", "429"), response=TokenPair, tags=("auth",)),
    Operation("POST", "/api/v1/auth/refresh", "Swap a refresh token for new tokens (rotation)", None,
              body=RefreshBody, errors=("401",), response=TokenPair, tags=("auth",)),
    Operation("POST", "/api/v1/auth/logout", "Revoke the session and the account's access tokens", None,
              body=RefreshBody, ok="204", optional_auth=True, tags=("auth",)),
    Operation("GET", "/api/v1/auth/me", "The signed-in account", "staff", response=StaffUserOut, tags=("auth",)),
    # users_api.py
    Operation("GET", "/api/v1/users", "List staff accounts", "admin", response=UserList, tags=("users",)),
    Operation("POST", "/api/v1/users", "Create a staff account", "admin", body=NewUserBody, ok="201",
              errors=("409",), response=StaffUserOut, tags=("users",)),
    Operation("POST", "/api/v1/users/{user_id:int}/disable", "Disable an account (not your own)", "admin",
              errors=("409",), response=StaffUserOut, tags=("users",)),
    Operation("POST", "/api/v1/users/{user_id:int}/enable", "Enable an account again", "admin", response=StaffUserOut, tags=("users",)),
    # conversations_api.py
    Operation("GET", "/api/v1/conversations", "List conversations, most recent activity first", "staff",
              query=ConversationFilters, response=ConversationPage, tags=("conversations",)),
    Operation("GET", "/api/v1/conversations/{conversation_id:int}", "One conversation with its guest", "staff",
              response=ConversationOut, tags=("conversations",)),
    Operation("GET", "/api/v1/conversations/{conversation_id:int}/messages", "Messages, oldest first", "staff",
              query=MessagePage, response=MessageList, tags=("conversations",)),
    Operation("POST", "/api/v1/conversations/{conversation_id:int}/messages", "Reply to the guest as staff",
              "staff", body=ReplyBody, ok="201", response=MessageOut, tags=("conversations",)),
    Operation("POST", "/api/v1/conversations/{conversation_id:int}/takeover", "Take over from the AI", "staff",
              response=ConversationOut, tags=("conversations",)),
    Operation("POST", "/api/v1/conversations/{conversation_id:int}/handback", "Hand back to the AI", "staff",
              response=ConversationOut, tags=("conversations",)),
    Operation("POST", "/api/v1/conversations/{conversation_id:int}/close", "Close the conversation", "staff",
              response=ConversationOut, tags=("conversations",)),
    # tasks_api.py
    Operation("GET", "/api/v1/tasks", "List tasks, soonest SLA first", "staff", query=TaskFilters, response=TaskPage, tags=("tasks",)),
    Operation("POST", "/api/v1/tasks/{task_id:int}/claim", "Claim a task", "staff", errors=("409",),
              response=TaskOut, tags=("tasks",)),
    Operation("POST", "/api/v1/tasks/{task_id:int}/complete", "Complete a task", "staff", errors=("409",),
              response=TaskOut, tags=("tasks",)),
    # knowledge_api.py
    Operation("GET", "/api/v1/knowledge", "List knowledge articles by title", "staff", query=ArticleFilters,
              response=ArticlePage, tags=("knowledge",)),
    Operation("POST", "/api/v1/knowledge", "Create an article", "manager", body=ArticleBody, ok="201",
              errors=("409",), response=ArticleOut, tags=("knowledge",)),
    Operation("GET", "/api/v1/knowledge/search", "Search articles (the AI's BM25 search)", "staff",
              query=SearchQuery, response=SearchResults, tags=("knowledge",)),
    Operation("GET", "/api/v1/knowledge/{article_id:int}", "One article", "staff", response=ArticleOut, tags=("knowledge",)),
    Operation("PUT", "/api/v1/knowledge/{article_id:int}", "Change an article", "manager", body=ArticlePatch,
              errors=("409",), response=ArticleOut, tags=("knowledge",)),
    Operation("DELETE", "/api/v1/knowledge/{article_id:int}", "Delete an article", "manager", ok="204",
              tags=("knowledge",)),
    # hotel_api.py
    Operation("GET", "/api/v1/hotel", "The hotel profile", "staff", response=HotelProfileOut, tags=("hotel",)),
    Operation("PUT", "/api/v1/hotel", "Change the hotel profile", "manager", body=ProfileUpdate, response=HotelProfileOut, tags=("hotel",)),
    # this module
    Operation("GET", OPENAPI_PATH, "This document", None, tags=("meta",)),
)

_PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")


def openapi_path(template: str) -> str:
    """``/x/{id:int}`` -> ``/x/{id}``."""
    return _PARAM.sub(lambda m: "{" + m.group(1) + "}", template)


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's own JSON schema, with references pointing into ``components/schemas``."""
    return model.model_json_schema(ref_template=REF_TEMPLATE)


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent, never ``null``: drop the null branch of ``X | None``."""
    schema = dict(schema)
    options = schema.get("anyOf")
    if options:
        kept = [option for option in options if option.get("type") != "null"]
        if len(kept) == 1:
            schema.pop("anyOf")
            schema = {**kept[0], **schema}
    if schema.get("default", ...) is None:
        schema.pop("default")
    return schema


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model_schema(model)
    required = set(schema.get("required", ()))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        prop = _without_null(prop)
        description = prop.pop("title", None)
        parameters.append({
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": prop,
            **({"description": description} if description else {}),
        })
    return parameters


def path_parameters(template: str) -> list[dict[str, Any]]:
    parameters = []
    for name, converter in _PARAM.findall(template):
        schema: dict[str, Any] = {"type": "string"}
        if converter == "int":  # jack_host.web.converters.DatabaseIntConverter
            schema = {"type": "integer", "minimum": DB_INT_MIN, "maximum": DB_INT_MAX}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return parameters


def add_model(schemas: dict[str, Any], model: type[BaseModel]) -> dict[str, str]:
    """Put ``model`` (and the models it nests) into ``components/schemas``; the reference to it."""
    schema = model_schema(model)
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}


def _responses(op: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    codes = {op.ok}
    if op.role is not None:
        codes |= {"401", "403"} if op.role != "staff" else {"401"}
    if op.body is not None:
        codes |= {"400", "413", "422"}
    if op.query is not None:
        codes.add("422")
    if _PARAM.search(op.path):
        codes.add("404")
    codes |= set(op.errors)
    error = add_model(schemas, ErrorBody)
    responses: dict[str, Any] = {}
    for code in sorted(codes):
        if code == "204":
            responses[code] = {"description": STATUS_TEXT[code]}
        elif code.startswith("2"):
            # Only this document itself has no model: it is free-form JSON.
            schema = add_model(schemas, op.response) if op.response is not None else {"type": "object"}
            responses[code] = {"description": STATUS_TEXT[code], "content": {"application/json": {"schema": schema}}}
        else:
            responses[code] = {"description": STATUS_TEXT[code], "content": {"application/json": {"schema": error}}}
    return responses


def build_document(version: str = "1") -> dict[str, Any]:
    """The OpenAPI 3.1 document of :data:`ROUTES`."""
    schemas: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    for op in ROUTES:
        operation: dict[str, Any] = {
            "operationId": f"{op.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', openapi_path(op.path).lower()).strip('_')}",
            "summary": op.summary,
            "tags": list(op.tags),
            "responses": _responses(op, schemas),
        }
        if op.role is not None:
            operation["description"] = f"Role: {op.role} or higher."
            operation["x-jack-role"] = op.role
        elif op.optional_auth:
            operation["security"] = [{}, {"bearerAuth": []}]
        else:
            operation["security"] = []
        parameters = path_parameters(op.path) + (query_parameters(op.query) if op.query else [])
        if parameters:
            operation["parameters"] = parameters
        if op.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": add_model(schemas, op.body)}},
            }
        paths.setdefault(openapi_path(op.path), {})[op.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Jack The Butler staff API",
            "version": version,
            "description": "Generated from the staff plugin's route table and pydantic models (docs/staff-api.md).",
        },
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                               "description": "the access_token from POST /api/v1/auth/login"},
            },
        },
    }


class OpenApiResource:
    def __init__(self, app: App):
        self.app = app
        self._document: dict[str, Any] | None = None

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        if self._document is None:
            self._document = build_document()
        resp.media = self._document


def add_openapi_route(app: App) -> None:
    app.add_route(OPENAPI_PATH, OpenApiResource(app))
