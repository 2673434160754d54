"""Time to the first answer after a cold start of the real ``jack serve`` (issue 16).

Each run makes a fresh folder, imports one "Breakfast" article with ``jack kb import``, starts
``jack serve`` (the test channel loaded with ``JACK_EXTRA_PLUGINS=jack_host.testing.channel``),
and as soon as ``GET /health/ready`` answers 200 posts "What time is breakfast?" to
``/test-channel/inbound``.  It prints, per scenario:

- ready: seconds from spawning the process to ready;
- first answer: seconds from posting the message to the test channel having sent the reply;
- which reply it was (the article, or the holding text).

Scenarios: ``embedded`` (no model configured, every installed plugin loaded, no Ollama running),
``hanging`` (the paid model accepts the request and never answers; ``AI_TIMEOUT_SECONDS=5``), and
``model`` (the paid model answers at once).  The paid model is the loopback fake OpenAI server.

    .venv/bin/python benchmarks/first_answer.py                       # each scenario once
    .venv/bin/python benchmarks/first_answer.py --runs 3 --scenario hanging
    PYTHONPATH=/tmp/old-checkout .venv/bin/python benchmarks/first_answer.py   # another version's code

Timings depend on the machine and its load: note ``uptime`` alongside them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from jack_host.testing import JackProcess, run_jack, wait_until
from jack_host.testing.fake_llm import FakeOpenAI

BREAKFAST = "Breakfast is served from 7:00 to 10:30 in the Garden Room on the ground floor."
SCENARIOS = ("embedded", "hanging", "model")


def one_run(scenario: str, llm: FakeOpenAI) -> tuple[float, float, str]:
    folder = Path(tempfile.mkdtemp(prefix=f"jack-first-answer-{scenario}-"))
    env = {"JACK_EXTRA_PLUGINS": "jack_host.testing.channel", "JWT_SECRET": "b" * 40, "AI_TIMEOUT_SECONDS": "5"}
    if scenario != "embedded":
        env.update(llm.env())
    if os.environ.get("PYTHONPATH"):  # the test kit gives jack a clean environment: pass the code to measure on
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    articles = folder / "kb.yaml"
    articles.write_text(f"- title: Breakfast\n  body: {BREAKFAST}\n  category: dining\n  tags: [breakfast, food]\n")
    imported = run_jack(folder, "kb", "import", str(articles), env=env)
    if imported.returncode != 0:
        raise SystemExit(f"jack kb import failed: {imported.stderr[-500:]}")
    jack = JackProcess(folder, env=env)
    spawned = time.monotonic()
    jack.start()
    ready = time.monotonic()
    try:
        response = httpx.post(jack.url + "/test-channel/inbound", timeout=60,
                              json={"channel_message_id": "first", "body": "What time is breakfast?", "sender_phone": "+34600111222"})
        response.raise_for_status()
        sent = wait_until(lambda: httpx.get(jack.url + "/test-channel/sent", timeout=10).json()["sent"], timeout=120,
                          interval=0.01, what="the first reply")
        answered = time.monotonic()
    finally:
        jack.stop()
    body = sent[0]["body"]
    kind = "article" if body == BREAKFAST else ("model" if body == "From the model." else "holding")
    return ready - spawned, answered - ready, kind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="runs per scenario (default 1)")
    parser.add_argument("--scenario", choices=SCENARIOS, action="append", help="only this scenario (repeatable)")
    args = parser.parse_args()
    for scenario in args.scenario or SCENARIOS:
        delay = 600.0 if scenario == "hanging" else 0.0
        with FakeOpenAI(reply={"reply": "From the model.", "confident": True}, delay=delay) as llm:
            results = [one_run(scenario, llm) for _ in range(args.runs)]
        for ready, answer, kind in results:
            print(f"{scenario}: ready {ready:.1f} s, first answer {answer:.2f} s after ready ({kind})")
        if len(results) > 1:
            print(f"{scenario}: median ready {statistics.median(r[0] for r in results):.1f} s, "
                  f"median first answer {statistics.median(r[1] for r in results):.2f} s")


if __name__ == "__main__":
    main()
