"""Services: what one feature offers and another uses, declared here and nowhere else.

A feature (built-in or pip-installed) provides a service in ``jack_register_services``::

    @hookimpl
    def jack_register_services(provide, app):
        provide(Knowledge, KnowledgeBase(app.engine, app.settings))

and any plugin finds it through the app's registry, by the interface it declares::

    app.services.knowledge.search("breakfast")       # a service declared below
    app.services.get(MyService)                       # any other declared interface

Each interface is a :class:`typing.Protocol`: it lists exactly what a consumer may call,
so a consumer never depends on the class behind it.  A plugin may declare its own
interfaces the same way and provide them through the same hook.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from jack_host.contract.interfaces import Alert, Inbox, LLMProvider, LLMRequest, LLMResponse

T = TypeVar("T")


class ServiceUnavailable(LookupError):
    """No plugin provides the service asked for (its feature is disabled or not installed)."""


class ServiceConflict(RuntimeError):
    """Two plugins provide the same service; the message names both."""


# --------------------------------------------------------------------------- shared vocabulary

#: ``ai``: the AI answers; ``escalated``: handed to staff, nobody has taken it yet; ``staff``: a member
#: of staff answers (the AI stays quiet); ``closed``: over (the guest's next message opens a new one).
CONVERSATION_STATES = ("ai", "escalated", "staff", "closed")
TASK_PRIORITIES = ("urgent", "high", "standard", "low")
TASK_STATUSES = ("open", "in_progress", "done", "cancelled")
TASK_DEPARTMENTS = ("front_desk", "housekeeping", "maintenance", "concierge", "food_beverage", "management", "security")
#: Staff roles, lowest first: each role may do everything the roles before it may.
STAFF_ROLES = ("staff", "manager", "admin")
STAFF_MIN_PASSWORD_LENGTH = 10
#: The guest fields staff may edit (:meth:`Conversations.update_guest`).
GUEST_EDITABLE_FIELDS = ("name", "phone", "email", "preferred_language", "notes")


def role_allows(role: str, minimum: str) -> bool:
    """Whether an account with ``role`` may do what needs ``minimum`` (an unknown ``role`` may do nothing).

    :raises ValueError: ``minimum`` is not one of :data:`STAFF_ROLES`.
    """
    if minimum not in STAFF_ROLES:
        raise ValueError(f"unknown role {minimum!r}; expected one of {', '.join(STAFF_ROLES)}")
    return role in STAFF_ROLES and STAFF_ROLES.index(role) >= STAFF_ROLES.index(minimum)


class ConversationNotFound(LookupError):
    """No conversation has the given id."""


class GuestNotFound(LookupError):
    """No guest has the given id."""


class TaskNotFound(LookupError):
    """No task has the given id."""


class ArticleNotFound(LookupError):
    """No knowledge article has the given id."""


class DuplicateArticleTitle(ValueError):
    """Another knowledge article already has this title (titles are unique)."""


@dataclass
class ResultPage:
    """One page of a longer list: its items (as dicts) and how many match in all."""

    items: list[dict[str, Any]]
    total: int


# --------------------------------------------------------------------------- declared services


class AlertNotFound(LookupError):
    """No alert has the given id."""


@runtime_checkable
class Alerts(Protocol):
    """Record alerts, walk them through the on-call escalation (``oncall.yaml``) and page its contacts."""

    async def raise_alert(self, alert: Alert) -> Any:
        """Store ``alert`` and deliver it; a failing route never hides it.

        ``resolved=True`` resolves the active alert with the same ``dedup_key`` (or name); raising an
        active alert again at the same severity changes nothing, at a higher one escalates it.
        """
        ...

    def list(self, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Alerts newest first, each with its escalation level and deliveries; ``status``: ``open``,
        ``held``, ``acknowledged``, ``resolved`` or ``active`` (any but resolved)."""
        ...

    def get(self, alert_id: int) -> dict[str, Any] | None:
        """One alert with its deliveries, or ``None``."""
        ...

    async def acknowledge(self, alert_id: int, by: str = "") -> dict[str, Any]:
        """Stop the alert's escalation; return it.

        :raises AlertNotFound: no such alert.
        :raises ValueError: it is already acknowledged or resolved.
        """
        ...

    async def resolve(self, alert_id: int, by: str = "") -> dict[str, Any]:
        """Close the alert; return it.

        :raises AlertNotFound: no such alert.
        :raises ValueError: it is already resolved.
        """
        ...


@runtime_checkable
class Events(Protocol):
    """In-process events for live screens (``message.created``, ``task.updated``...)."""

    def publish(self, type: str, payload: dict[str, Any]) -> None:
        """Send ``payload`` to every current subscriber; never blocks."""
        ...

    def subscribe(self) -> AbstractAsyncContextManager[Any]:
        """``async with events.subscribe() as queue:`` receives ``{"type", "payload"}`` dicts."""
        ...


@dataclass
class KnowledgeMatch:
    """One search result: the article (as a dict), its BM25 score and how much of the question it covers."""

    article: dict[str, Any]
    score: float
    coverage: float
    #: Good enough to answer a guest from without a model.
    confident: bool


@runtime_checkable
class Knowledge(Protocol):
    """The hotel's knowledge articles and their search."""

    def list(self, category: str | None = None) -> list[dict[str, Any]]:
        """Every article (optionally of one category), as dicts."""
        ...

    def get(self, article_id: int) -> dict[str, Any] | None:
        """One article, or ``None``."""
        ...

    def create(self, title: str, body: str, category: str = "", tags: Any = None) -> dict[str, Any]:
        """Add an article; return it.

        :raises DuplicateArticleTitle: another article has this title.
        :raises ValueError: an empty title or body.
        """
        ...

    def update(self, article_id: int, **fields: Any) -> dict[str, Any]:
        """Change an article's title, body, category or tags; return it.

        :raises ArticleNotFound: no such article.
        :raises DuplicateArticleTitle: another article has the new title.
        :raises ValueError: an unknown field, or an empty title or body.
        """
        ...

    def delete(self, article_id: int) -> bool:
        """Remove an article; False when there was none."""
        ...

    def search(self, query: str, limit: int = 3) -> list[KnowledgeMatch]:
        """The best matches for ``query``, best first."""
        ...

    def best_confident(self, query: str) -> KnowledgeMatch | None:
        """The best match when it is good enough to answer a guest with, else ``None``."""
        ...

    def import_file(self, path: Path) -> Any:
        """Add or update articles from a YAML, Markdown or CSV file; return a report."""
        ...


@runtime_checkable
class Tasks(Protocol):
    """Work for staff: requests and escalations, with priorities and SLAs."""

    def create(self, **fields: Any) -> dict[str, Any]:
        """Open a task (``title``, ``department``, ``priority``...); return it."""
        ...

    def list(self, status: str | None = None, department: str | None = None, assignee_id: int | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Tasks matching the filters, soonest SLA due time first; ``status="open"`` means open or in progress."""
        ...

    def list_page(
        self,
        *,
        status: str | None = None,
        department: str | None = None,
        priority: str | None = None,
        assignee_id: int | None = None,
        unassigned: bool = False,
        conversation_id: int | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> ResultPage:
        """One page of the tasks matching every filter given, soonest SLA due time first (none last), and the total.

        ``status`` is one of :data:`TASK_STATUSES`, matched exactly; ``unassigned`` wins over ``assignee_id``.
        """
        ...

    def get(self, task_id: int) -> dict[str, Any] | None:
        """One task, or ``None``."""
        ...

    def claim(self, task_id: int, staff_user_id: int) -> dict[str, Any]:
        """Assign the task to a staff member and mark it in progress.

        :raises TaskNotFound: no such task.
        :raises ValueError: the task is finished, or held by someone else.
        """
        ...

    def complete(self, task_id: int, staff_user_id: int | None = None) -> dict[str, Any]:
        """Mark the task done (assigned to ``staff_user_id`` when nobody held it).

        :raises TaskNotFound: no such task.
        :raises ValueError: the task is already done or cancelled.
        """
        ...

    def reassign(self, task_id: int, staff_user_id: int | None) -> dict[str, Any]:
        """Give an open task to ``staff_user_id`` (in progress), or None to make it open and unassigned.

        :raises TaskNotFound: / ValueError: the task is done or cancelled.
        """
        ...

    def check_sla(self) -> list[dict[str, Any]]:
        """Mark tasks past their SLA as breached; return the newly breached ones."""
        ...

    def sla_counts(self) -> dict[str, int]:
        """Open tasks by SLA state, for ``/health`` and metrics."""
        ...

    def soonest_open(self, conversation_ids: list[int]) -> dict[int, dict[str, Any]]:
        """Per conversation id: its open task with the soonest SLA due time (absent when it has none)."""
        ...


@runtime_checkable
class HotelProfile(Protocol):
    """The hotel's name, times, languages and contacts, as staff edit them."""

    def get(self) -> dict[str, Any]:
        """The profile as a dict."""
        ...

    def update(self, **fields: Any) -> dict[str, Any]:
        """Change profile fields; return the profile."""
        ...


@runtime_checkable
class Conversations(Protocol):
    """Conversations as staff see and steer them (guests' messages come in through :class:`Inbox`)."""

    def list_conversations(
        self,
        *,
        state: str | None = None,
        channel: str | None = None,
        assignee_id: int | None = None,
        unassigned: bool = False,
        q: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> ResultPage:
        """One page of the conversations (each with its ``guest``) matching every filter given,
        newest activity first, and the total.

        ``unassigned`` wins over ``assignee_id``; ``q`` matches the guest's name, phone, e-mail
        or address, or any message text (case-insensitive, ``%`` and ``_`` literal).
        """
        ...

    def get_conversation(self, conversation_id: int) -> dict[str, Any] | None:
        """One conversation with its guest, or ``None``."""
        ...

    def get_guest(self, guest_id: int) -> dict[str, Any] | None:
        """One guest, or ``None``."""
        ...

    def history(self, conversation_id: int, limit: int = 100, before_id: int | None = None) -> list[dict[str, Any]]:
        """The conversation's last ``limit`` messages (older than message ``before_id`` if given), oldest first.

        Empty when there is no such conversation.
        """
        ...

    def get_message(self, message_id: int) -> dict[str, Any] | None:
        """One message (with its conversation's ``guest_address``), or ``None``."""
        ...

    def find_conversation_id(self, channel: str, guest_address: str) -> int | None:
        """The open conversation of a guest on a channel, if any."""
        ...

    async def send_staff_reply(self, conversation_id: int, body: str, staff_user_id: int | None) -> int:
        """Queue a staff member's reply to the guest; return the message id.

        :raises ConversationNotFound: no such conversation.
        :raises ValueError: an empty body.
        """
        ...

    def take_over(self, conversation_id: int, staff_user_id: int | None) -> dict[str, Any]:
        """Staff take the conversation over: the AI stops answering it. :raises ConversationNotFound:"""
        ...

    def hand_back(self, conversation_id: int) -> dict[str, Any]:
        """Give the conversation back to the AI. :raises ConversationNotFound:"""
        ...

    def close(self, conversation_id: int) -> dict[str, Any]:
        """Close the conversation. :raises ConversationNotFound:"""
        ...

    def health_summary(self) -> dict[str, Any]:
        """Queue depths and states for ``/health``."""
        ...

    def count_state(self, state: str) -> int:
        """How many conversations are in ``state``."""
        ...

    def guest_conversations(self, guest_id: int) -> list[dict[str, Any]]:
        """Every conversation of one guest, on every channel, most recent first."""
        ...

    def update_guest(self, guest_id: int, **fields: Any) -> dict[str, Any]:
        """Set some of :data:`GUEST_EDITABLE_FIELDS` (empty text clears one); return the guest.

        :raises GuestNotFound: no such guest.
        :raises ValueError: a field that is not editable or too long (the message names it).
        """
        ...

    def add_note(self, conversation_id: int, staff_user_id: int | None, body: str) -> dict[str, Any]:
        """Store a private staff note on a conversation (never sent to the guest); return it.

        :raises ValueError: an empty or too long note, or no such conversation.
        """
        ...

    def list_notes(self, conversation_id: int, limit: int = 200) -> list[dict[str, Any]]:
        """The conversation's staff notes, oldest first."""
        ...

    async def preview_answer(self, body: str) -> dict[str, Any]:
        """What Jack would answer a new web-chat guest who wrote ``body``, through the guest's code path.

        Nothing is stored or sent. Returns ``{"body": text, "meta": {...}}``; ``meta`` is what an AI
        message's meta would hold (``path``, ``knowledge_ids``, ``escalation_reason``...).
        """
        ...


@dataclass
class AICall:
    """What the LLM gateway knows about one provider call when it is over, for the cost ledger."""

    provider: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0.0
    conversation_id: int | None = None
    guest_id: int | None = None
    fallback: bool = False
    is_local: bool = False
    outcome: str = "ok"
    error: str | None = None


@runtime_checkable
class Costs(Protocol):
    """The cost ledger and budgets (``costs.yaml``)."""

    async def record_ai_call(self, call: AICall) -> int:
        """Price ``call``, write it to the ledger, check the budgets; return the ledger row id."""
        ...

    def local_only(self) -> Any | None:
        """The budget threshold that switched Jack to local models, or ``None``."""
        ...

    async def record_sms(self, cost_usd: float | None = None, segments: int = 1, message_id: int | None = None) -> Any:
        """Record one sent SMS (priced per segment when ``cost_usd`` is ``None``)."""
        ...

    def sms_cost_per_segment(self) -> float:
        """USD per SMS segment (``costs.sms.per_message_cost``)."""
        ...

    def status(self) -> dict[str, Any]:
        """Today's and this month's spend against the budgets, for ``/health``."""
        ...


@dataclass
class LLMResult:
    """What the LLM gateway returns: the reply and which provider gave it."""

    response: LLMResponse
    provider: str
    fallback: bool
    latency_ms: float
    #: Why another provider than the first answered: ``budget`` or the first failure's outcome.
    fallback_reason: str | None = None


class NoProviderConfigured(RuntimeError):
    """No LLM provider is configured: the caller uses its no-model path."""


class AICallCeilingReached(NoProviderConfigured):
    """``AI_MAX_CALLS_PER_MINUTE`` model calls were made in the last minute: the caller uses its no-model path.

    ``limit`` is the ceiling; ``retry_after`` the seconds until a call is allowed again.
    """

    def __init__(self, limit: int, retry_after: float):
        super().__init__(f"the AI call ceiling is reached: {limit} calls in the last minute (AI_MAX_CALLS_PER_MINUTE)")
        self.limit = limit
        self.retry_after = retry_after


class AllProvidersFailed(RuntimeError):
    """Every configured provider failed; ``errors`` says how.  The caller escalates to staff."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


class BudgetExhausted(AllProvidersFailed):
    """A budget's ``fallback_to_local`` is in force and no local provider is configured: paid calls stop."""


@runtime_checkable
class LLM(Protocol):
    """The providers in ``AI_PROVIDER_ORDER``, tried in turn, every call priced."""

    def available(self) -> bool:
        """True when at least one provider is configured."""
        ...

    def ordered_providers(self) -> list[LLMProvider]:
        """The configured providers in the order they are tried."""
        ...

    def unknown_names_in_order(self) -> list[str]:
        """Names in ``AI_PROVIDER_ORDER`` that no plugin registered."""
        ...

    async def complete(self, request: LLMRequest, *, conversation_id: int | None = None, guest_id: int | None = None) -> LLMResult:
        """Ask the providers in turn; raise when none answers."""
        ...


@runtime_checkable
class StaffAuth(Protocol):
    """Who a staff request comes from, and whether their role allows it."""

    async def authorize(self, req: Any, minimum_role: str) -> Any:
        """Authenticate the request's bearer token and insist on ``minimum_role``; return the account.

        Raises Falcon's 401 or 403 errors, which the host renders as JSON.
        """
        ...

    def list_users(self) -> list[Any]:
        """Every staff account, as objects with ``id``, ``email``, ``name``, ``role`` and ``active``."""
        ...

    def get_user(self, user_id: int) -> Any | None:
        """One staff account, or ``None``."""
        ...

    def create_user(self, email: str, password: str, *, name: str = "", role: str = "staff") -> Any:
        """A new active account (password of :data:`STAFF_MIN_PASSWORD_LENGTH`+ characters, hashed).

        :raises ValueError: a bad e-mail, password or role, or an e-mail already taken (the message says which).
        """
        ...

    def set_active(self, user_id: int, active: bool) -> Any | None:
        """Enable or disable an account (disabling ends its sign-ins at once); ``None``: no such account."""
        ...

    def set_role(self, user_id: int, role: str) -> Any | None:
        """Change an account's role; ``None``: no such account. :raises ValueError: not one of :data:`STAFF_ROLES`."""
        ...

    def set_password(self, user_id: int, password: str) -> Any | None:
        """Reset an account's password (ending its sign-ins); ``None``: no such account. :raises ValueError: too short."""
        ...


@runtime_checkable
class Backups(Protocol):
    """Consistent backups of the SQLite database, copied to every backup destination."""

    def create(self, reason: str = "manual") -> Any:
        """Take a backup now; return the run (``ok``, ``key``, ``outcomes``, ``alerts``)."""
        ...

    def status(self) -> dict[str, Any]:
        """The last backups and their freshness against the RPO, for ``/health``."""
        ...


@runtime_checkable
class Mailer(Protocol):
    """Send an e-mail through the hotel's SMTP server (provided by the e-mail channel, ``channel_email``).

    Used for guests' answers, ``email`` alert contacts and staff notifications alike.
    """

    async def send_mail(self, to: str, subject: str, text: str, *, html: str | None = None,
                        headers: dict[str, str] | None = None) -> str:
        """Send ``text`` (and an HTML part, made from it unless given) from ``SMTP_FROM``; return the ``Message-ID``.

        ``headers`` may hold ``In-Reply-To``/``References`` and any extra header.

        :raises TransientSendError: the server was unreachable or answered 4xx; try again later.
        :raises PermanentSendError: the server refused the mail (5xx), with its reply.
        :raises NotConfiguredError: ``SMTP_HOST``, ``SMTP_USER`` or ``SMTP_PASSWORD`` is not set.
        """
        ...


@runtime_checkable
class Audit(Protocol):
    """The audit log: every change to apps, users, budgets and knowledge, with who, when, old and new."""

    def record(self, actor: str, action: str, target: str, old: dict[str, Any] | None = None,
               new: dict[str, Any] | None = None, *, secret_keys: tuple[str, ...] = ()) -> int:
        """Write one entry; values of secret keys (by name, or listed in ``secret_keys``) are masked; return its id.

        :param actor: who made the change (``admin@hotel.test``, ``cli``).
        :param action: what was done, ``<thing>.<verb>`` (``user.create``, ``app.settings``).
        :param target: what it was done to (``user:3``, ``app:channel_sms``).
        """
        ...

    def entries(self, limit: int = 50, offset: int = 0, target: str | None = None) -> ResultPage:
        """One page of entries, newest first (optionally for one target prefix), and the total."""
        ...


@runtime_checkable
class AppSettings(Protocol):
    """Settings made in the dashboard (Engine > Apps): stored in the database, secrets encrypted,
    overriding ``.env`` and the environment, applied without a restart."""

    def overrides(self) -> dict[str, Any]:
        """The names and values set in the dashboard, secrets decrypted (never send them to a browser)."""
        ...

    async def update(self, values: dict[str, Any], actor: str) -> list[str]:
        """Store and apply ``values`` (``None`` removes a dashboard value); return the names that changed.

        :raises ValueError: an undeclared or start-up-only setting, or a bad value (one line naming it).
        """
        ...

    def source_of(self, name: str) -> str | None:
        """``dashboard`` when the dashboard sets ``name``, else ``None``."""
        ...


# --------------------------------------------------------------------------- the registry


class Services:
    """The services of one app, keyed by their declared interface (``app.services``)."""

    def __init__(self) -> None:
        self._services: dict[type, Any] = {}
        self._providers: dict[type, str] = {}

    def provide(self, kind: type[T], service: T, *, plugin: str = "?") -> None:
        """Register ``service`` as the provider of ``kind``; it must fulfil the interface."""
        if not isinstance(kind, type):
            raise TypeError(f"plugin '{plugin}' provided {service!r} under {kind!r}; expected an interface class")
        if getattr(kind, "_is_runtime_protocol", False) or not getattr(kind, "_is_protocol", False):
            if not isinstance(service, kind):
                raise TypeError(f"plugin '{plugin}' provided {service!r} as {kind.__name__}, but it does not implement it")
        if kind in self._services:
            raise ServiceConflict(
                f"service {kind.__name__} is provided twice: by '{self._providers[kind]}' and by '{plugin}'. "
                "Disable one with JACK_DISABLED_PLUGINS"
            )
        self._services[kind] = service
        self._providers[kind] = plugin

    def get(self, kind: type[T]) -> T:
        """The provider of ``kind``; raise :class:`ServiceUnavailable` with a clear message if none."""
        try:
            return self._services[kind]
        except KeyError:
            raise ServiceUnavailable(
                f"no plugin provides the {kind.__name__} service (is its feature disabled in JACK_DISABLED_PLUGINS?)"
            ) from None

    def find(self, kind: type[T]) -> T | None:
        """The provider of ``kind``, or ``None`` where the feature is optional."""
        return self._services.get(kind)

    def provider_of(self, kind: type) -> str | None:
        """Which plugin provides ``kind``."""
        return self._providers.get(kind)

    # The services the host's built-in features declare, typed for their consumers.
    @property
    def inbox(self) -> Inbox:
        return self.get(Inbox)

    @property
    def alerts(self) -> Alerts:
        return self.get(Alerts)

    @property
    def events(self) -> Events:
        return self.get(Events)

    @property
    def knowledge(self) -> Knowledge:
        return self.get(Knowledge)

    @property
    def tasks(self) -> Tasks:
        return self.get(Tasks)

    @property
    def hotel_profile(self) -> HotelProfile:
        return self.get(HotelProfile)

    @property
    def conversations(self) -> Conversations:
        return self.get(Conversations)

    @property
    def costs(self) -> Costs:
        return self.get(Costs)

    @property
    def llm(self) -> LLM:
        return self.get(LLM)

    @property
    def staff_auth(self) -> StaffAuth:
        return self.get(StaffAuth)

    @property
    def backups(self) -> Backups:
        return self.get(Backups)

    @property
    def audit(self) -> Audit:
        return self.get(Audit)

    @property
    def app_settings(self) -> AppSettings:
        return self.get(AppSettings)


__all__ = [
    "AICall",
    "AICallCeilingReached",
    "AllProvidersFailed",
    "BudgetExhausted",
    "NoProviderConfigured",
    "AlertNotFound",
    "Alerts",
    "AppSettings",
    "ArticleNotFound",
    "Audit",
    "Backups",
    "CONVERSATION_STATES",
    "ConversationNotFound",
    "Conversations",
    "Costs",
    "DuplicateArticleTitle",
    "Events",
    "HotelProfile",
    "Knowledge",
    "KnowledgeMatch",
    "LLM",
    "LLMResult",
    "ResultPage",
    "ServiceConflict",
    "ServiceUnavailable",
    "Services",
    "StaffAuth",
    "TASK_PRIORITIES",
    "TASK_STATUSES",
    "TaskNotFound",
    "Tasks",
]
