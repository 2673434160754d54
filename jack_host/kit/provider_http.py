"""What channels share when they call a provider's REST API: error classes and health probes.

A 429 or 5xx means "try again later" (honouring ``Retry-After``); any other 4xx means the
provider refused this message for good; a network error is transient.  Health is
``connected`` only after a real authenticated call answered 2xx.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Awaitable, Callable

import httpx

from jack_host.contract.interfaces import ComponentHealth, PermanentSendError, TransientSendError

SEND_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
HEALTH_TIMEOUT = httpx.Timeout(5.0, connect=3.0)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def send_error(response: httpx.Response, provider: str, reason: str) -> TransientSendError | PermanentSendError:
    """The exception for a non-2xx answer; ``reason`` is the provider's own error text."""
    text = f"{provider} answered HTTP {response.status_code}: {reason}"
    if response.status_code == 429 or response.status_code >= 500:
        return TransientSendError(text, retry_after=parse_retry_after(response.headers.get("Retry-After")))
    return PermanentSendError(text)


def network_error(exc: httpx.HTTPError, provider: str) -> TransientSendError:
    return TransientSendError(f"could not reach {provider}: {type(exc).__name__}: {exc}")


async def post(
    url: str, provider: str, describe_error: Callable[[httpx.Response], tuple[str, object]], **request: object
) -> httpx.Response:
    """POST to a provider and return the successful response, or raise the send error the outbox understands.

    :param describe_error: turns a refusal into ``(human message, provider error code)``; the code is
        kept on the raised error as ``code``.
    :raises TransientSendError: 429, 5xx or network trouble (``retry_after`` from ``Retry-After``).
    :raises PermanentSendError: any other refusal.
    """
    try:
        async with httpx.AsyncClient(timeout=SEND_TIMEOUT) as client:
            response = await client.post(url, **request)  # type: ignore[arg-type]
    except httpx.HTTPError as exc:
        raise network_error(exc, provider) from None
    if not response.is_success:
        message, code = describe_error(response)
        error = send_error(response, provider, message)
        error.code = code  # type: ignore[attr-defined]
        raise error
    return response


async def probe(
    provider: str,
    call: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]],
    describe_ok: Callable[[httpx.Response], ComponentHealth],
    describe_error: Callable[[httpx.Response], str],
) -> ComponentHealth:
    """Run one authenticated call with a short timeout and turn the answer into health."""
    try:
        async with httpx.AsyncClient(timeout=HEALTH_TIMEOUT) as client:
            response = await call(client)
    except httpx.HTTPError as exc:
        return ComponentHealth.error(f"cannot reach {provider}: {type(exc).__name__}: {exc}")
    if response.is_success:
        try:
            return describe_ok(response)
        except ValueError as exc:  # a 2xx whose body is not what the API documents
            return ComponentHealth.error(f"{provider} answered an unexpected body: {exc}")
    if response.status_code in (401, 403):
        return ComponentHealth.error(f"{provider} rejected the credentials (HTTP {response.status_code}): {describe_error(response)}")
    return ComponentHealth.error(f"{provider} answered HTTP {response.status_code}: {describe_error(response)}")
