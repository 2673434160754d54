"""``app.warm_up``: slow one-off work done at start (imports), then the heap is frozen.

Plugins hand the host blocking start-up work (LiteLLM's import takes seconds)
with :meth:`WarmUp.in_thread`, so the first guest does not wait for it.  Once
every piece has finished, the host collects garbage once and calls
:func:`gc.freeze`: the hundreds of thousands of long-lived objects that the
imports created move out of the collector's generations.  Without it, each
full collection walks all of them, about 0.3 s during which the event loop
answers nobody (measured with ``benchmarks/pipeline_throughput.py``).
``await app.warm_up.done.wait()`` waits for it (benchmarks do, before timing).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger("jack.warm_up")


class WarmUp:
    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[Any]] = []
        #: Set once every warm-up finished and the heap is frozen.
        self.done = asyncio.Event()
        self._finisher: asyncio.Task[None] | None = None

    def in_thread(self, name: str, work: Callable[[], Any]) -> asyncio.Task[Any]:
        """Run blocking ``work`` in a thread now; the heap is frozen after it."""
        task = asyncio.create_task(asyncio.to_thread(work), name=f"warm-up-{name}")
        self.tasks.append(task)
        return task

    def start(self) -> None:
        """Called by the host once every plugin has started: freeze when the warm-ups are over."""
        self._finisher = asyncio.create_task(self._finish(), name="warm-up-finish")

    async def _finish(self) -> None:
        waited = 0
        while waited < len(self.tasks):  # also work handed over while we wait
            task = self.tasks[waited]
            waited += 1
            try:
                await task
            except Exception as exc:  # the work is done again, and reported, where it is needed
                log.warning("warm-up %s failed: %s", task.get_name(), exc)
        gc.collect()
        gc.freeze()
        log.debug("heap frozen after warm-up: %d objects", gc.get_freeze_count())
        self.done.set()

    async def stop(self) -> None:
        for task in [*self.tasks, *([self._finisher] if self._finisher else [])]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        # Frozen objects are never collected; give them back (tests build many apps in one process).
        gc.unfreeze()
