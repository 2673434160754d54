"""Request bodies and query strings checked against pydantic models.

Malformed JSON is a 400 ``malformed_json``; a body or query that parses but does not fit
the model is a 422 ``validation_failed`` whose detail lists every field at fault:
``[{"field": "email", "message": "Field required"}]``.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import falcon
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from jack_host.kit.safe_json import JSONInputError, parse_json

M = TypeVar("M", bound=BaseModel)

#: The largest id, offset or count a query may carry: SQLite's and PostgreSQL's 64-bit integer.
#: Beyond it the database driver raises OverflowError instead of answering "nothing there".
MAX_DB_INT = 2**63 - 1
_ASCII_ID = re.compile(r"^[0-9]{1,19}$")


class Body(BaseModel):
    """Base for request bodies: unknown fields are an error, so typos are caught."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Query(BaseModel):
    """Base for query strings: unknown parameters are ignored (caches add their own)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


def validation_failed(errors: list[dict[str, str]]) -> falcon.HTTPError:
    return falcon.HTTPUnprocessableEntity(title="validation_failed", description=errors)


def field_error(field: str, message: str) -> falcon.HTTPError:
    return validation_failed([{"field": field, "message": message}])


def _fields(exc: ValidationError) -> list[dict[str, str]]:
    problems = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error.get("loc", ())) or "body"
        problems.append({"field": location, "message": error.get("msg", "invalid")})
    return problems


async def read_body(req: falcon.asgi.Request, model: type[M]) -> M:
    """Parse the JSON body into ``model`` or raise 400/422 with a precise detail."""
    raw = await req.stream.read()
    if not raw.strip():
        data: Any = {}
    else:
        try:
            data = parse_json(raw)
        except JSONInputError as exc:
            raise falcon.HTTPBadRequest(
                title="malformed_json", description=f"the request body is not valid JSON ({exc})"
            ) from None
    if not isinstance(data, dict):
        raise validation_failed([{"field": "body", "message": "expected a JSON object"}])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_failed(_fields(exc)) from None


def read_query(req: falcon.asgi.Request, model: type[M]) -> M:
    """Parse the query string into ``model`` (last value wins) or raise 422."""
    data = {key: (value[-1] if isinstance(value, list) else value) for key, value in req.params.items()}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_failed(_fields(exc)) from None


class Page(Query):
    """``limit`` and ``offset`` for every list endpoint."""

    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=MAX_DB_INT)


def assignee_filter(value: str | None, me: int) -> tuple[int | None, bool]:
    """``assignee=me|none|<id>`` -> (assignee id, unassigned only)."""
    if value is None or value == "":
        return None, False
    if value == "me":
        return me, False
    if value == "none":
        return None, True
    # Not str.isdigit(): it accepts "²", which int() then refuses.
    if _ASCII_ID.match(value) and int(value) <= MAX_DB_INT:
        return int(value), False
    raise field_error("assignee", "expected me, none or a staff user id")
