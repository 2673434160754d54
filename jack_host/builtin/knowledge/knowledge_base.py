"""``app.services.knowledge``: the hotel's knowledge articles, ranked full-text search and imports.

Search uses the SQLite FTS5 index ``knowledge_fts`` (kept in sync by triggers from
revision 0002) ranked with BM25, the title counting 5x, tags 2x, the body 1x.

A match is *confident* (the AI may answer from it without a model) when:

- its BM25 score (sign flipped so higher is better) is at least ``KB_MIN_SCORE``
  (default 0: any match; BM25 values depend on the size of the knowledge base,
  so a hotel with many articles may raise it), and
- it contains at least ``KB_MIN_COVERAGE`` (default 0.5) of the question's
  content words (stop words in en/es/fr/de removed, accents and plural ``s``
  ignored), and at least one of them is in its title or tags, so a word that
  merely appears in a long body does not count as "about this".
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import yaml
from sqlalchemy import DateTime, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from jack_host.builtin.knowledge.models import KnowledgeArticle, now_utc
from jack_host.contract.services import ArticleNotFound, DuplicateArticleTitle, Knowledge, KnowledgeMatch
from jack_host.db.models import iso
from jack_host.kit.language import ALL_STOPWORDS, fold, words

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from jack_host.config.settings import Settings

ARTICLE_FIELDS = ("title", "body", "category", "tags")

#: Ranked articles in one statement (built once: it runs for every guest message).
_FTS_SEARCH = text(
    "SELECT a.id, a.title, a.body, a.category, a.tags, a.created_at, a.updated_at, "
    "-bm25(knowledge_fts, 5.0, 1.0, 0.5, 2.0) AS score "
    "FROM knowledge_fts JOIN knowledge_articles a ON a.id = knowledge_fts.rowid "
    "WHERE knowledge_fts MATCH :match ORDER BY score DESC LIMIT :limit"
).columns(created_at=DateTime(), updated_at=DateTime())


class KnowledgeImportError(ValueError):
    """The file cannot be imported; the message names the file and what is wrong."""


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0

    def summary(self) -> str:
        return f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged"


@functools.lru_cache(maxsize=20_000)
def stem(word: str) -> str:
    """A crude, language-neutral stem: folded, trailing plural ``s``/``es`` removed (remembered: a
    hotel's vocabulary is small, and every search stems the words of the articles it ranks)."""
    word = fold(word)
    if len(word) > 4 and word.endswith("es"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s"):
        return word[:-1]
    return word


def content_terms(query: str) -> list[str]:
    """The query's meaningful words as stems, in order, without duplicates."""
    seen: dict[str, None] = {}
    for word in words(query):
        if word in ALL_STOPWORDS or fold(word) in ALL_STOPWORDS or len(word) < 2:
            continue
        seen.setdefault(stem(word), None)
    return list(seen)


def normalize_tags(tags: Any) -> str:
    if tags is None:
        return ""
    if isinstance(tags, str):
        parts = re.split(r"[;,]", tags)
    else:
        parts = [str(t) for t in tags]
    return ",".join(p.strip() for p in parts if p.strip())


def article_dict(article: KnowledgeArticle) -> dict[str, Any]:
    return {
        "id": article.id,
        "title": article.title,
        "body": article.body,
        "category": article.category,
        "tags": [t for t in article.tags.split(",") if t],
        "created_at": iso(article.created_at),
        "updated_at": iso(article.updated_at),
    }


class KnowledgeBase(Knowledge):
    """CRUD, search and import of knowledge articles."""

    def __init__(self, engine: Engine, settings: Settings):
        self.engine = engine
        self.settings = settings

    # ------------------------------------------------------------------ CRUD

    def list(self, category: str | None = None) -> list[dict[str, Any]]:
        with Session(self.engine) as session:
            query = select(KnowledgeArticle).order_by(col(KnowledgeArticle.title))
            if category:
                query = query.where(KnowledgeArticle.category == category)
            return [article_dict(a) for a in session.exec(query).all()]

    def get(self, article_id: int) -> dict[str, Any] | None:
        with Session(self.engine) as session:
            article = session.get(KnowledgeArticle, article_id)
            return article_dict(article) if article else None

    def create(self, title: str, body: str, category: str = "", tags: Any = None) -> dict[str, Any]:
        """Add an article. :raises DuplicateArticleTitle: / ValueError: empty title or body."""
        title, body = _required(title, "title"), _required(body, "body")
        with Session(self.engine, expire_on_commit=False) as session:
            if session.exec(select(KnowledgeArticle.id).where(KnowledgeArticle.title == title)).first() is not None:
                raise DuplicateArticleTitle(f"an article titled '{title}' already exists")
            now = now_utc()
            article = KnowledgeArticle(
                title=title, body=body, category=(category or "").strip(), tags=normalize_tags(tags), created_at=now, updated_at=now
            )
            session.add(article)
            _commit_unique_title(session, title)
            return article_dict(article)

    def update(self, article_id: int, **fields: Any) -> dict[str, Any]:
        """Change title, body, category or tags. :raises ArticleNotFound: / DuplicateArticleTitle: / ValueError:"""
        unknown = set(fields) - set(ARTICLE_FIELDS)
        if unknown:
            raise ValueError(f"unknown article field(s): {', '.join(sorted(unknown))}; expected {', '.join(ARTICLE_FIELDS)}")
        with Session(self.engine, expire_on_commit=False) as session:
            article = session.get(KnowledgeArticle, article_id)
            if article is None:
                raise ArticleNotFound(f"knowledge article {article_id} does not exist")
            for key, value in fields.items():
                if key in ("title", "body"):
                    value = _required(value, key)
                elif key == "tags":
                    value = normalize_tags(value)
                else:
                    value = (value or "").strip()
                setattr(article, key, value)
            article.updated_at = now_utc()
            session.add(article)
            _commit_unique_title(session, article.title)
            return article_dict(article)

    def delete(self, article_id: int) -> bool:
        with Session(self.engine) as session:
            article = session.get(KnowledgeArticle, article_id)
            if article is None:
                return False
            session.delete(article)
            session.commit()
            return True

    def upsert(self, title: str, body: str, category: str = "", tags: Any = None) -> str:
        """Add or update by title; returns ``added``, ``updated`` or ``unchanged``."""
        title, body = _required(title, "title"), _required(body, "body")
        category, tags = (category or "").strip(), normalize_tags(tags)
        with Session(self.engine) as session:
            article = session.exec(select(KnowledgeArticle).where(KnowledgeArticle.title == title)).first()
            now = now_utc()
            if article is None:
                session.add(KnowledgeArticle(title=title, body=body, category=category, tags=tags, created_at=now, updated_at=now))
                outcome = "added"
            elif (article.body, article.category, article.tags) == (body, category, tags):
                return "unchanged"
            else:
                article.body, article.category, article.tags, article.updated_at = body, category, tags, now
                session.add(article)
                outcome = "updated"
            session.commit()
        return outcome

    # ------------------------------------------------------------------ search

    def search(self, query: str, limit: int = 3) -> list[KnowledgeMatch]:
        """The best ``limit`` articles for ``query``, best first, each with its confidence."""
        terms = content_terms(query)
        if not terms:
            return []
        if self.engine.dialect.name == "sqlite":
            ranked = self._fts(terms, limit)
        else:
            ranked = self._scan(terms, limit)
        min_score = float(self.settings.get("KB_MIN_SCORE") or 0.0)
        min_coverage = float(self.settings.get("KB_MIN_COVERAGE") or 0.5)
        matches = []
        for article, score in ranked:
            coverage, in_heading = _coverage(terms, article)
            confident = score >= min_score and coverage >= min_coverage and in_heading
            matches.append(KnowledgeMatch(article_dict(article), round(score, 4), round(coverage, 3), confident))
        return matches

    def best_confident(self, query: str) -> KnowledgeMatch | None:
        matches = self.search(query, limit=1)
        return matches[0] if matches and matches[0].confident else None

    def _fts(self, terms: list[str], limit: int) -> list[tuple[Any, float]]:
        # Each term is quoted (no FTS syntax from guests) and prefix-matched (towel -> towels).
        match = " OR ".join(f'"{term}"*' for term in terms)
        with self.engine.connect() as connection:
            rows = connection.execute(_FTS_SEARCH, {"match": match, "limit": limit}).mappings().all()
        return [(SimpleNamespace(**{k: v for k, v in row.items() if k != "score"}), float(row["score"])) for row in rows]

    def _scan(self, terms: list[str], limit: int) -> list[tuple[KnowledgeArticle, float]]:
        """Databases without FTS5: score by weighted term counts (fine for a hotel's few hundred articles)."""
        with Session(self.engine) as session:
            articles = session.exec(select(KnowledgeArticle)).all()
        scored = []
        for article in articles:
            fields = ((article.title, 5.0), (article.body, 1.0), (article.category, 0.5), (article.tags, 2.0))
            score = sum(weight * sum(1 for w in words(value) if any(stem(w).startswith(t) for t in terms)) for value, weight in fields)
            if score:
                scored.append((article, float(score)))
        scored.sort(key=lambda pair: -pair[1])
        return scored[:limit]

    # ------------------------------------------------------------------ import

    def import_file(self, path: Path) -> ImportReport:
        """Import a YAML list, a Markdown file (``## Title`` sections) or a CSV (title,body,category,tags).

        :raises KnowledgeImportError: unreadable file, unknown format or an invalid entry.
        """
        path = Path(path)
        try:
            content = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise KnowledgeImportError(f"{path}: cannot read ({exc.strerror})") from None
        except UnicodeDecodeError:
            raise KnowledgeImportError(f"{path}: not UTF-8 text") from None
        suffix = path.suffix.lower()
        if suffix in (".yaml", ".yml"):
            entries = _parse_yaml(path, content)
        elif suffix in (".md", ".markdown"):
            entries = _parse_markdown(path, content)
        elif suffix == ".csv":
            entries = _parse_csv(path, content)
        else:
            raise KnowledgeImportError(f"{path}: unknown format '{suffix}'; expected .yaml/.yml, .md or .csv")
        for number, entry in enumerate(entries, 1):
            if not str(entry.get("title") or "").strip() or not str(entry.get("body") or "").strip():
                raise KnowledgeImportError(f"{path}: entry {number} needs a non-empty title and body")
        report = ImportReport()
        for entry in entries:
            outcome = self.upsert(str(entry["title"]), str(entry["body"]), str(entry.get("category") or ""), entry.get("tags"))
            setattr(report, outcome, getattr(report, outcome) + 1)
        return report


def _commit_unique_title(session: Session, title: str) -> None:
    """Commit; a title taken meanwhile (the unique index) is a :class:`DuplicateArticleTitle`."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise DuplicateArticleTitle(f"an article titled '{title}' already exists") from None


def _required(value: Any, name: str) -> str:
    text_value = str(value or "").strip()
    if not text_value:
        raise ValueError(f"an article needs a non-empty {name}")
    return text_value


def _coverage(terms: list[str], article: KnowledgeArticle) -> tuple[float, bool]:
    all_stems = {stem(w) for w in words(f"{article.title} {article.body} {article.category} {article.tags}")}
    heading_stems = {stem(w) for w in words(f"{article.title} {article.tags.replace(',', ' ')}")}

    def present(term: str, stems: set[str]) -> bool:
        return any(s == term or (len(term) >= 4 and s.startswith(term)) for s in stems)

    covered = [t for t in terms if present(t, all_stems)]
    return len(covered) / len(terms), any(present(t, heading_stems) for t in covered)


def _parse_yaml(path: Path, content: str) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(content)
    except yaml.YAMLError as exc:
        raise KnowledgeImportError(f"{path}: invalid YAML ({exc})") from None
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise KnowledgeImportError(f"{path}: expected a YAML list of {{title, body, category, tags}} entries")
    return data


def _parse_markdown(path: Path, content: str) -> list[dict[str, Any]]:
    """``# Category`` headings set the category of the ``## Title`` sections below them."""
    entries: list[dict[str, Any]] = []
    category = ""
    current: dict[str, Any] | None = None
    for line in content.splitlines():
        if line.startswith("## "):
            current = {"title": line[3:].strip(), "body": [], "category": category, "tags": ""}
            entries.append(current)
        elif line.startswith("# "):
            category, current = line[2:].strip(), None
        elif current is not None:
            tag_line = re.match(r"^\s*tags:\s*(.+)$", line, re.IGNORECASE)
            if tag_line and not current["body"]:
                current["tags"] = tag_line.group(1)
            else:
                current["body"].append(line)
    if not entries:
        raise KnowledgeImportError(f"{path}: no '## Title' sections found")
    for entry in entries:
        entry["body"] = "\n".join(entry["body"]).strip()
    return entries


def _parse_csv(path: Path, content: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(content))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "title" not in header or "body" not in header:
        raise KnowledgeImportError(f"{path}: the first row must name the columns title,body,category,tags")
    return [{(k or "").strip().lower(): (v or "") for k, v in row.items()} for row in reader]
