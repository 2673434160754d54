"""The hotel profile (one row, id 1): read it, edit it, keep ``HOTEL_TIMEZONE`` in step."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from jack_host.conversations.models import HotelProfile, now_utc
from jack_host.conversations.pipeline import iso

if TYPE_CHECKING:
    from jack_host.app import JackApp

PROFILE_ID = 1


def profile_dict(profile: HotelProfile) -> dict[str, Any]:
    return {
        "name": profile.name,
        "timezone": profile.timezone,
        "check_in_time": profile.check_in_time,
        "check_out_time": profile.check_out_time,
        "languages": list(profile.languages or []),
        "phone": profile.phone,
        "email": profile.email,
        "address": profile.address,
        "website": profile.website,
        "updated_at": iso(profile.updated_at),
    }


def _seed(app: JackApp) -> HotelProfile:
    """The profile as the ``HOTEL_*`` settings describe it (used until someone edits it)."""
    settings = app.settings
    languages = [code.strip() for code in str(settings.get("HOTEL_LANGUAGES") or "en").split(",") if code.strip()]
    return HotelProfile(
        id=PROFILE_ID,
        name=str(settings.get("HOTEL_NAME") or "Our hotel"),
        timezone=str(settings.get("HOTEL_TIMEZONE") or "UTC"),
        check_in_time=str(settings.get("HOTEL_CHECK_IN_TIME") or "15:00"),
        check_out_time=str(settings.get("HOTEL_CHECK_OUT_TIME") or "11:00"),
        languages=languages,
        phone=str(settings.get("HOTEL_PHONE") or ""),
        email=str(settings.get("HOTEL_EMAIL") or ""),
        address=str(settings.get("HOTEL_ADDRESS") or ""),
    )


def get_profile(app: JackApp) -> dict[str, Any]:
    with Session(app.engine) as session:
        profile = session.get(HotelProfile, PROFILE_ID)
        return profile_dict(profile if profile is not None else _seed(app))


def update_profile(app: JackApp, fields: dict[str, Any]) -> dict[str, Any]:
    """Apply ``fields`` and store the profile; a new timezone takes effect at once."""
    with Session(app.engine, expire_on_commit=False) as session:
        profile = session.get(HotelProfile, PROFILE_ID)
        if profile is None:
            profile = _seed(app)
        for key, value in fields.items():
            setattr(profile, key, value)
        profile.updated_at = now_utc()
        session.add(profile)
        session.commit()
    app.settings.set("HOTEL_TIMEZONE", profile.timezone)
    return profile_dict(profile)
