"""``app.warm_up``: slow start-up work runs before the first guest needs it, then the heap is frozen."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys

from jack_host.testing import make_app
from jack_host.testing.fake_llm import FakeOpenAI

#: Builds and starts an app in a fresh interpreter (nothing imported LiteLLM there before) and
#: prints what the warm-up did as JSON.  argv: the app's folder, its settings as JSON.
WARM_UP_IN_A_FRESH_PROCESS = r"""
import asyncio, gc, json, sys
from pathlib import Path

from jack_host.kit.litellm import imported
from jack_host.testing import make_app


async def main(folder, env):
    report = {"at_start": "litellm" in sys.modules}
    app = make_app(Path(folder), env=env)
    report["after_build"] = "litellm" in sys.modules
    await app.start()
    try:
        await asyncio.wait_for(app.warm_up.done.wait(), 120)
        report["after_warm_up"] = "litellm" in sys.modules
        report["imported"] = imported()
        report["tasks"] = [task.get_name() for task in app.warm_up.tasks]
        report["frozen"] = gc.get_freeze_count()
    finally:
        await app.stop()
    report["frozen_after_stop"] = gc.get_freeze_count()
    print(json.dumps(report))


asyncio.run(main(sys.argv[1], json.loads(sys.argv[2])))
"""


def warm_up_in_a_fresh_process(folder, env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", WARM_UP_IN_A_FRESH_PROCESS, str(folder), json.dumps(env)],
        capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_with_a_model_configured_litellm_is_imported_at_start_and_the_heap_frozen_then_given_back(tmp_path):
    with FakeOpenAI(reply="hello") as llm:
        report = warm_up_in_a_fresh_process(tmp_path, llm.env())
    # Building the app (every built-in plugin imported) leaves LiteLLM out; the warm-up brings it in.
    assert report["at_start"] is False and report["after_build"] is False
    assert report["after_warm_up"] is True and report["imported"] is True
    assert report["tasks"] == ["warm-up-language-detector", "warm-up-litellm-import"]
    assert report["frozen"] > 10_000  # the imports' long-lived objects left the collector's generations
    assert report["frozen_after_stop"] == 0  # frozen objects would never be collected; stop gives them back


def test_without_a_model_litellm_is_not_imported_at_all(tmp_path):
    report = warm_up_in_a_fresh_process(tmp_path, {})
    assert report["after_build"] is False
    assert report["after_warm_up"] is False and report["imported"] is False
    assert report["tasks"] == ["warm-up-language-detector"]  # the detector loads either way


async def test_a_failing_warm_up_is_logged_and_does_not_stop_the_heap_from_settling(tmp_path, caplog):
    app = make_app(tmp_path)

    def broken() -> None:
        raise OSError("disk unreadable")

    app.warm_up.in_thread("broken", broken)  # as a plugin's jack_startup would
    await app.start()
    try:
        with caplog.at_level(logging.WARNING, logger="jack.warm_up"):
            await asyncio.wait_for(app.warm_up.done.wait(), 60)
        assert "warm-up warm-up-broken failed: disk unreadable" in caplog.text
    finally:
        await app.stop()
