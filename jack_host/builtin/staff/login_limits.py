"""Slow down password guessing: failed sign-ins are counted per account and per client IP.

After ``max_failures`` failures inside ``window`` seconds, further attempts for that key
get 429 until the oldest counted failure leaves the window.  Counters live in memory for
one process (a restart clears them); that is enough to make online guessing impractical.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class FailureCounter:
    """Sliding-window failure counts for arbitrary keys."""

    def __init__(self, max_failures: int, window: float, clock: Callable[[], float] = time.monotonic):
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again; 0 when it is not blocked."""
        with self._lock:
            now = self.clock()
            times = self._prune(key, now)
            if len(times) < self.max_failures:
                return 0
            # Blocked until enough old failures expire to drop below the limit.
            unblock_at = times[len(times) - self.max_failures] + self.window
            return max(1, math.ceil(unblock_at - now))

    def record(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            self._prune(key, now)
            self._failures.setdefault(key, deque()).append(now)

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


class LoginLimiter:
    """Per-account and per-IP failure counters for the sign-in endpoint."""

    def __init__(self, per_account: int, per_ip: int, window: float, clock: Callable[[], float] = time.monotonic):
        self.accounts = FailureCounter(per_account, window, clock)
        self.ips = FailureCounter(per_ip, window, clock)

    def retry_after(self, email: str, ip: str | None) -> int:
        return max(self.accounts.retry_after(email), self.ips.retry_after(ip or "?"))

    def failed(self, email: str, ip: str | None) -> None:
        self.accounts.record(email)
        self.ips.record(ip or "?")

    def succeeded(self, email: str) -> None:
        # The IP counter is kept: one valid account must not reset the budget for guessing others.
        self.accounts.clear(email)
