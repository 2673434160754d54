"""JSON from strangers: parse errors and absurd nesting are one :class:`JSONInputError`, never a crash.

The standard library's decoder recurses once per ``[`` or ``{``, so ``[`` × 100,000 raises
``RecursionError`` (not a ``ValueError``) and escapes the usual ``except ValueError``.
Real payloads (Meta's webhooks, Twilio's, the web chat frames, the staff API) nest a
handful of levels, so anything deeper than :data:`MAX_DEPTH` is refused before parsing.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

#: Deepest nesting of arrays and objects accepted.
MAX_DEPTH = 64


class JSONInputError(ValueError):
    """The text is not JSON, or nests deeper than :data:`MAX_DEPTH`; the message says which."""


def parse_json(raw: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` for untrusted input.

    :raises JSONInputError: not UTF-8, not JSON, or nested deeper than ``max_depth``.
    """
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if nests_deeper_than(data, max_depth):
        raise JSONInputError(f"nested deeper than {max_depth} levels")
    try:
        return json.loads(data)
    except RecursionError:  # depth counted wrong by a quirk of the scan; still refuse cleanly
        raise JSONInputError(f"nested deeper than {max_depth} levels") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise JSONInputError(str(exc)) from None


def nests_deeper_than(data: bytes, max_depth: int) -> bool:
    """Whether the arrays and objects in ``data`` nest deeper than ``max_depth`` (brackets in strings left out).

    Every step runs at C speed (a regex drops the strings, ``translate`` keeps the brackets,
    ``accumulate`` sums +1/-1), so even 3 MB of brackets is checked in a fraction of a second.
    """
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return False
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    return max(itertools.accumulate(map(_DELTA.__getitem__, brackets)), default=0) > max_depth


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DELTA = tuple(1 if b in b"[{" else -1 if b in b"]}" else 0 for b in range(256))
