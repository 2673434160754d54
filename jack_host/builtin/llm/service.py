"""Choosing a provider for each call, falling back to the next one on failure, and recording every call."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime as dt
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from jack_host.builtin.llm.breaker import CircuitBreakers
from jack_host.contract.interfaces import (
    LLMProvider,
    LLMProviderError,
    LLMRequest,
    NotConfiguredError,
)
from jack_host.contract.services import (
    LLM,
    AICall,
    AICallCeilingReached,
    AllProvidersFailed,
    BudgetExhausted,
    LLMResult,
    NoProviderConfigured,
)
from jack_host.db.models import StateEntry, utcnow
from jack_host.kit.litellm import litellm_loaded
from jack_host.kit.litellm_provider import classify_error

if TYPE_CHECKING:
    from jack_host.contract.app import App

log = logging.getLogger("jack.llm")

#: Extra seconds beyond the request timeout before the service itself gives up on a provider
#: (a provider that ignores its timeout must not hold a guest's reply forever).
TIMEOUT_GRACE = 2.0
#: The window of ``AI_MAX_CALLS_PER_MINUTE``.
CEILING_WINDOW = 60.0
#: The ``jack_state`` key holding the breakers, for ``jack doctor``.
BREAKER_STATE_KEY = "llm.breakers"
#: The probe sent to a paid provider whose breaker is open: one token, no guest text.
PROBE_MESSAGES = [{"role": "user", "content": "ping"}]


class CallCeiling:
    """At most ``limit`` model calls in any 60 s (0: no ceiling), for the whole process.

    A call takes its place *before* it starts, in one step under a lock, so the worker's
    concurrent reply jobs cannot all pass the last free place while their calls are in flight.
    """

    def __init__(self, limit: int, clock=time.monotonic):
        self.limit = limit
        self.clock = clock
        self._calls: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def take(self) -> float:
        """Take a place for one call: 0 when taken, else the seconds until one frees up."""
        if self.limit <= 0:
            return 0.0
        with self._lock:
            now = self.clock()
            while self._calls and now - self._calls[0] >= CEILING_WINDOW:
                self._calls.popleft()
            if len(self._calls) >= self.limit:
                return round(CEILING_WINDOW - (now - self._calls[0]), 1) or 0.1
            self._calls.append(now)
            return 0.0


class LLMService(LLM):
    """``await app.services.llm.complete(request, conversation_id=..., guest_id=...)``.

    Providers are tried in ``AI_PROVIDER_ORDER`` (comma-separated names; default:
    ``primary``, ``secondary``, other paid providers, then local ones), skipping
    unconfigured ones.  A timeout (``AI_TIMEOUT_SECONDS``), a 5xx, a 429, a refused
    connection or any other provider error moves on to the next provider.  Every
    attempt is written to the cost ledger (``app.services.costs``).  While a budget's
    ``fallback_to_local`` is in force only local providers are called.  At most
    ``AI_MAX_CALLS_PER_MINUTE`` provider calls are made per minute (fallbacks count too);
    past it :class:`AICallCeilingReached` says to answer without the model.

    A provider that keeps failing is skipped by its circuit breaker (:mod:`.breaker`) and
    probed in the background.  One guest message waits at most ``AI_TIMEOUT_SECONDS`` for
    the first provider plus ``AI_TIMEOUT_SECONDS`` for one fallback (and the grace); past that
    the caller answers without the model.  LiteLLM's import is done before the server is ready.
    """

    def __init__(self, app: App):
        self.app = app
        self.ceiling = CallCeiling(int(app.settings.get("AI_MAX_CALLS_PER_MINUTE") or 0))
        self.breakers = CircuitBreakers(
            int(app.settings.get("AI_BREAKER_FAILURES") or 3), float(app.settings.get("AI_BREAKER_COOLDOWN_SECONDS") or 30.0)
        )
        self._probes: dict[str, asyncio.Task[None]] = {}

    def provider_order(self) -> list[str]:
        configured = [n.strip() for n in str(self.app.settings.get("AI_PROVIDER_ORDER") or "").split(",") if n.strip()]
        if configured:
            return configured
        registered = self.app.llm_providers
        rest = [n for n in registered if n not in ("primary", "secondary")]
        return ["primary", "secondary", *[n for n in rest if not registered[n].is_local], *[n for n in rest if registered[n].is_local]]

    def unknown_names_in_order(self) -> list[str]:
        """Names in an explicit ``AI_PROVIDER_ORDER`` that no plugin registered (a typo, a missing plugin)."""
        if not str(self.app.settings.get("AI_PROVIDER_ORDER") or "").strip():
            return []
        return [name for name in self.provider_order() if name not in self.app.llm_providers]

    def ordered_providers(self) -> list[LLMProvider]:
        registered = self.app.llm_providers
        return [registered[name] for name in self.provider_order() if name in registered and registered[name].is_configured()]

    def available(self) -> bool:
        return bool(self.ordered_providers())

    def timeout_for(self, request: LLMRequest) -> float:
        return float(request.timeout or self.app.settings.get("AI_TIMEOUT_SECONDS") or 20.0)

    async def complete(self, request: LLMRequest, *, conversation_id: int | None = None, guest_id: int | None = None) -> LLMResult:
        providers = self.ordered_providers()
        if not providers:
            raise NoProviderConfigured("no LLM provider is configured (set AI_MODEL and its API key)")
        first = providers[0]
        reason: str | None = None
        paused = self.app.services.costs.local_only()  # one indexed read: cheaper on the loop than a thread hop
        if paused is not None:
            local = [p for p in providers if p.is_local]
            local += [p for p in self.app.llm_providers.values() if p.is_local and p.is_configured() and p not in local]
            if not local:
                raise BudgetExhausted(
                    [f"paid AI calls are stopped: {paused.budget} budget for {paused.period} reached {paused.threshold:.0%} "
                     "(fallback_to_local) and no local model is configured; run `jack costs resume` to lift it"]
                )
            providers, reason = local, "budget"
        timeout = self.timeout_for(request)
        errors: list[str] = []
        callable_providers = []
        for provider in providers:
            if self.breakers.allows(provider.name):
                callable_providers.append(provider)
            else:
                state = self.breakers.state_of(provider.name)
                errors.append(f"{provider.name}: skipped: circuit {state['state']} since {state['since']} ({state['last_error']})"[:500])
                self._schedule_probe(provider)
        if not callable_providers:
            raise AllProvidersFailed(errors)
        # LiteLLM's first import takes seconds of CPU.  The llm feature's start-up does it before the server
        # reports ready, so only a message handled while the server starts (a queued job, a polled mail)
        # waits for it here, and that wait is the start's, not the providers': it is not counted below.
        await litellm_loaded()
        # The guest waits for the first provider and one fallback, never more (see the class docstring).
        deadline = time.monotonic() + 2 * timeout + TIMEOUT_GRACE
        for provider in callable_providers:
            fallback = provider is not first
            remaining = deadline - time.monotonic()
            if remaining <= 1.0:
                errors.append(f"{provider.name}: not called: the guest has waited {2 * timeout:g}s already")
                break
            request = dataclasses.replace(request, timeout=min(timeout, remaining))
            wait = self.ceiling.take()
            if wait:
                log.warning("AI call ceiling reached (%d a minute): %s not called", self.ceiling.limit, provider.name)
                if not errors:
                    raise AICallCeilingReached(self.ceiling.limit, wait)
                errors.append(f"{provider.name}: not called: the AI call ceiling ({self.ceiling.limit} a minute) is reached")
                break
            started = time.perf_counter()
            call = AICall(
                provider=provider.name,
                model=provider.model,
                conversation_id=conversation_id,
                guest_id=guest_id,
                fallback=fallback,
                is_local=provider.is_local,
            )
            try:
                async with asyncio.timeout(min(timeout + TIMEOUT_GRACE, remaining)):  # unlike wait_for, no task per call
                    response = await provider.complete(request)
            except Exception as exc:  # whatever a provider does, the next one gets its chance
                call.latency_ms = (time.perf_counter() - started) * 1000
                call.outcome, _ = _outcome_of(exc)
                call.error = str(exc) or type(exc).__name__
                errors.append(f"{provider.name}: {call.outcome}: {call.error}"[:500])
                reason = reason or call.outcome
                log.warning("LLM provider %s failed (%s): %s", provider.name, call.outcome, call.error)
                if self.breakers.failure(provider.name, call.outcome, call.error):
                    log.warning("circuit breaker for %s is open: skipped until a background probe succeeds", provider.name)
                    self._schedule_probe(provider)
                    await self._persist_breakers()
                await self._record(call)
                continue
            call.latency_ms = (time.perf_counter() - started) * 1000
            call.input_tokens, call.output_tokens = response.input_tokens, response.output_tokens
            if self.breakers.success(provider.name):
                await self._persist_breakers()
            await self._record(call)
            return LLMResult(response, provider.name, fallback, call.latency_ms, reason if fallback else None)
        raise AllProvidersFailed(errors)

    # ------------------------------------------------------------------ the breakers' background probes

    def _schedule_probe(self, provider: LLMProvider) -> None:
        task = self._probes.get(provider.name)
        if task is None or task.done():
            self._probes[provider.name] = asyncio.create_task(self._probe_loop(provider), name=f"llm-probe-{provider.name}")

    async def _probe_loop(self, provider: LLMProvider) -> None:
        """Wait out the cool-down, probe; until the provider answers (then the breaker closes)."""
        while True:
            await asyncio.sleep(self.breakers.seconds_to_probe(provider.name))
            if not self.breakers.due_for_probe(provider.name):
                if self.breakers.allows(provider.name):
                    return
                continue
            await self._persist_breakers()
            error = await self._probe(provider)
            if error is None:
                log.warning("LLM provider %s answered its probe: its circuit breaker is closed again", provider.name)
                self.breakers.success(provider.name)
                await self._persist_breakers()
                return
            outcome, detail = error
            self.breakers.failure(provider.name, outcome, detail, probe=True)
            await self._persist_breakers()

    async def _probe(self, provider: LLMProvider) -> tuple[str, str] | None:
        """None when the provider works: a local one's health check, a paid one's one-token completion (priced)."""
        timeout = float(self.app.settings.get("AI_TIMEOUT_SECONDS") or 20.0)
        if provider.is_local:
            try:
                async with asyncio.timeout(timeout):
                    health = await provider.health()
            except Exception as exc:  # a probe reports, it never raises
                return _outcome_of(exc)[0], str(exc) or type(exc).__name__
            return None if health.state == "connected" else ("unreachable", health.detail)
        call = AICall(provider=provider.name, model=provider.model, conversation_id=None, guest_id=None, fallback=False,
                      is_local=provider.is_local)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout + TIMEOUT_GRACE):
                response = await provider.complete(LLMRequest(PROBE_MESSAGES, max_tokens=1, json_mode=False, timeout=timeout))
        except Exception as exc:  # a probe reports, it never raises
            call.latency_ms = (time.perf_counter() - started) * 1000
            call.outcome, _ = _outcome_of(exc)
            call.error = str(exc) or type(exc).__name__
            await self._record(call)
            return call.outcome, call.error
        call.latency_ms = (time.perf_counter() - started) * 1000
        call.input_tokens, call.output_tokens = response.input_tokens, response.output_tokens
        await self._record(call)
        return None

    async def stop_probes(self) -> None:
        for task in self._probes.values():
            task.cancel()
        for task in self._probes.values():
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: PERF203 - stopping, whatever the probe did
                pass
        self._probes.clear()

    async def _persist_breakers(self) -> None:
        """Write the breakers to ``jack_state`` (on changes only), so ``jack doctor`` in another process sees them."""
        snapshot = self.breakers.snapshot()
        try:
            await asyncio.to_thread(write_breaker_state, self.app.engine, snapshot)
        except Exception as exc:  # the guest's reply matters more than the record
            log.warning("could not record the circuit breakers: %s", exc)

    def breaker_report(self) -> dict[str, dict]:
        """Each configured provider's breaker (closed/open/half_open, since when, last error) for /health and doctor."""
        states = self.breakers.snapshot()
        return {p.name: states.get(p.name) or self.breakers.state_of(p.name) for p in self.ordered_providers()}

    async def _record(self, call: AICall) -> None:
        try:
            await self.app.services.costs.record_ai_call(call)
        except Exception:  # the guest's reply matters more than the ledger; the log keeps the trace
            log.exception("could not record the AI call to %s in the cost ledger", call.provider)


def write_breaker_state(engine: Engine, snapshot: dict[str, dict[str, Any]]) -> None:
    with Session(engine) as session:
        entry = session.get(StateEntry, BREAKER_STATE_KEY) or StateEntry(key=BREAKER_STATE_KEY)
        entry.value = snapshot
        entry.updated_at = utcnow()
        session.add(entry)
        session.commit()


def read_breaker_state(engine: Engine) -> tuple[dict[str, dict[str, Any]], dt.datetime | None]:
    """The breakers the server last recorded, and when; empty when it never recorded any."""
    try:
        with Session(engine) as session:
            entry = session.get(StateEntry, BREAKER_STATE_KEY)
            return (dict(entry.value), entry.updated_at) if entry else ({}, None)
    except Exception as exc:  # an unmigrated database has no jack_state yet
        log.debug("cannot read the circuit breakers: %s", exc)
        return {}, None


def _outcome_of(exc: BaseException) -> tuple[str, int | None]:
    if isinstance(exc, LLMProviderError):
        return exc.outcome, exc.status_code
    if isinstance(exc, TimeoutError):
        return "timeout", None
    if isinstance(exc, NotConfiguredError):
        return "not_configured", None
    return classify_error(exc)
