"""``app.services.knowledge``: the hotel's knowledge articles, ranked full-text search and imports.

Search uses the SQLite FTS5 index ``knowledge_fts`` (kept in sync by triggers from
revision 0002) ranked with BM25, the title counting 5x, tags 2x, the body 1x.

A match is *confident* (the AI may answer from it without a model) when:

- its BM25 score (sign flipped so higher is better) is at least ``KB_MIN_SCORE``
  (default 0: any match; BM25 values depend on the size of the knowledge base,
  so a hotel with many articles may raise it), and
- it contains at least ``KB_MIN_COVERAGE`` (default 0.5) of the question's
  topical content words (see below; stop words removed, accents, plural ``s`` and ``-ing`` ignored,
  "check-out"/"check out"/"checkout" one word), and at least one of them is in
  its title or tags, so a word that merely appears in a long body does not count
  as "about this", and
- it contains EVERY topical word of the question: words such as "time", "open",
  "price", "room" or "hotel" (:data:`GENERIC_TERMS`) say what is asked about a
  topic, not which topic, so they may be missing; "checkout" may not ("What time
  is checkout?" is not answered by the check-in article).

The candidates are ranked by how much of the question they cover, then by how
much of their own title the question names ("What time is breakfast?" is the
"Breakfast" article, not "Breakfast Price"), then by BM25.  When two articles
tie on all of that, neither is confident: a hand-over beats a coin toss.
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
    """A crude, language-neutral stem: folded, trailing plural ``s``/``es`` and ``ing`` removed (remembered: a
    hotel's vocabulary is small, and every search stems the words of the articles it ranks)."""
    word = fold(word)
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and (word.endswith(("ches", "shes")) or (word.endswith("es") and word[-3] in "sxz")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


#: Words written apart or hyphenated that mean one thing ("check-out", "check out" -> "checkout").
COMPOUNDS = [
    (re.compile(r"\bcheck[\s-]?out\b"), "checkout"),
    (re.compile(r"\bcheck[\s-]?in\b"), "checkin"),
    (re.compile(r"\bwi[\s-]?fi\b"), "wifi"),
    (re.compile(r"\bwake[\s-]?up\b"), "wakeup"),
    (re.compile(r"\bhair[\s-]?dryers?\b"), "hairdryer"),
    (re.compile(r"\bkey[\s-]?cards?\b"), "keycard"),
    (re.compile(r"\be[\s-]?mail\b"), "email"),
]
#: The FTS phrases a compound also matches in the index (which keeps the words apart).
COMPOUND_PHRASES = {"checkout": "check out", "checkin": "check in", "wifi": "wi fi", "wakeup": "wake up",
                    "hairdryer": "hair dryer", "keycard": "key card"}
#: Words that say what is asked about a topic, not which topic: they rank, but need not be covered.
GENERIC_TERMS = frozenset(stem(w) for w in (
    "time times hour hours open opening opened close closing until till long today tonight tomorrow "
    "price prices cost costs much many charge fee free available availability possible allowed allow "
    "hotel room rooms here there nearby near nearest closest close far around area "
    "get got need want like know tell find use using offer have has do does make go going come "
    "any anything something kind type way one ones also still please thanks thank option options choice "
    "bring leave take put keep see stay able work works big large small size "
    # the same in the other languages guests write in (a hotel may keep articles in Spanish or German)
    "hora horas horario heure heures horaire uhr zeit ora orario tijd precio prix preis prezzo preco cuanto combien "
    "habitacion chambre zimmer camera quarto kamer abierto ouvert geoffnet aperto aberto"
    "day days night nights morning evening week per each every guest guests hi hello"
).split())


def fold_compounds(text: str) -> str:
    """Folded text with :data:`COMPOUNDS` joined, for matching questions and articles alike."""
    folded = fold(text)
    for pattern, joined in COMPOUNDS:
        folded = pattern.sub(joined, folded)
    return folded


def content_terms(query: str) -> list[str]:
    """The query's meaningful words as stems, in order, without duplicates."""
    seen: dict[str, None] = {}
    for word in words(fold_compounds(query)):
        if word in ALL_STOPWORDS or fold(word) in ALL_STOPWORDS or len(word) < 2:
            continue
        seen.setdefault(stem(word), None)
    if "when" in words(query):
        seen.setdefault("time", None)  # "when is X" asks for X's time, as "what time is X" does
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
        pool = max(limit * 4, 12)  # re-ranked below: BM25 alone prefers short articles over the right one
        if self.engine.dialect.name == "sqlite":
            ranked = self._fts(terms, pool)
        else:
            ranked = self._scan(terms, pool)
        min_score = float(self.settings.get("KB_MIN_SCORE") or 0.0)
        min_coverage = float(self.settings.get("KB_MIN_COVERAGE") or 0.5)
        topical = [t for t in terms if t not in GENERIC_TERMS]
        graded = []
        for position, (article, score) in enumerate(ranked):
            fit = _fit(terms, topical, article)
            confident = bool(topical) and score >= min_score and fit.coverage >= min_coverage and fit.in_heading and fit.all_topical
            key = (fit.all_topical, fit.coverage, fit.heading_hits, fit.any_coverage, fit.title_named, -position)
            graded.append((key, KnowledgeMatch(article_dict(article), round(score, 4), round(fit.coverage, 3), confident)))
        graded.sort(key=lambda pair: pair[0], reverse=True)
        if len(graded) > 1 and graded[0][1].confident and graded[0][0][:5] == graded[1][0][:5]:
            graded[0][1].confident = False  # two articles fit equally well: do not guess
        return [match for _, match in graded[:limit]]

    def best_confident(self, query: str) -> KnowledgeMatch | None:
        matches = self.search(query, limit=1)
        return matches[0] if matches and matches[0].confident else None

    def _fts(self, terms: list[str], limit: int) -> list[tuple[Any, float]]:
        # Each term is quoted (no FTS syntax from guests) and prefix-matched (towel -> towels).
        match = " OR ".join(
            f'"{term}"* OR "{COMPOUND_PHRASES[term]}"' if term in COMPOUND_PHRASES else f'"{term}"*' for term in terms
        )
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

        :raises KnowledgeImportError: (a ValueError) unreadable file, unknown format or an invalid entry.
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


@dataclass
class _Fit:
    coverage: float  # share of the question's topical words the article contains
    any_coverage: float  # share of all its words, generic ones too ("open" for "pool opening hours")
    in_heading: bool  # one of them is in its title or tags
    heading_hits: int  # how many topical words are in its title or tags
    all_topical: bool  # every topical word is in it
    title_named: float  # share of the title's words the question names


def _stems(text: str) -> set[str]:
    return {stem(w) for w in words(fold_compounds(text)) if w not in ALL_STOPWORDS}


def _present(term: str, stems: set[str]) -> bool:
    """``term`` is one of ``stems``, or a stem extends it by a few letters (towel/towelling, not safe/safety)."""
    return any(s == term or (len(term) >= 5 and s.startswith(term) and len(s) - len(term) <= 3) for s in stems)


def _fit(terms: list[str], topical: list[str], article: Any) -> _Fit:
    all_stems = _stems(f"{article.title} {article.body} {article.category} {article.tags}")
    heading_stems = _stems(f"{article.title} {article.tags.replace(',', ' ')}")
    title_stems = _stems(article.title)
    # Coverage counts the topical words when there are any: "until", "available" or "hotel" missing
    # from the Room Service article does not make it less about room service.
    counted = topical or terms
    covered = [t for t in counted if _present(t, all_stems)]
    named = [s for s in title_stems if _present(s, set(terms))]
    return _Fit(
        coverage=len(covered) / len(counted),
        any_coverage=sum(1 for t in terms if _present(t, all_stems)) / len(terms),
        in_heading=any(_present(t, heading_stems) for t in covered),
        heading_hits=sum(1 for t in topical if _present(t, heading_stems)),
        all_topical=all(_present(t, all_stems) for t in topical),
        title_named=len(named) / max(len(title_stems), 1),
    )


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
