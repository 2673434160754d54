"""SIGKILL the real ``jack serve`` while it is answering guests: a restart loses and duplicates nothing."""

from __future__ import annotations

import sqlite3

import httpx
import pytest

from jack_host.testing import JackProcess, wait_until
from jack_host.testing.fake_llm import FakeOpenAI

GUESTS = 6


def db_rows(tmp_path, sql: str) -> list[tuple]:
    connection = sqlite3.connect(tmp_path / "data" / "jack.db")
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


@pytest.mark.slow
def test_sigkill_during_processing_loses_and_duplicates_nothing(tmp_path):
    answer = {"reply": "Breakfast is from 7:00 to 10:30.", "language": "en", "confident": True, "needs_human": False}
    with FakeOpenAI(reply=answer, delay=30) as llm:
        env = {
            **llm.env(),
            "JACK_EXTRA_PLUGINS": "jack_host.testing.channel",
            "PIPELINE_LEASE_SECONDS": "2",
            "PIPELINE_CONCURRENCY": "2",
        }
        first = JackProcess(tmp_path, env=env).start()
        try:
            accepted = []
            for number in range(GUESTS):
                response = httpx.post(
                    first.url + "/test-channel/inbound",
                    json={"channel_message_id": f"wamid.{number}", "body": "What time is breakfast?", "sender_phone": f"+3460000000{number}"},
                    timeout=10,
                )
                assert response.status_code == 200, response.text
                accepted.append(response.json()["message_id"])
            # Two guests are being answered (the model is slow), four wait in the queue.
            wait_until(lambda: len(llm.requests) >= 2, timeout=60, what="the model to be called")
        finally:
            assert first.kill() == -9

        assert db_rows(tmp_path, "SELECT COUNT(*) FROM messages WHERE sender = 'ai'") == [(0,)]
        assert db_rows(tmp_path, "SELECT COUNT(*) FROM jobs WHERE kind = 'reply' AND state = 'running'") == [(2,)]

        llm.delay = 0
        with JackProcess(tmp_path, env=env) as second:
            def all_sent() -> bool:
                return len(httpx.get(second.url + "/test-channel/sent", timeout=5).json()["sent"]) >= GUESTS

            wait_until(all_sent, timeout=60, what="every guest to get a reply")
            wait_until(lambda: httpx.get(second.url + "/health", timeout=5).json()["queue"]["pending"] == 0, what="queue drained")
            sent = httpx.get(second.url + "/test-channel/sent", timeout=5).json()["sent"]

        assert len(sent) == GUESTS
        assert sorted(m["guest_address"] for m in sent) == sorted(f"+3460000000{n}" for n in range(GUESTS))
        replies = db_rows(tmp_path, "SELECT reply_to_id, status FROM messages WHERE sender = 'ai' ORDER BY reply_to_id")
        assert replies == [(message_id, "sent") for message_id in sorted(accepted)]
        assert db_rows(tmp_path, "SELECT COUNT(*) FROM messages WHERE sender = 'guest'") == [(GUESTS,)]
        assert db_rows(tmp_path, "SELECT kind, state, COUNT(*) FROM jobs GROUP BY kind, state") == [("reply", "done", GUESTS), ("send", "done", GUESTS)]
        # The two interrupted jobs were claimed twice (once per process), the rest once.
        assert sorted(r[0] for r in db_rows(tmp_path, "SELECT attempts FROM jobs WHERE kind = 'reply'")) == [1, 1, 1, 1, 2, 2]
