"""``/api/v1/knowledge``: every staff member reads and searches; managers and admins edit.

Storage and search are ``app.services.knowledge`` (the same BM25 index the AI answers from).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import falcon
from pydantic import Field

from jack_host.builtin.staff.auth import conflict, not_found, require_role
from jack_host.builtin.staff.validation import Body, Page, Query, read_body, read_query
from jack_host.contract.services import ArticleNotFound, Audit, DuplicateArticleTitle

if TYPE_CHECKING:
    from jack_host.contract.app import App


class ArticleBody(Body):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=20000)
    category: str = Field(default="", max_length=64)
    tags: list[str] = Field(default_factory=list, max_length=30)


class ArticlePatch(Body):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    body: str | None = Field(default=None, min_length=1, max_length=20000)
    category: str | None = Field(default=None, max_length=64)
    tags: list[str] | None = Field(default=None, max_length=30)


class ArticleFilters(Page):
    category: str | None = Field(default=None, max_length=64)


class SearchQuery(Query):
    q: str = Field(min_length=1, max_length=200)
    limit: int = Field(default=10, ge=1, le=50)


def duplicate_title(title: str | None) -> falcon.HTTPError:
    return conflict(f"an article titled '{title}' already exists")


async def audit_change(app: App, req: falcon.asgi.Request, action: str, article_id: int, old: dict | None, new: dict | None) -> None:
    """Write a knowledge change to the audit log (when the audit feature is on)."""
    if audit := app.services.find(Audit):
        await asyncio.to_thread(audit.record, req.context.staff.email, action, f"knowledge:{article_id}", old, new)


class KnowledgeResource:
    # A 20,000-character article, JSON-escaped (\uXXXX), is up to ~120 KB; the staff API's default is 64 KiB.
    max_body_bytes = 256 * 1024

    def __init__(self, app: App):
        self.app = app

    @falcon.before(require_role("staff"))
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        filters = read_query(req, ArticleFilters)
        articles = await asyncio.to_thread(self.app.services.knowledge.list, filters.category)
        page = articles[filters.offset : filters.offset + filters.limit]
        resp.media = {"items": page, "total": len(articles), "limit": filters.limit, "offset": filters.offset}

    @falcon.before(require_role("manager"))
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        body = await read_body(req, ArticleBody)
        try:
            article = await asyncio.to_thread(self.app.services.knowledge.create, **body.model_dump())
        except DuplicateArticleTitle:
            raise duplicate_title(body.title) from None
        await audit_change(self.app, req, "knowledge.create", article["id"], None, article)
        resp.status = falcon.HTTP_201
        resp.media = article


class ArticleResource:
    # A 20,000-character article, JSON-escaped (\uXXXX), is up to ~120 KB; the staff API's default is 64 KiB.
    max_body_bytes = 256 * 1024

    def __init__(self, app: App):
        self.app = app

    @falcon.before(require_role("staff"))
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, article_id: int) -> None:
        article = await asyncio.to_thread(self.app.services.knowledge.get, article_id)
        if article is None:
            raise not_found(f"knowledge article {article_id} does not exist")
        resp.media = article

    @falcon.before(require_role("manager"))
    async def on_put(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, article_id: int) -> None:
        body = await read_body(req, ArticlePatch)
        fields = body.model_dump(exclude_unset=True, exclude_none=True)
        before = await asyncio.to_thread(self.app.services.knowledge.get, article_id)
        try:
            resp.media = await asyncio.to_thread(self.app.services.knowledge.update, article_id, **fields)
        except ArticleNotFound as exc:
            raise not_found(str(exc)) from None
        except DuplicateArticleTitle:
            raise duplicate_title(fields.get("title")) from None
        await audit_change(self.app, req, "knowledge.update", article_id, {k: (before or {}).get(k) for k in fields}, fields)

    @falcon.before(require_role("manager"))
    async def on_delete(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, article_id: int) -> None:
        before = await asyncio.to_thread(self.app.services.knowledge.get, article_id)
        if not await asyncio.to_thread(self.app.services.knowledge.delete, article_id):
            raise not_found(f"knowledge article {article_id} does not exist")
        await audit_change(self.app, req, "knowledge.delete", article_id, before, None)
        resp.status = falcon.HTTP_204


class KnowledgeSearchResource:
    def __init__(self, app: App):
        self.app = app

    @falcon.before(require_role("staff"))
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        query = read_query(req, SearchQuery)
        matches = await asyncio.to_thread(self.app.services.knowledge.search, query.q, query.limit)
        resp.media = {
            "q": query.q,
            "items": [
                {**m.article, "score": m.score, "coverage": m.coverage, "confident": m.confident} for m in matches
            ],
        }


def add_knowledge_routes(app: App) -> None:
    app.add_route("/api/v1/knowledge", KnowledgeResource(app))
    app.add_route("/api/v1/knowledge/search", KnowledgeSearchResource(app))
    app.add_route("/api/v1/knowledge/{article_id:int}", ArticleResource(app))
