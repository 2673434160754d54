"""The embedded default never loads LiteLLM: checked on the real ``jack serve`` process from outside.

All installed plugins, no model configured, a knowledge question answered over the web chat:
the process's memory map (``/proc/PID/maps``) must not list LiteLLM's compiled libraries
(its own native bridge, tiktoken's tokenizer).  The same check on a served app with a model
configured does list them, so the check can fail.  RSS figures are printed for the note;
memory targets are measured by benchmarks/suite.py, not asserted here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from websockets.sync.client import connect

from jack_host.testing import JackProcess, run_jack
from jack_host.testing.fake_llm import FakeOpenAI

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/maps")

BREAKFAST = "Served from 7:00 to 10:30 in the Garden Room."
#: Shared objects only LiteLLM brings into the process (its imports are otherwise pure Python).
LITELLM_LIBRARIES = ("/litellm/", "/tiktoken/")


def litellm_mapped(pid: int) -> list[str]:
    lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return sorted({line.split()[-1] for line in lines if any(marker in line for marker in LITELLM_LIBRARIES)})


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for process {pid}")


def ask_web_chat(base_url: str, question: str) -> str:
    with connect(base_url.replace("http://", "ws://") + "/ws", origin=base_url, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "hello", "protocol": 1, "token": None, "language": "en"}))
        while json.loads(ws.recv(timeout=10))["type"] != "history":
            pass
        ws.send(json.dumps({"type": "message", "client_id": "c-lean", "body": question}))
        while True:
            frame = json.loads(ws.recv(timeout=30))
            if frame["type"] == "message" and frame.get("sender") == "ai":
                return frame["body"]


def prepared(tmp_path: Path) -> Path:
    faq = tmp_path / "faq.md"
    faq.write_text(f"## Breakfast\n{BREAKFAST}\n")
    result = run_jack(tmp_path, "kb", "import", str(faq))
    assert result.returncode == 0, result.stderr
    return tmp_path


def test_no_model_configured_jack_serve_answers_from_knowledge_without_litellm_in_memory(tmp_path):
    with JackProcess(prepared(tmp_path)) as jack:
        assert jack.process is not None
        assert BREAKFAST in ask_web_chat(jack.url, "What time is breakfast?")
        mapped = litellm_mapped(jack.process.pid)
        print(f"no model: RSS {rss_mib(jack.process.pid):.0f} MiB after a knowledge answer")
    assert mapped == [], f"LiteLLM's libraries are loaded with no model configured: {mapped}"


def test_with_a_model_configured_the_same_check_sees_litellm(tmp_path):
    with FakeOpenAI(reply='{"reply": "We have a gym on the roof."}') as llm, JackProcess(prepared(tmp_path), env=llm.env()) as jack:
        assert jack.process is not None
        assert ask_web_chat(jack.url, "Is there a gym?") == "We have a gym on the roof."
        mapped = litellm_mapped(jack.process.pid)
        print(f"model configured: RSS {rss_mib(jack.process.pid):.0f} MiB after a model answer")
    assert any("/litellm/" in path for path in mapped), mapped
