"""Slow down password guessing, without letting a stranger lock staff out.

Every sign-in attempt is counted *before* its password is checked, in one database
transaction, so parallel guesses cannot slip past the limit, and every ``jack serve``
process sharing the database (and every restart) sees the same counts.

Three counters, each a fixed window of ``window`` seconds from its first attempt:

- per account *and* client address: after ``per_pair`` attempts that address gets 429 for
  that account until the window ends. The real user's own address is not affected.
- per client address, across accounts: after ``per_ip`` attempts that address gets 429
  (guessing many accounts from one place).
- per account, from anywhere: a soft limit. After ``slowdown_after`` attempts, each
  further attempt for the account waits before its password is checked, 0.5 s doubling up
  to ``max_delay``; it is never refused, so the right password still gets in.

A successful sign-in clears its (account, address) counter and gives back the attempt it
used on the other two, so a busy front desk never runs out of budget.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import case, delete, func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from jack_host.builtin.staff.models import LoginCounter

FIRST_DELAY = 0.5
_PRUNE_EVERY = 64  # attempts between deletions of expired counters


@dataclass(frozen=True)
class Attempt:
    """The outcome of counting one attempt: refused for ``retry_after`` s, or go after ``delay`` s."""

    retry_after: int = 0
    delay: float = 0.0

    @property
    def refused(self) -> bool:
        return self.retry_after > 0


class LoginLimiter:
    """The sign-in counters of one database."""

    def __init__(
        self,
        engine: Engine,
        *,
        per_pair: int,
        per_ip: int,
        window: float,
        slowdown_after: int,
        max_delay: float,
        clock: Callable[[], float] = time.time,  # wall clock: shared by processes, survives restarts
    ):
        self.engine = engine
        self.per_pair = per_pair
        self.per_ip = per_ip
        self.window = window
        self.slowdown_after = slowdown_after
        self.max_delay = max_delay
        self.clock = clock
        self._attempts = itertools.count(1)
        table = LoginCounter.__table__
        if engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        self._table = table
        self._insert = insert

    @staticmethod
    def keys(email: str, ip: str | None) -> tuple[str, str, str]:
        address = ip or "?"
        return f"pair:{email}|{address}", f"ip:{address}", f"account:{email}"

    def _count(self, session: Session, key: str, now: float) -> tuple[int, float]:
        """Add one attempt to ``key`` (a fresh window if the last one ended); its count and start."""
        table = self._table
        expired = table.c.window_start <= now - self.window
        statement = (
            self._insert(table)
            .values(key=key, window_start=now, attempts=1)
            .on_conflict_do_update(
                index_elements=[table.c.key],
                set_={
                    "attempts": case((expired, 1), else_=table.c.attempts + 1),
                    "window_start": case((expired, now), else_=table.c.window_start),
                },
            )
            .returning(table.c.attempts, table.c.window_start)
        )
        attempts, started = session.execute(statement).one()
        return int(attempts), float(started)

    def attempt(self, email: str, ip: str | None) -> Attempt:
        """Count one sign-in attempt for ``email`` from ``ip``, before the password is checked."""
        now = self.clock()
        pair, address, account = self.keys(email, ip)
        with Session(self.engine) as session:
            if next(self._attempts) % _PRUNE_EVERY == 0:
                session.execute(delete(LoginCounter).where(LoginCounter.window_start <= now - self.window))
            # The first write takes the write lock (SQLite) or the row lock (PostgreSQL) until commit,
            # so concurrent attempts are counted one after another.
            pair_count, pair_start = self._count(session, pair, now)
            ip_count, ip_start = self._count(session, address, now)
            waits = []
            if pair_count > self.per_pair:
                waits.append(pair_start + self.window - now)
            if ip_count > self.per_ip:
                waits.append(ip_start + self.window - now)
            if waits:
                # A refused attempt is not counted: it checks no password and must not prolong the block.
                session.rollback()
                return Attempt(retry_after=max(1, math.ceil(max(waits))))
            account_count, _ = self._count(session, account, now)
            session.commit()
        beyond = account_count - 1 - self.slowdown_after
        delay = 0.0 if beyond < 0 else min(self.max_delay, FIRST_DELAY * 2 ** min(beyond, 30))
        return Attempt(delay=delay)

    def succeeded(self, email: str, ip: str | None) -> None:
        """The password was right: clear this address's count for the account, give back the others."""
        pair, address, account = self.keys(email, ip)
        with Session(self.engine) as session:
            session.execute(delete(LoginCounter).where(LoginCounter.key == pair))
            session.execute(
                update(LoginCounter)
                .where(LoginCounter.key.in_([address, account]))
                .values(attempts=func.max(LoginCounter.attempts - 1, 0) if self.engine.dialect.name == "sqlite"
                        else func.greatest(LoginCounter.attempts - 1, 0))
            )
            session.commit()
