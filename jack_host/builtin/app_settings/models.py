"""The dashboard settings' tables (created by ``app_settings_0001``)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from jack_host.db.models import utcnow


class StoredSetting(SQLModel, table=True):
    """One value set in the dashboard; a secret's ``value`` is a Fernet token, never the secret."""

    __tablename__ = "app_settings"

    name: str = Field(primary_key=True)
    plugin: str
    value: str
    secret: bool = False
    updated_at: dt.datetime = Field(default_factory=utcnow)
    updated_by: str = ""


class KeyMaterial(SQLModel, table=True):
    """The scrypt salt (base64) and the check token of the key the secrets are encrypted with."""

    __tablename__ = "app_settings_key"

    id: int = Field(default=1, primary_key=True)
    salt: str
    check: str
    updated_at: dt.datetime = Field(default_factory=utcnow)
