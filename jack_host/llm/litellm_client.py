"""Lazy access to LiteLLM.

LiteLLM takes seconds to import and, by default, downloads its cost map from the
internet at import time.  Hotels' servers may have no internet, so the bundled
map is selected *before* the first import, and the import happens on first use.
"""

from __future__ import annotations

import os
import threading
from types import ModuleType

_lock = threading.Lock()


def litellm() -> ModuleType:
    """Import LiteLLM once, with its bundled cost map and without telemetry."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    with _lock:
        import litellm as module

        module.telemetry = False
        module.suppress_debug_info = True
        module.drop_params = True
    return module
