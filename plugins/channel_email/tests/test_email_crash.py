"""SIGKILL a real ``jack serve`` after it stored a guest's mail and before it marked it seen (or moved
it), then start it again: the mail is answered exactly once and nothing is lost.

No fault hook in Jack: Jack reaches dovecot through a ``TcpGate`` that holds the first ``UID STORE``
/ ``MOVE`` / ``COPY`` (the command that marks the mail done), so the process is killed while that
command is on the wire, after the store. The model is slow, so the answer is still being written.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from mail_helpers import guest_mail, unseen  # noqa: E402

from jack_host.testing import JackProcess, wait_until  # noqa: E402
from jack_host.testing.fake_llm import FakeOpenAI  # noqa: E402
from jack_host.testing.mail_servers import TcpGate  # noqa: E402

ANSWER = {"reply": "Yes, early check-in from 8:00 is possible.", "language": "en", "confident": True,
          "needs_human": False}


def db_rows(tmp_path: Path, sql: str) -> list[tuple]:
    connection = sqlite3.connect(tmp_path / "data" / "jack.db")
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


@pytest.mark.slow
@pytest.mark.parametrize("processed_folder", ["", "Processed"], ids=["mark-seen", "move"])
def test_sigkill_between_storing_a_mail_and_marking_it_answers_it_once(tmp_path, dovecot, smtp, processed_folder):
    mail = guest_mail("Can we check in at 8 in the morning?", subject="Early check-in")
    with FakeOpenAI(reply=ANSWER, delay=30) as llm, TcpGate(dovecot.port) as gate:
        env = {
            **smtp.env(), **dovecot.env(), **llm.env(),
            # Through the gate, in plain text, so it can read the commands (dovecot allows it on loopback).
            "IMAP_PORT": str(gate.port), "IMAP_SECURE": "none", "IMAP_PROCESSED_FOLDER": processed_folder,
            "SMTP_FROM": "Hotel Mirador <concierge@hotel.example>", "PIPELINE_LEASE_SECONDS": "2",
            # A loaded machine may take long over LiteLLM's first import; the model must not be skipped.
            "AI_TIMEOUT_SECONDS": "120",
        }
        gate.hold(rb"^\S+ UID (STORE|MOVE|COPY) ")
        first = JackProcess(tmp_path, env=env).start()  # every installed plugin, as `jack serve` loads them
        try:
            # Only now, so the slow model is still writing when the gate holds (start-up can be slow).
            dovecot.append(mail)
            assert gate.held.wait(90), "Jack never tried to mark the mail done"
            wait_until(lambda: llm.requests, timeout=120, what="the model to be asked for the answer")
            # The mail is stored, its answer is being written, and it is not marked done yet.
            assert db_rows(tmp_path, "SELECT COUNT(*) FROM messages WHERE sender = 'guest'") == [(1,)]
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- jack serve's log:\n{first.output()[-4000:]}") from None
        finally:
            assert first.kill() == -9
        assert db_rows(tmp_path, "SELECT COUNT(*) FROM messages WHERE sender = 'ai'") == [(0,)]
        assert unseen(dovecot) == 1 and dovecot.count("INBOX") == 1 and smtp.received == []

        llm.delay = 0
        with JackProcess(tmp_path, env=env) as second:
            [answer] = smtp.wait_for(1, timeout=90)
            if processed_folder:
                wait_until(lambda: dovecot.count("INBOX") == 0 and dovecot.count(processed_folder) == 1, timeout=30,
                           what="the mail to be moved to the processed folder")
            else:
                wait_until(lambda: unseen(dovecot) == 0, timeout=30, what="the mail to be marked seen")
            wait_until(lambda: httpx.get(second.url + "/health", timeout=5).json()["queue"]["pending"] == 0,
                       timeout=30, what="the queue to drain")
            assert second.stop() == 0

    assert answer["In-Reply-To"] == mail["Message-ID"] and answer["Subject"] == "Re: Early check-in"
    [(meta,)] = db_rows(tmp_path, "SELECT meta FROM messages WHERE sender = 'ai'")
    assert "early check-in from 8:00" in answer.get_body(("plain",)).get_content(), meta[-400:]
    assert len(smtp.received) == 1
    assert db_rows(tmp_path, "SELECT COUNT(*) FROM messages WHERE sender = 'guest'") == [(1,)]
    assert db_rows(tmp_path, "SELECT status FROM messages WHERE sender = 'ai'") == [("sent",)]
