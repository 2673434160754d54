"""The few PromQL functions the thresholds use, computed over Jack's own samples the way Prometheus does.

Jack keeps the registry's samples of the last hour (:class:`SampleHistory`) and evaluates
``rate()`` with Prometheus's extrapolation, ``histogram_quantile()`` with its linear
interpolation, and ``a / b`` with its division rules (x/0 is +Inf, 0/0 is NaN).  So the same
series give the same value here as in the exported rules, which ``tests/test_thresholds_promtool.py``
checks with ``promtool test rules``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: A series: its sample name and its labels as sorted ``(name, value)`` pairs.
SeriesKey = tuple[str, tuple[tuple[str, str], ...]]
#: One scrape: every series' value.
Snapshot = Mapping[SeriesKey, float]


def series_key(name: str, labels: Mapping[str, str] | None = None) -> SeriesKey:
    return name, tuple(sorted((labels or {}).items()))


def snapshot_of(metric_families: Iterable) -> dict[SeriesKey, float]:
    """Flatten ``registry.collect()`` into one value per series (what one scrape of ``/metrics`` shows)."""
    values: dict[SeriesKey, float] = {}
    for family in metric_families:
        for sample in family.samples:
            values[series_key(sample.name, sample.labels)] = float(sample.value)
    return values


def _matches(key: SeriesKey, name: str, match: Mapping[str, str]) -> bool:
    if key[0] != name:
        return False
    labels = dict(key[1])
    return all(labels.get(k, "") == v for k, v in match.items())


def divide(a: float | None, b: float | None) -> float | None:
    """Prometheus's ``a / b`` between two single values (no result when either side has none)."""
    if a is None or b is None:
        return None
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.inf if a > 0 else -math.inf
    return a / b


def scale(factor: float, value: float | None) -> float | None:
    return None if value is None else factor * value


def extrapolated_rate(points: list[tuple[float, float]], start: float, end: float) -> float | None:
    """Prometheus's ``rate()`` of one counter over ``[start, end]`` (its ``extrapolatedRate``), per second."""
    if len(points) < 2:
        return None
    first_t, first_v = points[0]
    last_t, last_v = points[-1]
    delta = last_v - first_v
    previous = first_v
    for _, value in points[1:]:  # a counter that went down was reset: count what it had
        if value < previous:
            delta += previous
        previous = value
    to_start, to_end = first_t - start, end - last_t
    sampled = last_t - first_t
    if sampled <= 0:
        return None
    average = sampled / (len(points) - 1)
    if delta > 0 and first_v >= 0:
        to_zero = sampled * (first_v / delta)
        to_start = min(to_start, to_zero)  # a counter never extrapolates below zero
    threshold = average * 1.1
    interval = sampled
    interval += to_start if to_start < threshold else average / 2
    interval += to_end if to_end < threshold else average / 2
    return delta * (interval / sampled) / (end - start)


def histogram_quantile(q: float, buckets: Mapping[float, float]) -> float | None:
    """Prometheus's ``histogram_quantile(q, ...)`` over ``{upper bound: cumulative count}``."""
    if not buckets or math.inf not in buckets:
        return math.nan if buckets else None
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    bounds = sorted(buckets)
    counts = [buckets[b] for b in bounds]
    for i in range(1, len(counts)):  # Prometheus repairs non-monotonic buckets the same way
        counts[i] = max(counts[i], counts[i - 1])
    if len(bounds) < 2:
        return math.nan
    total = counts[-1]
    if total == 0 or math.isnan(total):
        return math.nan
    rank = q * total
    b = next(i for i, c in enumerate(counts) if c >= rank)
    if b == len(bounds) - 1:
        return bounds[-2]
    if b == 0 and bounds[0] <= 0:
        return bounds[0]
    bucket_start = 0.0
    bucket_end = bounds[b]
    count = counts[b]
    if b > 0:
        bucket_start = bounds[b - 1]
        count -= counts[b - 1]
        rank -= counts[b - 1]
    return bucket_start + (bucket_end - bucket_start) * (rank / count)


@dataclass
class SampleHistory:
    """The last scrape whole, and the series that need a window (``windowed``) over ``keep_seconds``.

    At most ``max_points`` scrapes are kept, so a very short evaluation interval shortens the
    windows instead of growing the memory.
    """

    keep_seconds: float = 3900.0
    max_points: int = 1000
    #: Sample names read through ``rate()``; ``None`` keeps every series.
    windowed: frozenset[str] | None = None

    def __post_init__(self) -> None:
        self.points: deque[tuple[float, Snapshot]] = deque(maxlen=self.max_points)
        self._latest: Snapshot = {}

    def add(self, at: float, snapshot: Snapshot) -> None:
        self._latest = snapshot
        if self.windowed is not None:
            snapshot = {key: value for key, value in snapshot.items() if key[0] in self.windowed}
        self.points.append((at, snapshot))
        while self.points and self.points[0][0] < at - self.keep_seconds:
            self.points.popleft()

    @property
    def now(self) -> float:
        return self.points[-1][0]

    def latest(self) -> Snapshot:
        return self._latest

    # ---- the functions the thresholds are written with

    def value_sum(self, name: str, **match: str) -> float | None:
        """``sum(name{match})`` at the latest scrape; ``None`` when no series matches."""
        values = [v for k, v in self.latest().items() if _matches(k, name, match)]
        return sum(values) if values else None

    def rate_by_series(self, name: str, seconds: float, **match: str) -> dict[SeriesKey, float]:
        end = self.now
        start = end - seconds
        per_series: dict[SeriesKey, list[tuple[float, float]]] = {}
        for at, snapshot in self.points:
            if at < start:
                continue
            for key, value in snapshot.items():
                if _matches(key, name, match):
                    per_series.setdefault(key, []).append((at, value))
        rates = {}
        for key, points in per_series.items():
            rate = extrapolated_rate(points, start, end)
            if rate is not None:
                rates[key] = rate
        return rates

    def rate_sum(self, name: str, seconds: float, **match: str) -> float | None:
        """``sum(rate(name{match}[seconds]))``; ``None`` when no series has two samples in the window."""
        if not self.points:
            return None
        rates = self.rate_by_series(name, seconds, **match)
        return sum(rates.values()) if rates else None

    def quantile(self, q: float, bucket_name: str, seconds: float) -> float | None:
        """``histogram_quantile(q, sum by (le) (rate(bucket_name[seconds])))``."""
        return self.quantile_by(q, bucket_name, seconds, "").get("")

    def quantile_by(self, q: float, bucket_name: str, seconds: float, by: str) -> dict[str, float | None]:
        """``histogram_quantile(q, sum by (le, <by>) (rate(bucket_name[seconds])))``, keyed by the ``by`` label's value."""
        if not self.points:
            return {}
        groups: dict[str, dict[float, float]] = {}
        for key, rate in self.rate_by_series(bucket_name, seconds).items():
            labels = dict(key[1])
            le = labels.get("le")
            if le is None:
                continue
            bound = math.inf if le == "+Inf" else float(le)
            by_le = groups.setdefault(labels.get(by, "") if by else "", {})
            by_le[bound] = by_le.get(bound, 0.0) + rate
        return {group: histogram_quantile(q, by_le) for group, by_le in groups.items()}
