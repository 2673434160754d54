"""knowledge: the articles Jack answers from, and their FTS5 index (SQLite)

Revision ID: knowledge_0001
Revises: host_0001
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "knowledge_0001"
down_revision = "host_0001"
branch_labels = ("knowledge",)
depends_on = None
#: The flat layout's 0002_conversations created these tables; a database it made already has them.
legacy_revision = "0002_conversations"

# The FTS5 index mirrors knowledge_articles through triggers, so every write path
# (ORM, SQL, imports) keeps search in sync without application code.
FTS_STATEMENTS = [
    """CREATE VIRTUAL TABLE knowledge_fts USING fts5(
        title, body, category, tags,
        content='knowledge_articles', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER knowledge_ai AFTER INSERT ON knowledge_articles BEGIN
        INSERT INTO knowledge_fts(rowid, title, body, category, tags)
        VALUES (new.id, new.title, new.body, new.category, new.tags);
    END""",
    """CREATE TRIGGER knowledge_ad AFTER DELETE ON knowledge_articles BEGIN
        INSERT INTO knowledge_fts(knowledge_fts, rowid, title, body, category, tags)
        VALUES ('delete', old.id, old.title, old.body, old.category, old.tags);
    END""",
    """CREATE TRIGGER knowledge_au AFTER UPDATE ON knowledge_articles BEGIN
        INSERT INTO knowledge_fts(knowledge_fts, rowid, title, body, category, tags)
        VALUES ('delete', old.id, old.title, old.body, old.category, old.tags);
        INSERT INTO knowledge_fts(rowid, title, body, category, tags)
        VALUES (new.id, new.title, new.body, new.category, new.tags);
    END""",
]


def upgrade() -> None:
    op.create_table(
        "knowledge_articles",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String, nullable=False, unique=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("category", sa.String, nullable=False, server_default=""),
        sa.Column("tags", sa.String, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        for statement in FTS_STATEMENTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("knowledge_au", "knowledge_ad", "knowledge_ai"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS knowledge_fts")
    op.drop_table("knowledge_articles")
