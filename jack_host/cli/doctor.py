"""``jack doctor``: the deployment document's security checklist, run against the live configuration."""

from __future__ import annotations

import ipaddress
import shutil
from typing import TYPE_CHECKING

from jack_host.config.settings import secret_problem
from jack_host.contract.interfaces import DoctorCheck
from jack_host.db.engine import (
    DatabaseCorruptError,
    DatabaseEmptyError,
    check_integrity,
    is_sqlite,
    sqlite_path,
    write_problem,
)

#: Above these the limits exist on paper only: the sign-in limiter and the web chat's per-session limit.
RATE_LIMIT_CEILINGS = {
    "STAFF_LOGIN_MAX_FAILURES": 50,
    "STAFF_LOGIN_MAX_FAILURES_PER_IP": 500,
    "WEBCHAT_RATE_LIMIT_PER_MINUTE": 300,
}

if TYPE_CHECKING:
    from jack_host.contract.app import App as JackApp


def host_checks(app: JackApp) -> list[DoctorCheck]:
    settings = app.settings
    production = settings.is_production
    checks = []
    for key in ("JWT_SECRET", "ENCRYPTION_KEY"):
        problem = secret_problem(key, settings.get(key))
        checks.append(
            DoctorCheck(
                f"{key} changed from the default and long enough",
                problem is None,
                problem or "set, 32+ characters",
                f"put {key}=<output of `openssl rand -hex 32`> in .env and restart",
            )
        )
    public_url = str(settings.get("PUBLIC_URL") or "")
    checks.append(
        DoctorCheck(
            "HTTPS: PUBLIC_URL uses https://",
            public_url.startswith("https://"),
            public_url or "PUBLIC_URL is not set",
            "put the reverse proxy (deploy/nginx-jack.conf or deploy/Caddyfile) in front of Jack and set "
            "PUBLIC_URL=https://jack.yourhotel.com",
            must_fix=production,
        )
    )
    checks.append(_public_interface_check(app))
    checks.append(_rate_limit_check(app))
    level = str(settings.get("LOG_LEVEL") or "info").lower()
    checks.append(
        DoctorCheck(
            "LOG_LEVEL=info in production",
            not production or level in ("info", "warning", "warn", "error"),
            f"LOG_LEVEL={level}, environment {settings.environment}",
            "set LOG_LEVEL=info: debug logs can hold guest messages",
            must_fix=False,
        )
    )
    data_dir = sqlite_path(settings).parent if is_sqlite(settings) else None
    if data_dir is not None:
        probe = data_dir if data_dir.exists() else data_dir.parent
        usage = shutil.disk_usage(probe)
        free_percent = usage.free / usage.total * 100
        minimum = float(settings.get("DISK_MIN_FREE_PERCENT") or 10)
        checks.append(
            DoctorCheck(
                "free disk space on the data volume",
                free_percent >= minimum,
                f"{free_percent:.0f}% free ({usage.free // 2**30} GiB) at {probe}",
                "clean up old logs and backups or expand the disk (the alert threshold is 90% used)",
            )
        )
        path = sqlite_path(settings)
        try:
            ran = check_integrity(path)  # the same check as the start
            checks.append(DoctorCheck("database integrity", True, f"{path}: {ran} ok" if path.exists() else f"{path} not created yet"))
        except (DatabaseCorruptError, DatabaseEmptyError) as exc:
            checks.append(DoctorCheck("database integrity", False, str(exc), "jack restore --latest"))
        problem = write_problem(app.engine)
        checks.append(
            DoctorCheck(
                "database writable by this user",
                problem is None,
                problem or f"{path} and its folder are writable",
                "fix the owner or permissions of the file and its folder; do not restore a healthy database",
            )
        )
    return checks


def _public_interface_check(app: JackApp) -> DoctorCheck:
    """Listening on all (or a public) interface is fine behind HTTPS; over plain HTTP guests' messages travel in clear."""
    settings = app.settings
    host = str(settings.get("HOST") or "0.0.0.0")
    public_url = str(settings.get("PUBLIC_URL") or "")
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    where = "all interfaces" if host in ("0.0.0.0", "::") else host
    ok = loopback or public_url.startswith("https://")
    return DoctorCheck(
        "not reachable on a public interface without HTTPS",
        ok,
        f"HOST={host} ({'this machine only' if loopback else where}), PUBLIC_URL={public_url or 'not set'}",
        "set HOST=127.0.0.1 when the reverse proxy runs on this machine (in Docker keep HOST=0.0.0.0 and publish "
        "the port to 127.0.0.1 only, e.g. 127.0.0.1:3000:3000), and set PUBLIC_URL=https://... behind the proxy",
        must_fix=settings.is_production,
    )


def _rate_limit_check(app: JackApp) -> DoctorCheck:
    settings = app.settings
    loose = []
    shown = []
    for name, ceiling in RATE_LIMIT_CEILINGS.items():
        if name.upper() not in settings.declared:
            continue  # the feature that owns it is not loaded
        value = settings.get(name)
        shown.append(f"{name}={value}")
        if value is None or float(value) <= 0 or float(value) > ceiling:
            loose.append(f"{name}={value} (more than {ceiling} is no limit)")
    return DoctorCheck(
        "rate limits switched on",
        not loose,
        "; ".join(loose) if loose else (", ".join(shown) or "no rate-limited feature loaded"),
        "remove the overrides to go back to the defaults (5 sign-in failures per account, 20 chat messages a minute)",
        must_fix=settings.is_production,
    )


def run_doctor(app: JackApp) -> tuple[list[DoctorCheck], bool]:
    """Run every check; return them and whether all must-fix items passed."""
    checks = app.hooks.doctor_checks(app)
    return checks, all(check.ok or not check.must_fix for check in checks)
