"""A loopback fake of PagerDuty's Events API v2 (``POST /v2/enqueue``), for the alert_pagerduty tests.

Validates events as PagerDuty documents them (a 32-character ``routing_key``, ``event_action``
``trigger``/``acknowledge``/``resolve``, a ``dedup_key`` for the latter two, a trigger's
``payload`` with ``summary``, ``source`` and ``severity``), answers ``202`` with the
``dedup_key``, and keeps each incident's state by ``dedup_key`` so tests can assert on it.
``fake.fail_next("POST", "/v2/enqueue", Reply(429, {...}))`` scripts rate limiting.
"""

from __future__ import annotations

import json
import time
import uuid

from jack_host.testing.loopback import LoopbackServer, RecordedRequest, Reply

SEVERITIES = ("critical", "error", "warning", "info")
ACTIONS = ("trigger", "acknowledge", "resolve")


def invalid(*errors: str) -> Reply:
    return Reply(400, {"status": "invalid event", "message": "Event object is invalid", "errors": list(errors)})


class FakePagerDuty(LoopbackServer):
    def __init__(self) -> None:
        super().__init__()
        #: dedup_key -> "triggered" / "acknowledged" / "resolved".
        self.incidents: dict[str, str] = {}
        #: (monotonic time, event) of each accepted event, in order.
        self.events: list[tuple[float, dict]] = []
        #: monotonic time of every request, accepted or not.
        self.arrivals: list[float] = []

    def _take(self, request: RecordedRequest) -> Reply:
        self.arrivals.append(time.monotonic())
        return super()._take(request)

    def answer(self, request: RecordedRequest) -> Reply:
        if request.method != "POST" or request.path != "/v2/enqueue":
            return Reply(404, {"status": "not found"})
        if not request.headers.get("content-type", "").startswith("application/json"):
            return invalid("Content-Type must be application/json")
        try:
            event = json.loads(request.body)
        except ValueError:
            return invalid("Request body is not valid JSON")
        if not isinstance(event, dict):
            return invalid("Event must be a JSON object")
        errors = []
        key = event.get("routing_key")
        if not isinstance(key, str) or len(key) != 32:
            errors.append("'routing_key' must be a 32 character Integration Key")
        action = event.get("event_action")
        if action not in ACTIONS:
            errors.append("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)")
        dedup = event.get("dedup_key")
        if action in ("acknowledge", "resolve") and not dedup:
            errors.append("'dedup_key' is required for acknowledge and resolve events")
        if dedup is not None and (not isinstance(dedup, str) or len(dedup) > 255):
            errors.append("'dedup_key' must be a string of at most 255 characters")
        if action == "trigger":
            payload = event.get("payload")
            if not isinstance(payload, dict):
                errors.append("'payload' is missing or not an object")
            else:
                if not payload.get("summary") or len(str(payload["summary"])) > 1024:
                    errors.append("'payload.summary' is missing or longer than 1024 characters")
                if not payload.get("source"):
                    errors.append("'payload.source' is missing")
                if payload.get("severity") not in SEVERITIES:
                    errors.append("'payload.severity' is invalid (must be one of: critical, error, warning, info)")
        if errors:
            return invalid(*errors)
        dedup = dedup or uuid.uuid4().hex
        self.incidents[dedup] = {"trigger": "triggered", "acknowledge": "acknowledged", "resolve": "resolved"}[action]
        self.events.append((time.monotonic(), event))
        return Reply(202, {"status": "success", "message": "Event processed", "dedup_key": dedup})

    def actions(self, dedup_key: str | None = None) -> list[str]:
        """The accepted events' actions (of one incident when ``dedup_key`` is given), in order."""
        return [e["event_action"] for _, e in self.events if dedup_key is None or e.get("dedup_key") == dedup_key]
