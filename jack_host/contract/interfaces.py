"""The small contract every plugin object fulfils.

Channels, LLM providers, backup destinations and alert routes are all
*components*: they have a unique ``name``, they say whether they are configured,
and they report their health.  Each kind then adds the one or two methods that
make it useful.  Plugins hand instances of these classes to the host through the
``jack_register_*`` hooks.
"""

from __future__ import annotations

import abc
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

HealthState = Literal["connected", "not_configured", "error"]


@dataclass(frozen=True)
class ComponentHealth:
    """What a component says about itself in ``/health`` and ``jack doctor``."""

    state: HealthState
    detail: str = ""

    @classmethod
    def connected(cls, detail: str = "") -> ComponentHealth:
        return cls("connected", detail)

    @classmethod
    def not_configured(cls, detail: str) -> ComponentHealth:
        return cls("not_configured", detail)

    @classmethod
    def error(cls, detail: str) -> ComponentHealth:
        return cls("error", detail)


class NotConfiguredError(RuntimeError):
    """Raised when a component is asked to work but its settings are missing.

    The message must name the settings to set, because it is shown to hotel IT.
    """


class Component(abc.ABC):
    """Common base: a named, health-reporting plugin object."""

    #: ``channel``, ``llm_provider``, ``backup_destination`` or ``alert_route``.
    kind: ClassVar[str] = "component"
    #: Unique within its kind; used in settings, URLs and ``jack plugins list``.
    name: str = ""
    #: Settings this component needs before it can work, for error messages.
    required_settings: ClassVar[tuple[str, ...]] = ()

    def missing_settings(self, settings: Any) -> list[str]:
        """Return the names from ``required_settings`` that are unset or empty."""
        return [key for key in self.required_settings if not str(settings.get(key) or "").strip()]

    def not_configured_error(self, settings: Any) -> NotConfiguredError:
        missing = self.missing_settings(settings)
        return NotConfiguredError(
            f"{self.kind} '{self.name}' is not configured: set {', '.join(missing) or 'its settings'}"
            " in .env or the environment"
        )

    @abc.abstractmethod
    async def health(self) -> ComponentHealth:
        """Report ``connected``, ``not_configured`` or ``error`` with a reason.

        Must be quick (short timeouts) and must never raise.
        """


# --------------------------------------------------------------------------- doctor


@dataclass(frozen=True)
class DoctorCheck:
    """One ``jack doctor`` checklist line: ``ok``, or not ok with the ``fix``; ``must_fix`` items fail the command."""

    name: str
    ok: bool
    detail: str = ""
    fix: str = ""
    must_fix: bool = True

    def line(self) -> str:
        mark = "ok     " if self.ok else ("NOT OK " if self.must_fix else "warn   ")
        text = f"{mark} {self.name}"
        if self.detail:
            text += f": {self.detail}"
        if not self.ok and self.fix:
            text += f"\n        fix: {self.fix}"
        return text


# --------------------------------------------------------------------------- channels


@dataclass
class InboundMessage:
    """A guest message as a channel hands it to the pipeline."""

    channel: str
    channel_message_id: str
    body: str
    sender_phone: str | None = None
    sender_email: str | None = None
    sender_name: str | None = None
    #: Channel-specific address of the guest (web chat session id, e-mail address...).
    sender_address: str | None = None
    language: str | None = None
    received_at: dt.datetime | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    #: The conversation this message continues, when the channel knows it better than the sender
    #: address does (an e-mail's ``In-Reply-To``: a travel agent writes for several guests). Used
    #: while that conversation is open on this channel; once closed, the message opens a new one.
    conversation_id: int | None = None
    #: Open a new conversation even if the address has an open one (a new e-mail thread).
    starts_conversation: bool = False


@dataclass
class OutboundMessage:
    """A message the outbox asks a channel to deliver."""

    message_id: int
    conversation_id: int
    guest_address: str
    body: str
    sender: str  # "ai", "staff" or "system"
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class SendResult:
    """What a channel returns after handing a message to its provider."""

    provider_message_id: str | None = None
    status: Literal["sent", "delivered"] = "sent"
    metadata: dict[str, Any] = field(default_factory=dict)


class TransientSendError(RuntimeError):
    """The provider may accept the message later (429, 5xx, network); the outbox retries.

    ``retry_after`` (seconds) is honoured when the provider sent one.
    """

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentSendError(RuntimeError):
    """The provider refused the message for good; the outbox marks it failed."""


@dataclass(frozen=True)
class Received:
    """What :meth:`Inbox.receive` tells the channel: where the message went, and whether it was a repeat."""

    message_id: int
    conversation_id: int
    guest_id: int
    duplicate: bool


@runtime_checkable
class Inbox(Protocol):
    """What a channel calls to hand Jack a guest message and to report what became of a sent one.

    Found as ``app.services.inbox`` (the conversations feature provides it).
    """

    async def receive(self, msg: InboundMessage) -> Received:
        """Store ``msg`` and queue its reply, committed before returning; a repeat returns ``duplicate=True``.

        Acknowledge the provider (2xx) only after this returns: the message is then on disk.

        :raises ValueError: unknown channel, or no message id / sender address; answer the provider 4xx.
        """
        ...

    async def update_delivery_status(self, channel: str, provider_message_id: str, status: str, error: str | None = None) -> bool:
        """Apply a provider's delivery report (``sent``, ``delivered``, ``read``, ``failed``); never moves backwards.

        A report that arrives before the send is recorded is kept and applied then.

        :return: False when no message has that provider id (yet).
        :raises ValueError: an unknown status.
        """
        ...

    async def apply_parked_status(self, channel: str, provider_message_id: str) -> None:
        """Apply a delivery report that arrived before the provider's id was stored (the outbox calls this)."""
        ...


class Channel(Component):
    """A way guests reach the hotel: WhatsApp, SMS, e-mail, web chat..."""

    kind: ClassVar[str] = "channel"

    @abc.abstractmethod
    async def send(self, message: OutboundMessage) -> SendResult:
        """Deliver ``message`` to the guest.

        Raise :class:`TransientSendError` to be retried with backoff,
        :class:`PermanentSendError` to fail the message, and
        :class:`NotConfiguredError` when settings are missing.
        """

    async def show_typing(self, guest_address: str, active: bool) -> None:  # noqa: B027 - optional
        """Show or hide a typing indicator while Jack prepares a reply; channels without one ignore it.

        Awaited by the pipeline before the reply is sent, so the indicator never trails the answer.
        """


# --------------------------------------------------------------------------- LLM providers


@dataclass
class LLMRequest:
    """One chat completion request; ``messages`` use the OpenAI chat shape."""

    messages: list[dict[str, str]]
    max_tokens: int = 600
    temperature: float = 0.2
    json_mode: bool = True
    #: Seconds; ``None`` uses the ``AI_TIMEOUT_SECONDS`` setting.
    timeout: float | None = None


@dataclass
class LLMResponse:
    text: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    raw: Any = None


class LLMProviderError(RuntimeError):
    """A provider call failed in a way that should move on to the next provider.

    ``outcome`` says how, for the cost ledger: ``timeout``, ``rate_limited``,
    ``server_error``, ``unreachable``, ``auth_error``, ``rejected`` or ``error``.
    """

    def __init__(self, message: str, outcome: str = "error", status_code: int | None = None):
        super().__init__(message)
        self.outcome = outcome
        self.status_code = status_code


class LLMProvider(Component):
    """A model the host can ask for replies."""

    kind: ClassVar[str] = "llm_provider"
    #: True for models running on the hotel's own hardware (cost zero).
    is_local: ClassVar[bool] = False

    @property
    @abc.abstractmethod
    def model(self) -> str:
        """The LiteLLM model name, e.g. ``anthropic/claude-sonnet-4-5`` or ``ollama_chat/llama3.1``."""

    @abc.abstractmethod
    def is_configured(self) -> bool:
        """True when the provider has what it needs to be called (keys, URL)."""

    @abc.abstractmethod
    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Run one completion; raise :class:`LLMProviderError` on failure."""


# --------------------------------------------------------------------------- backup destinations


@dataclass
class StoredBackup:
    """A backup file as a destination knows it."""

    destination: str
    key: str
    size: int
    created_at: dt.datetime
    location: str
    checksum: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


class BackupError(RuntimeError):
    """An expected backup failure; the message is shown to hotel IT as is (destinations raise it too)."""


class BackupDestination(Component):
    """A place backups are copied to: a local folder, S3..."""

    kind: ClassVar[str] = "backup_destination"

    @abc.abstractmethod
    def store(self, path: Path, key: str, metadata: dict[str, str]) -> StoredBackup:
        """Copy the verified backup file at ``path`` to this destination under ``key``."""

    @abc.abstractmethod
    def list(self) -> list[StoredBackup]:
        """Every backup held here, newest first."""

    @abc.abstractmethod
    def fetch(self, key: str, target: Path) -> Path:
        """Download ``key`` to ``target``, verifying its checksum; return ``target``."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key`` (used by retention)."""


# --------------------------------------------------------------------------- alert routes


Severity = Literal["info", "warning", "critical"]


@dataclass
class Alert:
    """Something an operator should know about."""

    name: str  # stable identifier, e.g. "budget.ai.daily.notify"
    severity: Severity
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    dedup_key: str | None = None
    resolved: bool = False


class AlertRoute(Component):
    """A way to reach people: PagerDuty, phone, e-mail, the log..."""

    kind: ClassVar[str] = "alert_route"
    #: The ``oncall.yaml`` contact type this route pages (``pagerduty``, ``phone``, ``email``,
    #: ``webhook``): it is used only for the contacts of the escalation level being paged.
    #: ``None``: the route receives every alert as it is raised (the log, a chat room...).
    contact_type: ClassVar[str | None] = None

    @abc.abstractmethod
    async def send(self, alert: Alert) -> None:
        """Deliver ``alert``; raise on failure so the host can try the next route."""

    async def page(self, alert: Alert, target: str, action: str) -> str:
        """Deliver one event about ``alert`` to one on-call contact; return what the provider said.

        :param target: the contact's value (a PagerDuty key, a phone number, an address, a URL).
        :param action: ``trigger``, ``acknowledge`` or ``resolve``; a route that cannot tell
            people about acknowledgements or resolutions returns without sending for those.
        :raises TransientSendError: try again later (``retry_after`` is honoured).
        :raises PermanentSendError: this contact cannot be reached this way; do not retry.
        """
        if action != "trigger":
            return f"{action}: not sent by this route"
        await self.send(alert)
        return "sent"
