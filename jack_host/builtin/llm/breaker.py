"""A circuit breaker per LLM provider: a provider that keeps failing is skipped, and probed in the background.

``closed``: the provider is called.  ``open``: it failed (unreachable or timed out once,
or ``AI_BREAKER_FAILURES`` other failures in a row) and is skipped until the cool-down
(``AI_BREAKER_COOLDOWN_SECONDS``, doubled after each failed probe up to ten times) is
over.  ``half_open``: a probe is in flight, still skipped; the probe's success closes
the breaker, its failure opens it again.  Guests never wait for a probe.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from typing import Any

#: Outcomes that open the breaker at once: each retry would cost a guest the whole timeout or a refused connection.
OPEN_AT_ONCE = frozenset({"unreachable", "timeout"})
#: Outcomes that say nothing about the provider's health (a bad request, the ceiling): never counted.
NOT_COUNTED = frozenset({"rejected", "not_configured"})
#: The longest cool-down, however many probes failed.
MAX_COOLDOWN_FACTOR = 10


@dataclasses.dataclass
class BreakerState:
    state: str = "closed"
    since: dt.datetime | None = None
    last_error: str | None = None
    failures: int = 0
    probes_failed: int = 0
    retry_at: float = 0.0  # monotonic time the cool-down ends

    def public(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "since": self.since.isoformat() if self.since else None,
            "last_error": self.last_error,
            "consecutive_failures": self.failures,
        }


class CircuitBreakers:
    """The breakers of one app's providers (kept on the LLM service; read by /health in a thread)."""

    def __init__(self, failures_to_open: int, cooldown: float, clock=time.monotonic):
        self.failures_to_open = max(1, failures_to_open)
        self.cooldown = cooldown
        self.clock = clock
        self._states: dict[str, BreakerState] = {}
        self._lock = threading.Lock()

    def _get(self, name: str) -> BreakerState:
        return self._states.setdefault(name, BreakerState())

    def allows(self, name: str) -> bool:
        """True when the provider may be called for a guest now."""
        with self._lock:
            return self._get(name).state == "closed"

    def due_for_probe(self, name: str) -> bool:
        """True (once) when an open breaker's cool-down is over: it turns half-open and the caller probes."""
        with self._lock:
            state = self._get(name)
            if state.state != "open" or self.clock() < state.retry_at:
                return False
            state.state, state.since = "half_open", _now()
            return True

    def seconds_to_probe(self, name: str) -> float:
        with self._lock:
            return max(0.0, self._get(name).retry_at - self.clock())

    def success(self, name: str) -> bool:
        """Count a success; True when it closed the breaker."""
        with self._lock:
            state = self._get(name)
            changed = state.state != "closed"
            if changed:
                state.state, state.since = "closed", _now()
            state.failures = state.probes_failed = 0
            return changed

    def failure(self, name: str, outcome: str, error: str, *, probe: bool = False) -> bool:
        """Count a failure; True when it opened (or, for a probe, re-opened) the breaker: the caller schedules a probe."""
        if outcome in NOT_COUNTED and not probe:
            return False
        with self._lock:
            state = self._get(name)
            state.last_error = f"{outcome}: {error}"[:300]
            state.failures += 1
            if probe:
                state.probes_failed += 1
            elif state.state != "closed" or (outcome not in OPEN_AT_ONCE and state.failures < self.failures_to_open):
                return False
            factor = min(2 ** state.probes_failed, MAX_COOLDOWN_FACTOR)
            state.state, state.since = "open", _now()
            state.retry_at = self.clock() + self.cooldown * factor
            return True

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {name: state.public() for name, state in self._states.items()}

    def state_of(self, name: str) -> dict[str, Any]:
        with self._lock:
            return self._get(name).public()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)
