"""Core settings and the host's own ``jack doctor`` checks."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jack_host import hookimpl
from jack_host.config.logs import LEVELS
from jack_host.config.settings import Setting
from jack_host.kit.phone import check_country_code

if TYPE_CHECKING:
    from jack_host.cli.doctor import DoctorCheck
    from jack_host.contract.app import App as JackApp


def _check_public_url(value: str) -> str | None:
    if value and not value.startswith(("http://", "https://")):
        return "a URL starting with https:// (or http:// for local tests)"
    return None


def _check_forwarded_allow_ips(value: str) -> str | None:
    # Imported here: the middleware module brings Falcon, which `jack config check` does not need.
    from jack_host.web.middleware import check_forwarded_allow_ips

    return check_forwarded_allow_ips(value)


def _check_timezone(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return "an IANA timezone name such as Europe/Lisbon or America/New_York"
    return None


@hookimpl
def jack_settings_validators() -> list[Setting]:
    return [
        Setting("JACK_ENV", str, None, "development or production (NODE_ENV is honoured too)"),
        Setting("NODE_ENV", str, None, "the deployment document's name for JACK_ENV"),
        Setting("PORT", int, 3000, "TCP port of the web server", minimum=1),
        Setting("HOST", str, "0.0.0.0", "interface to listen on"),
        Setting("LOG_LEVEL", str, "info", "how much to log", choices=LEVELS),
        Setting("DATABASE_PATH", str, "./data/jack.db", "the SQLite database file"),
        Setting("DATABASE_URL", str, "", "a PostgreSQL URL; replaces DATABASE_PATH when set", secret=True),
        Setting("JWT_SECRET", str, None, "signs staff sign-in tokens; 32+ random characters", secret=True),
        Setting("ENCRYPTION_KEY", str, None, "encrypts stored provider secrets; 32+ random characters", secret=True),
        Setting("PUBLIC_URL", str, "", "the https:// address guests and providers use", check=_check_public_url),
        Setting(
            "FORWARDED_ALLOW_IPS",
            str,
            "127.0.0.1",
            "proxies whose X-Forwarded-* headers are trusted",
            check=_check_forwarded_allow_ips,
        ),
        Setting("HOTEL_TIMEZONE", str, "UTC", "the hotel's IANA timezone, e.g. Europe/Lisbon", check=_check_timezone),
        Setting(
            "DEFAULT_COUNTRY_CODE",
            str,
            "",
            "calling code for guest numbers written without one (e.g. 1, 44, 351)",
            check=check_country_code,
        ),
        Setting("HEALTH_CHECK_INTERVAL", float, 60.0, "seconds between component health checks", minimum=1),
        Setting("HEALTH_REFRESH_SECONDS", float, 2.0, "seconds between rebuilds of the /health document in the background", minimum=0.1),
        Setting("SHUTDOWN_GRACE_SECONDS", int, 10, "how long SIGTERM waits for requests to finish", minimum=0),
        Setting("DISK_MIN_FREE_PERCENT", float, 10.0, "jack doctor fails below this free space", minimum=0),
        Setting("JACK_DISABLED_PLUGINS", str, "", "comma-separated plugin names not to load"),
        Setting("JACK_ENABLED_PLUGINS", str, "", "if set, only these installed plugins load"),
        Setting("JACK_EXTRA_PLUGINS", str, "", "tests/development only: plugin module paths to load, comma-separated"),
    ]


@hookimpl
def jack_doctor_checks(app: JackApp) -> list[DoctorCheck]:
    # Imported here: the doctor's checks bring SQLAlchemy (the engine module), needed only by `jack doctor`.
    from jack_host.cli.doctor import host_checks

    return host_checks(app)
