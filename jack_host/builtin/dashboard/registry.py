"""The dashboard's page registry: each module in ``pages/`` declares its routes and menu entries."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jack_host.contract.services import STAFF_ROLES, role_allows

if TYPE_CHECKING:
    from jack_host.contract.app import App


@dataclass(frozen=True)
class MenuEntry:
    """A link in the dashboard's menu, shown to ``minimum_role`` and above, sorted by ``order``."""

    path: str
    label: str
    minimum_role: str = "staff"
    order: int = 100

    def __post_init__(self) -> None:
        if self.minimum_role not in STAFF_ROLES:
            raise ValueError(f"menu entry {self.path}: unknown role {self.minimum_role!r}")


@dataclass(frozen=True)
class Page:
    """One route of the dashboard: ``resource(app)`` is served at ``route`` (a Falcon URI template)."""

    route: str
    resource: Callable[[App], Any]
    menu: MenuEntry | None = None


#: Shown in the menu until a page module registers the same path (the part-B pages).
RESERVED_MENU = (
    MenuEntry("/engine/apps", "Engine › Apps", "manager", 60),
    MenuEntry("/costs", "Costs", "manager", 70),
    MenuEntry("/system", "System", "manager", 80),
)


def collect_pages() -> list[Page]:
    """Every ``PAGES`` list of the modules in ``jack_host.builtin.dashboard.pages``, by module name."""
    from jack_host.builtin.dashboard import pages as package

    collected: list[Page] = []
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        collected.extend(getattr(module, "PAGES", ()))
    return collected


def build_menu(pages: list[Page]) -> list[MenuEntry]:
    entries = [page.menu for page in pages if page.menu is not None]
    claimed = {entry.path for entry in entries}
    entries.extend(entry for entry in RESERVED_MENU if entry.path not in claimed)
    return sorted(entries, key=lambda entry: (entry.order, entry.label))


def menu_for(menu: list[MenuEntry], user: Any | None) -> list[MenuEntry]:
    """The entries ``user`` (a staff account, or None when signed out) may see."""
    if user is None:
        return []
    return [entry for entry in menu if role_allows(user.role, entry.minimum_role)]
