"""Write the dashboard's changes to the audit log (``app.services.audit``, when that feature is on)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from jack_host.contract.services import Audit

if TYPE_CHECKING:
    from jack_host.contract.app import App


async def audit(app: App, actor: str, action: str, target: str, old: dict[str, Any] | None,
                new: dict[str, Any] | None) -> None:
    """One entry: ``actor`` did ``action`` (``user.role``) to ``target`` (``user:3``); secrets are masked there."""
    if log := app.services.find(Audit):
        await asyncio.to_thread(log.record, actor, action, target, old, new)
