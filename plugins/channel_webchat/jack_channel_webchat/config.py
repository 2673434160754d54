"""The web chat's settings: declared for validation, read once into a typed object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from jack_host.config.settings import Setting


def normalise_origin(value: str) -> str | None:
    """``https://Hotel.example:443/`` -> ``https://hotel.example``; ``None`` when it is not an origin."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default_port = 443 if parts.scheme == "https" else 80
    try:
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default_port else "")


def _check_origins(value: str) -> str | None:
    for item in (i.strip() for i in value.split(",")):
        if item and item != "*" and normalise_origin(item) is None:
            return f"origins such as https://hotel.example separated by commas (or *); '{item}' is not one"
    return None


SETTINGS = [
    Setting(
        "WEBCHAT_ALLOWED_ORIGINS",
        str,
        "",
        "sites allowed to embed the chat, e.g. https://hotel.example,https://www.hotel.example "
        "(Jack's own address is always allowed; * allows any site)",
        check=_check_origins,
    ),
    Setting("WEBCHAT_SESSION_IDLE_HOURS", float, 24.0, "a guest's chat session ends after this many idle hours",
            minimum=0.01),
    Setting("WEBCHAT_MAX_MESSAGE_CHARS", int, 4000, "longest guest message accepted, in characters", minimum=1),
    Setting("WEBCHAT_RATE_LIMIT_PER_MINUTE", int, 20, "guest messages accepted per session per minute", minimum=1),
    # Per client address (the host's, behind trusted proxies): a new session is one reconnect
    # away, so a per-session limit alone does not hold anyone back.  A hotel's guest Wi-Fi shares
    # one address, hence limits well above what one person sends.
    Setting("WEBCHAT_SESSIONS_PER_ADDRESS_PER_MINUTE", int, 10,
            "new chat sessions one client address may start per minute", minimum=1),
    Setting("WEBCHAT_MESSAGES_PER_ADDRESS_PER_MINUTE", int, 60,
            "guest messages accepted from one client address per minute (all its sessions together)", minimum=1),
    Setting("WEBCHAT_MAX_CONNECTIONS_PER_SESSION", int, 5, "open tabs (WebSockets) allowed per session", minimum=1),
    Setting("WEBCHAT_PING_INTERVAL", float, 25.0, "seconds between keep-alive pings to each open chat", minimum=1),
    Setting("WEBCHAT_HISTORY_LIMIT", int, 100, "messages sent to a (re)connecting chat", minimum=1),
    Setting("WEBCHAT_TITLE", str, "Chat with us", "title of the full-page chat at /chat"),
]


@dataclass(frozen=True)
class WebchatConfig:
    allowed_origins: frozenset[str]
    allow_any_origin: bool
    session_idle_seconds: float
    max_message_chars: int
    rate_limit_per_minute: int
    sessions_per_address_per_minute: int
    messages_per_address_per_minute: int
    max_connections_per_session: int
    ping_interval: float
    history_limit: int
    title: str
    #: Handshake: how long a new socket may wait before saying hello.
    hello_timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Any) -> WebchatConfig:
        items = [i.strip() for i in str(settings.get("WEBCHAT_ALLOWED_ORIGINS") or "").split(",") if i.strip()]
        return cls(
            allowed_origins=frozenset(o for o in (normalise_origin(i) for i in items if i != "*") if o),
            allow_any_origin="*" in items,
            session_idle_seconds=float(settings.get("WEBCHAT_SESSION_IDLE_HOURS")) * 3600,
            max_message_chars=int(settings.get("WEBCHAT_MAX_MESSAGE_CHARS")),
            rate_limit_per_minute=int(settings.get("WEBCHAT_RATE_LIMIT_PER_MINUTE")),
            sessions_per_address_per_minute=int(settings.get("WEBCHAT_SESSIONS_PER_ADDRESS_PER_MINUTE")),
            messages_per_address_per_minute=int(settings.get("WEBCHAT_MESSAGES_PER_ADDRESS_PER_MINUTE")),
            max_connections_per_session=int(settings.get("WEBCHAT_MAX_CONNECTIONS_PER_SESSION")),
            ping_interval=float(settings.get("WEBCHAT_PING_INTERVAL")),
            history_limit=int(settings.get("WEBCHAT_HISTORY_LIMIT")),
            title=str(settings.get("WEBCHAT_TITLE") or "Chat with us"),
        )
