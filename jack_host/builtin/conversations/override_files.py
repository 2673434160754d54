"""Reading a hotel's override file (TEXTS_FILE, KEYWORDS_FILE): ``{key: {language: value}}`` in YAML.

One reader checks what every such file shares (readable, YAML, a mapping of known keys to mappings
of supported language codes); each file's own rules for a value are a callback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

from jack_host.kit.language import SUPPORTED_LANGUAGES


def read_by_language(
    path: Path,
    where: str,
    keys: Iterable[str],
    error: type[ValueError],
    *,
    noun: tuple[str, str],
    values: str,
    check: Callable[[str, str, Any], Any],
) -> dict[str, dict[str, Any]]:
    """Read and check ``path``; ``check(key, language, value)`` raises ``error`` or returns the value to keep.

    :param where: how messages name the file, e.g. ``"TEXTS_FILE /etc/jack/texts.yaml"``.
    :param noun: what a key is called, singular and plural (``("kind", "kinds")``).
    :param values: what a key's languages map to, for the message (``"texts"``).
    :raises error: unreadable, not YAML, an unknown key or language, or what ``check`` refuses.
    """
    keys = list(keys)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{where}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise error(f"{where}: invalid YAML ({str(exc).splitlines()[0]})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise error(f"{where}: expected a mapping of {noun[1]} ({', '.join(keys)}) to languages")
    for key, by_language in data.items():
        if key not in keys:
            raise error(f"{where}: unknown {noun[0]} '{key}'; expected one of {', '.join(keys)}")
        if not isinstance(by_language, dict):
            raise error(f"{where}: '{key}' must map language codes to {values}")
        for language, value in by_language.items():
            if language not in SUPPORTED_LANGUAGES:
                raise error(f"{where}: unknown language '{language}' in '{key}'; expected one of {', '.join(SUPPORTED_LANGUAGES)}")
            by_language[language] = check(key, language, value)
    return data
