"""IMAP health and doctor, an IMAP outage while polling, and a crash between storing a mail and marking it seen."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from mail_helpers import guest_mail, unseen  # noqa: E402

from jack_host.cli.doctor import run_doctor  # noqa: E402
from jack_host.testing import inbound_messages, replies, running_app, wait_until  # noqa: E402
from jack_host.testing.mail_servers import Dovecot  # noqa: E402


def test_health_needs_both_logins_and_names_the_failing_one(make_mail_app, smtp):
    health = asyncio.run(make_mail_app().channels["email"].health())
    assert health.state == "connected" and "IMAP 127.0.0.1" in health.detail and "SMTP 127.0.0.1" in health.detail
    refused = asyncio.run(make_mail_app(IMAP_PASSWORD="wrong").channels["email"].health())
    assert refused.state == "error" and refused.detail.startswith("IMAP 127.0.0.1") and "authentication failed" in refused.detail.lower()


def test_a_processed_folder_equal_to_the_read_folder_is_refused(make_mail_app, smtp):
    health = asyncio.run(make_mail_app(IMAP_PROCESSED_FOLDER="inbox").channels["email"].health())
    assert health.state == "error" and health.detail.endswith("IMAP_PROCESSED_FOLDER must differ from IMAP_FOLDER")


def test_doctor_checks_the_imap_certificate(make_mail_app):
    checks = {c.name: c for c in run_doctor(make_mail_app())[0] if c.name.startswith("E-mail")}
    assert checks["E-mail IMAP over TLS"].ok, checks["E-mail IMAP over TLS"].line()
    untrusted = {c.name: c for c in run_doctor(make_mail_app(IMAP_TLS_CA_FILE=None))[0]}["E-mail IMAP over TLS"]
    assert not untrusted.ok and "certificate verify failed" in untrusted.detail


def test_an_imap_outage_while_polling_loses_nothing(tmp_path, make_email_app, smtp):
    # Polling (IDLE off); test_email_idle_and_folders.py loses the connection under an open IDLE.
    with Dovecot(tmp_path / "outage") as server:
        server.deliver(guest_mail("Written before the outage."))
        app = make_email_app(**server.env(), IMAP_POLL_SECONDS="0.1", IMAP_IDLE="false")
        server.stop()
        with running_app(app):
            reader = app.channels["email"].reader
            wait_until(lambda: reader.last_poll is not None and reader.last_poll.state == "error", timeout=10,
                       what="a failed poll")
            assert "IMAP 127.0.0.1" in reader.last_poll.detail
            server.start()  # the same mailbox, back on the same ports
            server.deliver(guest_mail("Written while Jack could not reach the mail server."))
            reader.wake()
            smtp.wait_for(2, timeout=30)
        assert sorted(m.body for m in inbound_messages(app)) == ["Written before the outage.",
                                                                 "Written while Jack could not reach the mail server."]


def test_a_stored_mail_left_unseen_is_answered_once_after_a_restart(make_mail_app, dovecot, smtp):
    # In process and quick; test_email_crash.py SIGKILLs a real `jack serve` at that point.
    app = make_mail_app()
    mail = guest_mail("Is the spa open on Sundays?")
    dovecot.deliver(mail)
    # What a crash right after the store leaves behind: the mail stored (with its reply job), still unseen.
    reader = app.channels["email"].reader
    assert asyncio.run(reader.handle(app.services.inbox, mail.as_bytes())) is True
    assert unseen(dovecot) == 1
    with running_app(app):  # the restart
        wait_until(lambda: unseen(dovecot) == 0, timeout=10, what="the mail to be marked seen")
        smtp.wait_for(1)
        wait_until(lambda: replies(app), timeout=10, what="the answer to be recorded")
    assert len(inbound_messages(app)) == 1 and len(smtp.received) == 1
