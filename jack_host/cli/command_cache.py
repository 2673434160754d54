"""The names of the plugins' commands, cached so ``jack --help`` lists them without loading every plugin.

Loading every plugin costs about a second (their modules import SQLAlchemy, Falcon, LiteLLM...),
and ``jack --help`` only needs each command's name and one-line description.  Whenever the
plugins are loaded (any command but ``--version`` and ``--help``), the commands the
``jack_register_commands`` hook added are written to a small JSON file under the user's
cache folder, with a fingerprint of what could change them: the plugin selection variables,
the installed ``jack`` entry points and their versions, and the newest modification time of
every Python file of every plugin's package.  ``jack --help`` uses the file only when the
fingerprint still matches; otherwise it loads the plugins and writes it again.  Nothing here
is a list of command names: a plugin that adds a command group appears as soon as it is
installed.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from jack_host import __version__

ENTRY_POINT_GROUP = "jack"
SELECTION_VARIABLES = ("JACK_DISABLED_PLUGINS", "JACK_ENABLED_PLUGINS", "JACK_EXTRA_PLUGINS")


def cache_file(environ: Mapping[str, str]) -> Path | None:
    """``$XDG_CACHE_HOME/jack`` or ``~/.cache/jack``; one file per Python environment. ``None``: no home."""
    base = environ.get("XDG_CACHE_HOME") or (str(Path(environ["HOME"]) / ".cache") if environ.get("HOME") else "")
    if not base:
        return None
    prefix = hashlib.sha256(sys.prefix.encode()).hexdigest()[:12]
    return Path(base) / "jack" / f"commands-{prefix}.json"


def _package_stamp(module_name: str) -> str:
    """Newest mtime and count of the ``.py`` files of the top-level package that holds ``module_name``."""
    top = module_name.split(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return f"{top}:missing"
    if spec is None:
        return f"{top}:missing"
    folders = list(spec.submodule_search_locations or []) or ([os.path.dirname(spec.origin)] if spec.origin else [])
    newest, count = 0, 0
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in files:
                if name.endswith(".py"):
                    count += 1
                    newest = max(newest, os.stat(os.path.join(root, name)).st_mtime_ns)
    return f"{top}:{newest}:{count}"


def fingerprint(environ: Mapping[str, str], builtin_modules: Iterable[str]) -> str:
    """What the plugins' commands depend on, hashed: see the module's docstring."""
    parts = [__version__, sys.prefix, *(f"{name}={environ.get(name, '')}" for name in SELECTION_VARIABLES)]
    modules = set(builtin_modules)
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        parts.append(f"ep:{ep.name}={ep.value}@{ep.dist.version if ep.dist else ''}")
        modules.add(ep.value.split(":")[0])
    modules |= {m.strip() for m in environ.get("JACK_EXTRA_PLUGINS", "").split(",") if m.strip()}
    parts.extend(sorted({_package_stamp(module) for module in modules}))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def read(path: Path | None, expected: str) -> list[tuple[str, str]] | None:
    """The cached ``(name, description)`` pairs, or ``None`` when absent, unreadable or stale."""
    if path is None:
        return None
    try:
        data = json.loads(path.read_text())
        if data.get("fingerprint") != expected:
            return None
        return [(str(name), str(text)) for name, text in data["commands"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write(path: Path | None, stamp: str, commands: Iterable[tuple[str, str]]) -> None:
    """Store the pairs; a cache folder that cannot be written only means a slower ``--help``."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps({"fingerprint": stamp, "commands": [list(pair) for pair in commands]}))
        os.replace(partial, path)
    except OSError:
        pass
