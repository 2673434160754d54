"""``jack doctor``: the deployment document's security checklist, run against the live configuration."""

from __future__ import annotations

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
)

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
    return checks


def run_doctor(app: JackApp) -> tuple[list[DoctorCheck], bool]:
    """Run every check; return them and whether all must-fix items passed."""
    checks = app.hooks.doctor_checks(app)
    return checks, all(check.ok or not check.must_fix for check in checks)
