"""``app.services.hotel_profile``: the hotel's name, timezone, times, languages and contacts.

Seeded from the ``HOTEL_*`` settings on first use; afterwards the database row is
the truth, and a change of timezone is written back to ``HOTEL_TIMEZONE`` so
``app.hotel_timezone()`` agrees with it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from jack_host.builtin.conversations.models import HotelProfile, now_utc
from jack_host.db.models import iso

if TYPE_CHECKING:
    from jack_host.contract.app import App

PROFILE_ID = 1
EDITABLE = ("name", "timezone", "check_in_time", "check_out_time", "languages", "phone", "email", "address", "website")


def profile_dict(profile: HotelProfile) -> dict[str, Any]:
    data = {field: getattr(profile, field) for field in EDITABLE}
    data["languages"] = list(profile.languages or [])
    data["updated_at"] = iso(profile.updated_at)
    return data


def _languages(value: Any) -> list[str]:
    parts = value.split(",") if isinstance(value, str) else list(value or [])
    return [str(p).strip().lower() for p in parts if str(p).strip()]


class HotelProfileService:
    def __init__(self, app: App):
        self.app = app
        #: Read on every AI reply; this process is the only writer, so a cache is safe.
        self._cached: dict[str, Any] | None = None

    def get(self) -> dict[str, Any]:
        """The profile, created from settings the first time."""
        if self._cached is not None:
            return dict(self._cached)
        with Session(self.app.engine, expire_on_commit=False) as session:
            profile = session.get(HotelProfile, PROFILE_ID)
            if profile is None:
                session.add(self._seed())
                try:
                    session.commit()
                except IntegrityError:  # another process seeded it at the same moment: theirs stands
                    session.rollback()
                profile = session.get(HotelProfile, PROFILE_ID)
                assert profile is not None
            self._cached = profile_dict(profile)
            return dict(self._cached)

    def update(self, **fields: Any) -> dict[str, Any]:
        """Change some fields; returns the whole profile.

        :raises ValueError: unknown field, bad timezone, bad time, empty name.
        """
        unknown = set(fields) - set(EDITABLE)
        if unknown:
            raise ValueError(f"unknown hotel profile field(s): {', '.join(sorted(unknown))}; expected {', '.join(EDITABLE)}")
        if "timezone" in fields:
            try:
                ZoneInfo(str(fields["timezone"]))
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"timezone '{fields['timezone']}' is not an IANA timezone such as Europe/Lisbon") from None
        for key in ("check_in_time", "check_out_time"):
            if key in fields and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", str(fields[key])):
                raise ValueError(f"{key} '{fields[key]}' is not a 24-hour time such as 15:00")
        if "name" in fields and not str(fields["name"] or "").strip():
            raise ValueError("the hotel needs a name")
        if "languages" in fields:
            fields["languages"] = _languages(fields["languages"])
        self.get()  # make sure the row exists
        with Session(self.app.engine, expire_on_commit=False) as session:
            profile = session.get(HotelProfile, PROFILE_ID)
            assert profile is not None
            for key, value in fields.items():
                setattr(profile, key, value if key == "languages" else str(value or "").strip())
            profile.updated_at = now_utc()
            session.add(profile)
            session.commit()
            data = profile_dict(profile)
        self._cached = data
        self.sync_settings(data)
        return data

    def sync_settings(self, data: dict[str, Any] | None = None) -> None:
        """Make ``HOTEL_TIMEZONE`` / ``HOTEL_NAME`` follow the stored profile."""
        data = data or self.get()
        self.app.settings.set("HOTEL_TIMEZONE", data["timezone"])
        self.app.settings.set("HOTEL_NAME", data["name"])

    def _seed(self) -> HotelProfile:
        settings = self.app.settings
        return HotelProfile(
            id=PROFILE_ID,
            name=str(settings.get("HOTEL_NAME") or "Our hotel"),
            timezone=str(settings.get("HOTEL_TIMEZONE") or "UTC"),
            check_in_time=str(settings.get("HOTEL_CHECK_IN_TIME") or "15:00"),
            check_out_time=str(settings.get("HOTEL_CHECK_OUT_TIME") or "11:00"),
            languages=_languages(settings.get("HOTEL_LANGUAGES") or "en"),
            phone=str(settings.get("HOTEL_PHONE") or ""),
            email=str(settings.get("HOTEL_EMAIL") or ""),
            address=str(settings.get("HOTEL_ADDRESS") or ""),
            updated_at=now_utc(),
        )
