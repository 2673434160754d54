"""Lazy access to LiteLLM.

LiteLLM takes seconds to import and, by default, downloads its cost map from the
internet at import time.  Hotels' servers may have no internet, so the bundled
map is selected *before* the first import, and the import happens on first use.
"""

from __future__ import annotations

import asyncio
import os
import threading
from types import ModuleType

_lock = threading.Lock()
_module: ModuleType | None = None


def litellm() -> ModuleType:
    """Import LiteLLM once, with its bundled cost map and without telemetry."""
    global _module  # the import is process-wide by nature; this only remembers it is done
    if _module is not None:
        return _module
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    with _lock:
        import litellm as module

        module.telemetry = False
        module.suppress_debug_info = True
        module.drop_params = True
        _module = module
    return module


def imported() -> bool:
    """True once :func:`litellm` has run, so callers can skip a thread hop on every call."""
    return _module is not None


async def litellm_loaded() -> ModuleType:
    """:func:`litellm` from the event loop: the one-off import in a thread, then a plain look-up.

    A thread hop on every call would cost more than the look-up (the loop hands the GIL to it).
    """
    return _module if _module is not None else await asyncio.to_thread(litellm)
