"""The benchmark scripts still run: each on a tiny load, checking it did the work it reports on.

Their figures are quoted in the docs and issue notes; a script that no longer runs would
leave those figures unverifiable.  Timings are not asserted here (that is what the
scripts are for, on a quiet machine).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_benchmark(*args: str) -> str:
    result = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def counted(out: str, pattern: str) -> tuple[int, ...]:
    """The numbers a benchmark printed on the line matching ``pattern`` (its groups are ``(\\d+)``)."""
    found = re.search(pattern, out, re.MULTILINE)
    assert found, f"no line matching {pattern!r} in:\n{out}"
    return tuple(int(group) for group in found.groups())


def test_pipeline_benchmark_answers_every_guest_message_through_litellm():
    guests, messages = 3, 2
    out = run_benchmark("benchmarks/pipeline_throughput.py", "--guests", str(guests), "--messages", str(messages))
    sent = guests * messages
    assert "via LiteLLM as openai/gpt-4o-mini" in out
    assert counted(out, r"^replies: (\d+) in ") == (sent,)
    # Every reply came from the model, through the LiteLLM provider ("primary")...
    assert counted(out, r"^replies via the model: (\d+) of (\d+) \(provider primary: (\d+)\)$") == (sent, sent, sent)
    assert counted(out, r"^reply paths: llm: (\d+)$") == (sent,)
    # ...which reached the fake OpenAI server once per message (and once for the untimed warm-up guest),
    calls = sent + 1
    assert counted(out, r"^fake OpenAI server: (\d+) chat completions received$") == (calls,)
    # and each call left one priced row in the cost ledger.
    assert counted(out, r"^cost ledger: (\d+) rows, (\d+) ok, (\d+) priced above zero$") == (calls, calls, calls)
    assert re.search(r"^host overhead +p50 +[\d.]+ ms +p95 +[\d.]+ ms", out, re.MULTILINE), out


def test_pipeline_benchmark_without_a_model_answers_from_the_knowledge_base():
    guests, messages = 2, 2
    out = run_benchmark("benchmarks/pipeline_throughput.py", "--guests", str(guests), "--messages", str(messages), "--no-model")
    sent = guests * messages
    assert "model=none (knowledge path)" in out
    assert counted(out, r"^replies: (\d+) in ") == (sent,)
    assert counted(out, r"^reply paths: knowledge: (\d+)$") == (sent,)
    assert counted(out, r"^replies via the model: (\d+) of (\d+) \(none\)$") == (0, sent)
    assert counted(out, r"^fake OpenAI server: (\d+) chat completions received$") == (0,)
    assert counted(out, r"^cost ledger: (\d+) rows, (\d+) ok, (\d+) priced above zero$") == (0, 0, 0)


def test_cost_ledger_benchmark_records_its_calls():
    calls = 50
    out = run_benchmark("benchmarks/bench_cost_ledger.py", str(calls))
    assert re.search(rf"^{calls} calls: record\+price\+budget check [\d.]+ ms/call", out, re.MULTILINE), out
    assert counted(out, r"^cost ledger: (\d+) rows, (\d+) priced above zero$") == (calls, calls)


def test_backup_benchmark_backs_up_verifies_and_restores_a_small_database(tmp_path):
    out = run_benchmark("benchmarks/backup_restore.py", "--mb", "2", "--dir", str(tmp_path))
    for step in ("jack backup create:", "jack backup verify --latest:", "jack restore --latest (+ verify):"):
        assert step in out, out
