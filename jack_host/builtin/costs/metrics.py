"""AI call metrics, served at ``GET /metrics``: every provider call reaches the ledger, so it is counted here.

``jack_ai_request_duration_seconds{provider}`` gives the AI-latency p95 of the thresholds
(> 5 s warning, > 10 s critical); ``jack_ai_fallbacks_total{provider}`` counts answers given by
another provider than the first.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from jack_host.contract.services import AICall

#: Edges at the thresholds' levels (5 s, 10 s) so their p95 reads exactly there.
AI_LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 60.0)


class AICallMetrics:
    def __init__(self, registry: CollectorRegistry):
        self.latency = Histogram("jack_ai_request_duration_seconds", "Duration of each AI provider call, by provider",
                                 ["provider"], buckets=AI_LATENCY_BUCKETS, registry=registry)
        self.calls = Counter("jack_ai_requests", "AI provider calls by provider and outcome (ok, timeout, rate_limited...)",
                             ["provider", "outcome"], registry=registry)
        self.fallbacks = Counter("jack_ai_fallbacks", "AI calls made to another provider than the first, by provider and outcome",
                                 ["provider", "outcome"], registry=registry)

    def observe(self, call: AICall) -> None:
        self.latency.labels(provider=call.provider).observe(max(call.latency_ms, 0.0) / 1000)
        self.calls.labels(provider=call.provider, outcome=call.outcome).inc()
        if call.fallback:
            self.fallbacks.labels(provider=call.provider, outcome=call.outcome).inc()
