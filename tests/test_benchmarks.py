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


def test_pipeline_benchmark_answers_every_guest_message_through_litellm():
    out = run_benchmark("benchmarks/pipeline_throughput.py", "--guests", "3", "--messages", "2")
    assert "via LiteLLM as openai/gpt-4o-mini" in out
    assert re.search(r"^replies: 6 in ", out, re.MULTILINE), out
    assert re.search(r"^host overhead +p50 +[\d.]+ ms +p95 +[\d.]+ ms", out, re.MULTILINE), out


def test_pipeline_benchmark_without_a_model_answers_from_the_knowledge_base():
    out = run_benchmark("benchmarks/pipeline_throughput.py", "--guests", "2", "--messages", "2", "--no-model")
    assert "model=none (knowledge path)" in out
    assert re.search(r"^replies: 4 in ", out, re.MULTILINE), out


def test_cost_ledger_benchmark_records_its_calls():
    out = run_benchmark("benchmarks/bench_cost_ledger.py", "50")
    assert re.search(r"^50 calls: record\+price\+budget check [\d.]+ ms/call", out, re.MULTILINE), out


def test_backup_benchmark_backs_up_verifies_and_restores_a_small_database(tmp_path):
    out = run_benchmark("benchmarks/backup_restore.py", "--mb", "2", "--dir", str(tmp_path))
    for step in ("jack backup create:", "jack backup verify --latest:", "jack restore --latest (+ verify):"):
        assert step in out, out
