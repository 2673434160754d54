"""``/knowledge``: list, search, create, edit, delete and import articles, and "try it".

"Try it" asks the conversations service's ``preview_answer`` (the code path a guest's message
takes), so what it shows is what Jack would answer, and from which articles.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import falcon

from jack_host.builtin.dashboard.audit_trail import audit
from jack_host.builtin.dashboard.guard import field, form_data, page_guard
from jack_host.builtin.dashboard.pages.conversation import answered_by
from jack_host.builtin.dashboard.registry import MenuEntry, Page
from jack_host.builtin.dashboard.rendering import error_page, flash, render, see_other
from jack_host.contract.services import ArticleNotFound, DuplicateArticleTitle, role_allows

if TYPE_CHECKING:
    from jack_host.contract.app import App

IMPORT_FORMATS = {"yaml": ".yaml", "markdown": ".md", "csv": ".csv"}
MAX_IMPORT_CHARS = 1_000_000


def article_fields(form: dict[str, Any]) -> dict[str, Any]:
    title, body = field(form, "title").strip(), field(form, "body").strip()
    if not title or len(title) > 200:
        raise ValueError("The title needs 1 to 200 characters.")
    if not body or len(body) > 20000:
        raise ValueError("The text needs 1 to 20,000 characters.")
    tags = [t.strip() for t in field(form, "tags").split(",") if t.strip()][:30]
    return {"title": title, "body": body, "category": field(form, "category").strip()[:64], "tags": tags}


async def try_answer(app: App, question: str) -> dict[str, Any]:
    """What Jack would answer a guest who wrote ``question`` (nothing is stored or sent)."""
    plan = await app.services.conversations.preview_answer(question)
    meta = plan["meta"]
    ids = meta.get("knowledge_ids") or ([meta["knowledge_id"]] if meta.get("knowledge_id") else [])
    articles = [a for a in (app.services.knowledge.get(i) for i in ids) if a]
    return {"body": plan["body"], "answered_by": answered_by({"meta": meta}),
            "escalation": meta.get("escalation_reason") or "", "articles": articles}


@falcon.before(page_guard("staff"))
class KnowledgePage:
    def __init__(self, app: App):
        self.app = app

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, answer: Any = None,
                     question: str = "") -> None:
        q = (req.get_param("q") or "").strip()[:200]
        knowledge = self.app.services.knowledge
        if q:
            matches = await asyncio.to_thread(knowledge.search, q, 50)
            articles = [m.article for m in matches]
        else:
            articles = await asyncio.to_thread(knowledge.list)
        editing = None
        edit = req.get_param("edit")
        if edit and edit.isdigit():
            editing = await asyncio.to_thread(knowledge.get, int(edit))
        render(self.app, req, resp, "knowledge.html", articles=articles, q=q, editing=editing,
               can_edit=role_allows(req.context.staff.role, "manager"), answer=answer, question=question,
               formats=IMPORT_FORMATS)

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        form = await form_data(req)
        action = field(form, "action")
        knowledge = self.app.services.knowledge
        if action == "try":
            question = field(form, "question").strip()[:2000]
            if not question:
                flash(req, resp, "Write a question to try.", "error")
                raise see_other("/knowledge")
            answer = await try_answer(self.app, question)
            await self.on_get(req, resp, answer=answer, question=question)
            return
        if not role_allows(req.context.staff.role, "manager"):
            raise error_page(self.app, req, falcon.HTTP_403, "Not for your role",
                             "Editing the knowledge base needs the manager role or higher.")
        who = req.context.staff.email
        try:
            if action == "create":
                article = await asyncio.to_thread(knowledge.create, **article_fields(form))
                await audit(self.app, who, "knowledge.create", f"knowledge:{article['id']}", None, article)
                flash(req, resp, f"Article “{article['title']}” created.")
            elif action == "update":
                article_id = int(field(form, "article_id") or 0)
                before = await asyncio.to_thread(knowledge.get, article_id)
                fields = article_fields(form)
                article = await asyncio.to_thread(knowledge.update, article_id, **fields)
                await audit(self.app, who, "knowledge.update", f"knowledge:{article_id}",
                            {k: (before or {}).get(k) for k in fields}, fields)
                flash(req, resp, f"Article “{article['title']}” saved.")
            elif action == "delete":
                article_id = int(field(form, "article_id") or 0)
                before = await asyncio.to_thread(knowledge.get, article_id)
                if not await asyncio.to_thread(knowledge.delete, article_id):
                    raise ArticleNotFound(f"knowledge article {article_id} does not exist")
                await audit(self.app, who, "knowledge.delete", f"knowledge:{article_id}", before, None)
                flash(req, resp, "Article deleted.")
            elif action == "import":
                kind = field(form, "format")
                report = await asyncio.to_thread(self._import, kind, field(form, "content"))
                await audit(self.app, who, "knowledge.import", "knowledge:*", None,
                            {"format": kind, "added": report.added, "updated": report.updated})
                flash(req, resp, f"Imported: {report.summary()}.")
            else:
                raise error_page(self.app, req, falcon.HTTP_400, "Unknown action",
                                 f"“{action}” is not something this page does.")
        except (ArticleNotFound, DuplicateArticleTitle, ValueError) as exc:
            flash(req, resp, str(exc), "error")
        raise see_other("/knowledge")

    def _import(self, kind: str, content: str) -> Any:
        if kind not in IMPORT_FORMATS:
            raise ValueError("Choose the format of the text to import: YAML, Markdown or CSV.")
        if not content.strip() or len(content) > MAX_IMPORT_CHARS:
            raise ValueError("Paste 1 to 1,000,000 characters to import.")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"import{IMPORT_FORMATS[kind]}"
            path.write_text(content, encoding="utf-8")
            try:
                return self.app.services.knowledge.import_file(path)
            except ValueError as exc:  # the temporary path means nothing to the user
                raise ValueError(str(exc).replace(str(path), "the pasted text")) from None


PAGES = [Page("/knowledge", KnowledgePage, MenuEntry("/knowledge", "Knowledge", "staff", 30))]
