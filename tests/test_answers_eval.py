"""The answers evaluation (benchmarks/answers.py) meets its targets with the embedded default (no model)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "answers.py"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("answers_benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = module.build_app(tmp_path_factory.mktemp("answers"))
    try:
        yield module, module.evaluate(app)
    finally:
        app.engine.dispose()


def test_the_evaluation_is_big_enough(report):
    module, figures = report
    languages = [m["language"] for m in module.load_messages()]
    assert sum(1 for lang in set(languages) if languages.count(lang) >= 20) >= 4  # en, es, zh, fr
    assert figures["all"]["messages"] >= 200 and figures["all"]["inquiries"] >= 80 and figures["all"]["requests"] >= 50
    assert figures["held_out"]["messages"] >= 80
    blind = [m for m in module.load_messages() if m["split"] == "fresh2"]  # the second blind set
    assert len(blind) >= 40 and len({m["language"] for m in blind}) >= 4
    assert {m["kind"] for m in blind} == {"article", "task", "urgent", "handover"}
    assert len(module.yaml.safe_load((module.HERE / "knowledge.yaml").read_text(encoding="utf-8"))) >= 80


def test_embedded_default_meets_the_targets(report):
    module, figures = report
    assert module.meets_targets(figures["all"]) == [], figures["confusion"]


def test_the_issues_examples_are_handled_right(report):
    _, figures = report
    wrong = {c["text"]: c for c in figures["confusion"]}
    for text in ("What time is checkout?", "I am locked out of my room", "Call 911", "Good morning", "Wake me up at 6am",
                 "Can I get extra towels please?"):
        assert text not in wrong, wrong.get(text)
