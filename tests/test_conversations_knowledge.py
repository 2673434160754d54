"""Knowledge base: FTS5 search kept in sync, confidence, imports and the ``jack kb`` commands."""

from __future__ import annotations

import pytest

from jack_host.builtin.knowledge.knowledge_base import KnowledgeImportError
from jack_host.contract.services import DuplicateArticleTitle
from jack_host.testing import make_app, run_jack


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


def test_search_ranks_and_follows_updates_and_deletes(app):
    kb = app.services.knowledge
    wifi = kb.create("Wi-Fi", "The network is MiramarGuest; the password is on your key card.", "rooms", ["wifi", "internet"])
    kb.create("Pool", "The rooftop pool is open 8:00-20:00. Towels are at the pool bar.", "leisure", "pool,swimming")
    kb.create("Towels", "Extra towels: call housekeeping on 9.", "rooms", "towels")

    top = kb.search("Where do I get towels for the pool?")
    assert [m.article["title"] for m in top] == ["Pool", "Towels"]  # "Pool" has both words, "Towels" one
    assert kb.search("wifi password")[0].article["title"] == "Wi-Fi"

    kb.update(wifi["id"], title="Internet", tags="internet")
    assert kb.search("wifi password")[0].article["title"] == "Internet"  # still found through the body
    kb.delete(wifi["id"])
    assert all(m.article["title"] != "Internet" for m in kb.search("wifi password"))


def test_confidence_needs_coverage_and_a_title_or_tag_hit(app):
    kb = app.services.knowledge
    kb.create("Breakfast", "Breakfast is served 7:00-10:30 in the Garden Room.", "dining", "food")
    kb.create("Spa", "The spa offers massages; book at reception. Guests may have breakfast on the spa terrace.", "leisure", "")
    assert kb.best_confident("What time is breakfast?").article["title"] == "Breakfast"
    assert kb.best_confident("¿A qué hora es el breakfast?") is not None  # stop words of every language ignored
    assert kb.best_confident("Can I bring my horse?") is None  # no match at all
    weak = kb.search("massages breakfast horses riding lessons")
    assert weak and not weak[0].confident  # two of five words: coverage too low


def test_guest_text_cannot_inject_fts_syntax(app):
    app.services.knowledge.create("Parking", "Garage, 15 EUR per night.", "", "")
    for query in ['park" OR "x', "NEAR(a b)", "*", "title:parking", "'); DROP TABLE knowledge_articles; --"]:
        app.services.knowledge.search(query)  # must not raise
    assert app.services.knowledge.search("parking")[0].article["title"] == "Parking"


def test_import_yaml_markdown_csv_counts_added_updated_unchanged(app, tmp_path):
    yaml_file = tmp_path / "kb.yaml"
    yaml_file.write_text("- {title: Parking, body: Garage 15 EUR, category: arrival, tags: [car, parking]}\n- {title: Pets, body: Dogs welcome}\n")
    assert app.services.knowledge.import_file(yaml_file).summary() == "2 added, 0 updated, 0 unchanged"

    md_file = tmp_path / "kb.md"
    md_file.write_text("# Dining\n\n## Breakfast\ntags: food, morning\nServed 7-10:30.\n\n## Pets\nDogs and cats welcome.\n")
    report = app.services.knowledge.import_file(md_file)
    assert (report.added, report.updated, report.unchanged) == (1, 1, 0)
    breakfast = next(a for a in app.services.knowledge.list() if a["title"] == "Breakfast")
    assert breakfast["category"] == "Dining" and breakfast["tags"] == ["food", "morning"] and breakfast["body"] == "Served 7-10:30."

    csv_file = tmp_path / "kb.csv"
    csv_file.write_text('title,body,category,tags\nParking,Garage 15 EUR,arrival,"car,parking"\nGym,Open 24h,leisure,fitness\n')
    assert app.services.knowledge.import_file(csv_file).summary() == "1 added, 0 updated, 1 unchanged"
    assert app.services.knowledge.search("gym")[0].article["title"] == "Gym"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("kb.yaml", "title: [unclosed", "invalid YAML"),
        ("kb.yaml", "just a string", "expected a YAML list"),
        ("kb.md", "no sections here", "no '## Title' sections"),
        ("kb.csv", "name,text\na,b\n", "title,body,category,tags"),
        ("kb.yaml", "- {title: Empty}\n", "entry 1 needs a non-empty title and body"),
        ("kb.txt", "x", "unknown format '.txt'"),
    ],
)
def test_import_errors_are_precise(app, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(KnowledgeImportError, match=message):
        app.services.knowledge.import_file(path)
    assert app.services.knowledge.list() == []


def test_duplicate_title_is_refused(app):
    app.services.knowledge.create("Pool", "Open 8-20")
    with pytest.raises(DuplicateArticleTitle, match="an article titled 'Pool' already exists"):
        app.services.knowledge.create("Pool", "Other")
    spa = app.services.knowledge.create("Spa", "Open 10-18")
    with pytest.raises(DuplicateArticleTitle, match="an article titled 'Pool' already exists"):
        app.services.knowledge.update(spa["id"], title="Pool")
    assert app.services.knowledge.get(spa["id"])["title"] == "Spa"


def test_jack_kb_import_and_search_commands(tmp_path):
    faq = tmp_path / "faq.md"
    faq.write_text("## Breakfast\nServed 7:00-10:30 in the Garden Room.\n\n## Parking\nGarage, 15 EUR per night.\n")
    result = run_jack(tmp_path, "kb", "import", str(faq))
    assert result.returncode == 0, result.stderr
    assert "2 added, 0 updated, 0 unchanged" in result.stdout
    assert "0 added, 0 updated, 2 unchanged" in run_jack(tmp_path, "kb", "import", str(faq)).stdout

    found = run_jack(tmp_path, "kb", "search", "what", "time", "is", "breakfast")
    assert found.returncode == 0 and "confident" in found.stdout and "Breakfast" in found.stdout.splitlines()[0]

    missing = run_jack(tmp_path, "kb", "import", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 1 and "cannot read" in missing.stderr and "Traceback" not in missing.stderr
    assert "jack kb import hotel-faq.md" in run_jack(tmp_path, "kb", "import", "--help").stdout
