"""``/api/v1/knowledge``: every staff member reads and searches; managers and admins edit."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import falcon
from pydantic import Field

from jack_host.staff import knowledge_store as store
from jack_host.staff.auth import conflict, not_found, require_role
from jack_host.staff.validation import Body, Page, Query, read_body, read_query

if TYPE_CHECKING:
    from jack_host.app import JackApp


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


class KnowledgeResource:
    def __init__(self, app: JackApp):
        self.app = app

    @falcon.before(require_role("staff"))
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        filters = read_query(req, ArticleFilters)
        items, total = await asyncio.to_thread(
            store.list_articles, self.app.engine, category=filters.category, limit=filters.limit, offset=filters.offset
        )
        resp.media = {"items": items, "total": total, "limit": filters.limit, "offset": filters.offset}

    @falcon.before(require_role("manager"))
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        body = await read_body(req, ArticleBody)
        try:
            resp.media = await asyncio.to_thread(store.save_article, self.app.engine, None, body.model_dump())
        except store.DuplicateTitle as exc:
            raise conflict(str(exc)) from None
        resp.status = falcon.HTTP_201


class ArticleResource:
    def __init__(self, app: JackApp):
        self.app = app

    @falcon.before(require_role("staff"))
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, article_id: int) -> None:
        try:
            resp.media = await asyncio.to_thread(store.get_article, self.app.engine, article_id)
        except store.ArticleNotFound as exc:
            raise not_found(str(exc)) from None

    @falcon.before(require_role("manager"))
    async def on_put(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, article_id: int) -> None:
        body = await read_body(req, ArticlePatch)
        fields = body.model_dump(exclude_unset=True, exclude_none=True)
        try:
            resp.media = await asyncio.to_thread(store.save_article, self.app.engine, article_id, fields)
        except store.ArticleNotFound as exc:
            raise not_found(str(exc)) from None
        except store.DuplicateTitle as exc:
            raise conflict(str(exc)) from None

    @falcon.before(require_role("manager"))
    async def on_delete(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, article_id: int) -> None:
        try:
            await asyncio.to_thread(store.delete_article, self.app.engine, article_id)
        except store.ArticleNotFound as exc:
            raise not_found(str(exc)) from None
        resp.status = falcon.HTTP_204


class KnowledgeSearchResource:
    def __init__(self, app: JackApp):
        self.app = app

    @falcon.before(require_role("staff"))
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        query = read_query(req, SearchQuery)
        items = await asyncio.to_thread(store.search_articles, self.app.engine, query.q, query.limit)
        resp.media = {"items": items, "q": query.q}


def add_knowledge_routes(app: JackApp) -> None:
    app.add_route("/api/v1/knowledge", KnowledgeResource(app))
    app.add_route("/api/v1/knowledge/search", KnowledgeSearchResource(app))
    app.add_route("/api/v1/knowledge/{article_id:int}", ArticleResource(app))
