"""``/api/v1/hotel``: the hotel profile (``app.services.hotel_profile``); everyone reads it, managers and admins edit it."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import falcon
from pydantic import Field, field_validator

from jack_host.builtin.staff.auth import require_role
from jack_host.builtin.staff.validation import Body, read_body
from jack_host.kit.phone import InvalidPhoneNumber, validate_phone

if TYPE_CHECKING:
    from jack_host.contract.app import App

CLOCK = r"^([01]\d|2[0-3]):[0-5]\d$"


class ProfileUpdate(Body):
    """Every field optional: send only what changes."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    check_in_time: str | None = Field(default=None, pattern=CLOCK)
    check_out_time: str | None = Field(default=None, pattern=CLOCK)
    languages: list[str] | None = Field(default=None, min_length=1, max_length=30)
    phone: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=320)
    address: str | None = Field(default=None, max_length=500)
    website: str | None = Field(default=None, max_length=500)

    @field_validator("timezone")
    @classmethod
    def known_timezone(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("an IANA timezone name such as Europe/Lisbon") from None
        return value

    @field_validator("phone")
    @classmethod
    def valid_phone(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return value
        try:
            validate_phone(value)
        except InvalidPhoneNumber as exc:
            raise ValueError(f"a phone number with its country code, e.g. +39 06 6982 1234: {exc}") from None
        return value.strip()

    @field_validator("languages")
    @classmethod
    def language_codes(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return value
        codes = [code.strip().lower() for code in value]
        bad = [code for code in codes if not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,8})?", code)]
        if bad:
            raise ValueError(f"ISO language codes such as en or pt-br; not {', '.join(bad)}")
        return list(dict.fromkeys(codes))


class HotelProfileResource:
    def __init__(self, app: App):
        self.app = app

    @falcon.before(require_role("staff"))
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = await asyncio.to_thread(self.app.services.hotel_profile.get)

    @falcon.before(require_role("manager"))
    async def on_put(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        body = await read_body(req, ProfileUpdate)
        fields = body.model_dump(exclude_unset=True, exclude_none=True)
        resp.media = await asyncio.to_thread(lambda: self.app.services.hotel_profile.update(**fields))


def add_hotel_routes(app: App) -> None:
    app.add_route("/api/v1/hotel", HotelProfileResource(app))
