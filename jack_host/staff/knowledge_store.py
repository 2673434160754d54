"""Knowledge articles for the staff API: create, read, update, delete and search.

The FTS5 index (``knowledge_fts``) follows the table through triggers created by
revision ``0002_conversations``, so writes here need no index code.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from jack_host.conversations.models import KnowledgeArticle, now_utc
from jack_host.conversations.pipeline import iso


class ArticleNotFound(LookupError):
    pass


class DuplicateTitle(ValueError):
    pass


def article_dict(article: KnowledgeArticle) -> dict[str, Any]:
    return {
        "id": article.id,
        "title": article.title,
        "body": article.body,
        "category": article.category,
        "tags": [tag for tag in (article.tags or "").split(",") if tag],
        "created_at": iso(article.created_at),
        "updated_at": iso(article.updated_at),
    }


def _tags(tags: list[str]) -> str:
    return ",".join(dict.fromkeys(tag.strip().lower() for tag in tags if tag.strip()))


def list_articles(engine: Engine, *, category: str | None = None, limit: int = 50, offset: int = 0) -> tuple[list[dict], int]:
    filters = [KnowledgeArticle.category == category] if category else []
    with Session(engine) as session:
        rows = session.exec(
            select(KnowledgeArticle).where(*filters).order_by(col(KnowledgeArticle.title)).offset(offset).limit(limit)
        ).all()
        total = session.exec(select(func.count()).select_from(KnowledgeArticle).where(*filters)).one()
        return [article_dict(a) for a in rows], int(total)


def get_article(engine: Engine, article_id: int) -> dict[str, Any]:
    with Session(engine) as session:
        article = session.get(KnowledgeArticle, article_id)
        if article is None:
            raise ArticleNotFound(f"knowledge article {article_id} does not exist")
        return article_dict(article)


def save_article(engine: Engine, article_id: int | None, fields: dict[str, Any]) -> dict[str, Any]:
    """Create (``article_id`` None) or update an article; raise on unknown id or taken title."""
    if "tags" in fields:
        fields["tags"] = _tags(fields["tags"])
    with Session(engine, expire_on_commit=False) as session:
        if article_id is None:
            article = KnowledgeArticle(**fields)
        else:
            article = session.get(KnowledgeArticle, article_id)
            if article is None:
                raise ArticleNotFound(f"knowledge article {article_id} does not exist")
            for key, value in fields.items():
                setattr(article, key, value)
            article.updated_at = now_utc()
        session.add(article)
        try:
            session.commit()
        except IntegrityError:
            raise DuplicateTitle(f"an article titled {fields.get('title')!r} already exists") from None
        return article_dict(article)


def delete_article(engine: Engine, article_id: int) -> None:
    with Session(engine) as session:
        article = session.get(KnowledgeArticle, article_id)
        if article is None:
            raise ArticleNotFound(f"knowledge article {article_id} does not exist")
        session.delete(article)
        session.commit()


def search_articles(engine: Engine, query: str, limit: int = 10) -> list[dict[str, Any]]:
    """Full-text search (BM25, best first); words are matched as prefixes, any of them."""
    words = re.findall(r"\w+", query.lower())
    if not words:
        return []
    # Quoting each word keeps FTS5 operators in staff input (AND, NEAR, *) literal.
    match = " OR ".join(f'"{word}"*' for word in words)
    with Session(engine) as session:
        rows = session.execute(
            text(
                "SELECT rowid, bm25(knowledge_fts) AS rank FROM knowledge_fts "
                "WHERE knowledge_fts MATCH :match ORDER BY rank LIMIT :limit"
            ),
            {"match": match, "limit": limit},
        ).all()
        results = []
        for rowid, rank in rows:
            article = session.get(KnowledgeArticle, rowid)
            if article is not None:
                results.append({**article_dict(article), "score": -float(rank)})
        return results
