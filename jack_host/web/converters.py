"""Route converters: ``{id:int}`` matches only ids a database column can hold.

Falcon's ``int`` converter takes any run of digits; ``/api/v1/conversations/99999999999999999999999``
then reached the database driver, which raised ``OverflowError`` (a 500). With this converter
such a path matches no route and is a 404, which is the truth: no row has that id.
"""

from __future__ import annotations

import builtins

from falcon.routing import IntConverter

#: SQLite's and PostgreSQL's 64-bit integer range.
DB_INT_MIN = -(2**63)
DB_INT_MAX = 2**63 - 1


class DatabaseIntConverter(IntConverter):
    """Falcon's ``int`` converter, with ``min``/``max`` kept inside the 64-bit range."""

    def __init__(self, num_digits: int | None = None, min: int | None = None, max: int | None = None) -> None:  # noqa: A002
        low = DB_INT_MIN if min is None else builtins.max(min, DB_INT_MIN)
        high = DB_INT_MAX if max is None else builtins.min(max, DB_INT_MAX)
        super().__init__(num_digits, low, high)

    def convert(self, value: str) -> int | None:
        # Twenty digits are already out of range; do not hand int() a megabyte of them.
        if len(value) > 20:
            return None
        return super().convert(value)

