"""What one answered web chat message costs the database: SQL statements and commits.

A real web chat guest (WebSocket) on a served app with the fake OpenAI server: the
message goes through the channel, the pipeline, the worker (one model call) and the
outbox.  SQLAlchemy's ``before_cursor_execute`` and ``commit`` events on ``app.engine``
count what the steady state costs (the guest's first message, which creates the guest,
conversation and session, is measured apart).  The bounds are the figures measured and
stated in docs/PERFORMANCE.md: a change that adds a statement to the hot path fails here.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import jack_channel_webchat.plugin
import pytest
import sqlalchemy as sa
from websockets.asyncio.client import connect

from jack_host.testing import async_wait_until, make_app, running_app
from jack_host.testing.fake_llm import FakeOpenAI

MESSAGES = 5
#: Per steady-state message (docs/PERFORMANCE.md).
MAX_STATEMENTS = 20
MAX_COMMITS = 6
#: The first message of a new guest also creates the guest, the conversation and the chat session.
MAX_FIRST_STATEMENTS = 60
MAX_FIRST_COMMITS = 12
#: Background loops stay quiet during the measurement (they are not per-message costs).
QUIET = {"HEALTH_CHECK_INTERVAL": "3600", "SLA_CHECK_INTERVAL": "3600", "PIPELINE_LEASE_SECONDS": "600"}


class Counter:
    def __init__(self, engine: sa.Engine):
        self.statements: list[str] = []
        self.commits = 0
        sa.event.listen(engine, "before_cursor_execute", self.on_execute)
        sa.event.listen(engine, "commit", self.on_commit)

    def on_execute(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append(" ".join(statement.split())[:90])

    def on_commit(self, conn) -> None:
        self.commits += 1

    def reset(self) -> None:
        self.statements.clear()
        self.commits = 0


async def ask(ws, body: str) -> dict:
    await ws.send(json.dumps({"type": "message", "client_id": "c-" + uuid.uuid4().hex[:12], "body": body}))
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 15))
        if frame.get("type") == "message" and frame.get("sender") == "ai":
            return frame


JOBS_BY_STATE = "SELECT state, COUNT(*) FROM jobs GROUP BY state"


def jobs_done(app, expected: int) -> bool:
    with app.engine.connect() as connection:
        rows = connection.execute(sa.text(JOBS_BY_STATE)).all()
    return dict(rows) == {"done": expected}


def counted(counter: Counter) -> list[str]:
    """The statements the app ran: the test's own polling (same engine) is left out."""
    return [s for s in counter.statements if s != JOBS_BY_STATE]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with FakeOpenAI() as llm:
        app = make_app(tmp_path_factory.mktemp("cost"), plugins=[("channel_webchat", jack_channel_webchat.plugin)],
                       env={**llm.env(), **QUIET})
        with running_app(app) as url:
            yield app, url, llm


async def test_statements_and_commits_per_answered_web_chat_message(served):
    app, url, llm = served
    counter = Counter(app.engine)
    async with connect(url.replace("http://", "ws://") + "/ws", origin=url, open_timeout=10, ping_interval=None) as ws:
        await ws.send(json.dumps({"type": "hello", "protocol": 1, "token": None, "language": "en"}))
        while json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] != "history":
            pass
        counter.reset()
        first = await ask(ws, "What time is breakfast?")
        await async_wait_until(lambda: jobs_done(app, 2), what="the first message's reply and send jobs done")
        first_statements, first_commits = len(counted(counter)), counter.commits

        counter.reset()
        for n in range(MESSAGES):
            await ask(ws, f"And lunch, question {n}?")
        await async_wait_until(lambda: jobs_done(app, 2 + 2 * MESSAGES), what="every reply and send job done")
        statements = counted(counter)
        commits = counter.commits

    assert first["body"] == "Breakfast is served from 7 to 10."
    assert len(llm.completion_requests()) == 1 + MESSAGES  # one model call per message: nothing skipped the pipeline
    per_message, commits_per_message = len(statements) / MESSAGES, commits / MESSAGES
    summary = f"{per_message:.1f} statements, {commits_per_message:.1f} commits per message; first {first_statements}/{first_commits}"
    print(summary)
    assert per_message <= MAX_STATEMENTS, summary + "\n" + "\n".join(statements[: len(statements) // MESSAGES])
    assert commits_per_message <= MAX_COMMITS, summary + "\n" + "\n".join(statements[: len(statements) // MESSAGES])
    assert first_statements <= MAX_FIRST_STATEMENTS and first_commits <= MAX_FIRST_COMMITS, summary
