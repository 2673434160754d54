"""The durable job queue: a table, claimed with one atomic UPDATE and held by a lease.

A worker claims a job by setting ``state='running'``, its own id in ``locked_by``
and ``locked_until`` a lease ahead; it renews the lease while it works.  A job
whose lease ran out (the process was killed) is claimable again, so after a
restart every accepted message is processed.  Finishing a job checks that the
lease is still ours in the same transaction that writes the job's result, so a
job is completed exactly once even if two workers ever raced for it.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from sqlalchemy import DateTime, bindparam, insert, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from jack_host.builtin.conversations.models import Job, now_utc


@functools.lru_cache(maxsize=64)
def _sql(statement: str, *datetimes: str):
    """``text()`` (built once per statement: they run several times per message) with datetime parameters stored exactly as SQLAlchemy stores them (string order = time order)."""
    return text(statement).bindparams(*(bindparam(name, type_=DateTime()) for name in datetimes))


@dataclass
class ClaimedJob:
    id: int
    kind: str
    message_id: int
    conversation_id: int
    attempts: int


class LeaseLost(RuntimeError):
    """The job's lease expired and another worker took it; this worker's result is dropped."""


def enqueue(session: Session, kind: str, message_id: int, conversation_id: int, run_after: dt.datetime | None = None) -> Job:
    """Add a pending job in the caller's transaction (so the job commits with what it is about)."""
    now = now_utc()
    job = Job(kind=kind, message_id=message_id, conversation_id=conversation_id, run_after=run_after or now, created_at=now, updated_at=now)
    session.add(job)
    return job


_INSERT = insert(Job.__table__)


def enqueue_now(
    connection: Connection, kind: str, message_id: int, conversation_id: int, *, held_by: str | None = None, lease_seconds: float = 30.0
) -> int:
    """:func:`enqueue` of a job due now, as one Core INSERT (the per-message path); returns its id.

    ``held_by``: created already held by that worker, which runs it right after the commit.
    """
    now = now_utc()
    values = {
        "kind": kind, "message_id": message_id, "conversation_id": conversation_id, "state": "pending", "attempts": 0,
        "run_after": now, "created_at": now, "updated_at": now,
    }
    if held_by:
        values.update(state="running", attempts=1, locked_by=held_by, locked_until=now + dt.timedelta(seconds=lease_seconds))
    return int(connection.execute(_INSERT, values).inserted_primary_key[0])


# One statement, so two workers can never both claim a job.  ``reply`` jobs of a
# conversation are handled one at a time, oldest first, so answers keep their order.
_CLAIM = """
UPDATE jobs SET state = 'running', locked_by = :worker, locked_until = :lease_end,
       attempts = attempts + 1, updated_at = :now
WHERE id = (
    SELECT j.id FROM jobs j
    WHERE j.kind = :kind
      AND ((j.state = 'pending' AND j.run_after <= :now) OR (j.state = 'running' AND j.locked_until < :now))
      AND NOT EXISTS (
          SELECT 1 FROM jobs busy
          WHERE busy.kind = j.kind AND busy.conversation_id = j.conversation_id AND busy.id != j.id
            AND ((busy.state = 'running' AND busy.locked_until >= :now)
                 OR (:kind = 'reply' AND busy.state IN ('pending', 'running') AND busy.id < j.id))
      )
    ORDER BY j.id LIMIT 1
)
RETURNING id, kind, message_id, conversation_id, attempts
"""


def claim(engine: Engine, kind: str, worker: str, lease_seconds: float) -> ClaimedJob | None:
    """Claim the next runnable job of ``kind`` (pending and due, or with an expired lease)."""
    now = now_utc()
    with engine.begin() as connection:
        row = connection.execute(
            _sql(_CLAIM, "lease_end", "now"),
            {"worker": worker, "lease_end": now + dt.timedelta(seconds=lease_seconds), "now": now, "kind": kind},
        ).first()
    if row is None:
        return None
    return ClaimedJob(id=row.id, kind=row.kind, message_id=row.message_id, conversation_id=row.conversation_id, attempts=row.attempts)


def renew(engine: Engine, job_id: int, worker: str, lease_seconds: float) -> bool:
    """Extend our lease; False when the job is no longer ours."""
    now = now_utc()
    with engine.begin() as connection:
        result = connection.execute(
            _sql("UPDATE jobs SET locked_until = :until WHERE id = :id AND locked_by = :worker AND state = 'running'", "until"),
            {"until": now + dt.timedelta(seconds=lease_seconds), "id": job_id, "worker": worker},
        )
    return result.rowcount == 1


def renew_all(engine: Engine, worker: str, lease_seconds: float) -> int:
    """Extend the lease of every job ``worker`` holds; returns how many."""
    with engine.begin() as connection:
        result = connection.execute(
            _sql("UPDATE jobs SET locked_until = :until WHERE locked_by = :worker AND state = 'running'", "until"),
            {"until": now_utc() + dt.timedelta(seconds=lease_seconds), "worker": worker},
        )
    return result.rowcount


def release(engine: Engine, worker: str) -> int:
    """Hand back every job ``worker`` holds (graceful shutdown), so a restart need not wait for leases."""
    with engine.begin() as connection:
        result = connection.execute(
            _sql(
                "UPDATE jobs SET state = 'pending', locked_by = NULL, locked_until = NULL, updated_at = :now "
                "WHERE locked_by = :worker AND state = 'running'",
                "now",
            ),
            {"now": now_utc(), "worker": worker},
        )
    return result.rowcount


def finish(connection: Connection | Session, job_id: int, worker: str, state: str = "done", error: str | None = None) -> None:
    """Mark the job finished inside the caller's transaction; raise :class:`LeaseLost` if not ours."""
    now = now_utc()
    result = connection.execute(
        _sql(
            "UPDATE jobs SET state = :state, last_error = :error, finished_at = :now, updated_at = :now, "
            "locked_until = NULL WHERE id = :id AND locked_by = :worker AND state = 'running'",
            "now",
        ),
        {"state": state, "error": error, "now": now, "id": job_id, "worker": worker},
    )
    if result.rowcount != 1:
        raise LeaseLost(f"job {job_id} is no longer held by {worker}")


def retry_later(engine: Engine, job_id: int, worker: str, delay_seconds: float, error: str) -> bool:
    """Put the job back to ``pending`` after ``delay_seconds``; False when it is no longer ours."""
    now = now_utc()
    with engine.begin() as connection:
        result = connection.execute(
            _sql(
                "UPDATE jobs SET state = 'pending', run_after = :run_after, last_error = :error, locked_by = NULL, "
                "locked_until = NULL, updated_at = :now WHERE id = :id AND locked_by = :worker AND state = 'running'",
                "run_after",
                "now",
            ),
            {"run_after": now + dt.timedelta(seconds=delay_seconds), "error": error, "now": now, "id": job_id, "worker": worker},
        )
    return result.rowcount == 1


def next_due_in(engine: Engine, kind: str) -> float | None:
    """Seconds until a ``kind`` job is due or a lease runs out (0: now; None: no work).

    A read, so an idle worker checks for work without taking SQLite's write lock.
    """
    with engine.connect() as connection:
        row = connection.execute(
            _sql(
                "SELECT MIN(t) FROM (SELECT MIN(run_after) AS t FROM jobs WHERE kind = :kind AND state = 'pending' "
                "UNION ALL SELECT MIN(locked_until) FROM jobs WHERE kind = :kind AND state = 'running') AS due"
            ),
            {"kind": kind},
        ).first()
    if row is None or row[0] is None:
        return None
    when = row[0] if isinstance(row[0], dt.datetime) else dt.datetime.fromisoformat(str(row[0]))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now_utc()).total_seconds())


def counts(engine: Engine, failed_since: dt.datetime | None = None) -> dict[str, dict[str, int]]:
    """``{kind: {state: n}}`` for health and monitoring; done jobs are not counted, failed ones
    only since ``failed_since`` (so an old failure does not keep an alert firing forever)."""
    since = failed_since or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    with engine.connect() as connection:
        rows = connection.execute(
            _sql(
                "SELECT kind, state, COUNT(*) FROM jobs WHERE state IN ('pending', 'running') "
                "OR (state = 'failed' AND updated_at >= :since) GROUP BY kind, state",
                "since",
            ),
            {"since": since},
        ).all()
    result: dict[str, dict[str, int]] = {}
    for kind, state, number in rows:
        result.setdefault(kind, {})[state] = number
    return result
