"""``app.warm_up``: slow start-up work runs before the first guest needs it, then the heap is frozen."""

from __future__ import annotations

import asyncio
import gc
import logging

from jack_host.kit.litellm import imported as litellm_imported
from jack_host.testing import make_app
from jack_host.testing.fake_llm import FakeOpenAI


async def test_with_a_model_configured_litellm_is_imported_at_start_and_the_heap_frozen_then_given_back(tmp_path):
    with FakeOpenAI(reply="hello") as llm:
        app = make_app(tmp_path, env=llm.env())
        await app.start()
        try:
            await asyncio.wait_for(app.warm_up.done.wait(), 60)
            assert litellm_imported()
            assert [task.get_name() for task in app.warm_up.tasks] == ["warm-up-litellm-import"]
            assert gc.get_freeze_count() > 10_000  # the imports' long-lived objects left the collector's generations
        finally:
            await app.stop()
    assert gc.get_freeze_count() == 0  # frozen objects would never be collected; stop gives them back


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
