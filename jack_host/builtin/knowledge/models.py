"""The knowledge feature's table (created by ``knowledge_0001``)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from jack_host.db.models import utcnow as now_utc


class KnowledgeArticle(SQLModel, table=True):
    """A fact the AI may answer from; mirrored into the ``knowledge_fts`` FTS5 index by triggers."""

    __tablename__ = "knowledge_articles"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(unique=True)
    body: str
    category: str = ""
    #: Comma-separated, so the FTS index can search them as text.
    tags: str = ""
    created_at: dt.datetime = Field(default_factory=now_utc)
    updated_at: dt.datetime = Field(default_factory=now_utc)
