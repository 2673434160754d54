"""IMAP IDLE against the real dovecot (new mail answered at once, renewal, a lost connection),
polling when IDLE is off, and moving processed mail to a folder (MOVE, and COPY+EXPUNGE)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from mail_helpers import guest_mail, unseen  # noqa: E402

from jack_host.testing import inbound_messages, replies, run_jack, running_app, wait_until  # noqa: E402
from jack_host.testing.mail_servers import Dovecot  # noqa: E402

#: Far longer than any test waits: an answer in time can only come from IDLE.
NEVER = "3600"


def test_a_mail_appended_while_jack_idles_is_answered_without_waiting_for_the_poll(make_mail_app, dovecot, smtp):
    app = make_mail_app(IMAP_POLL_SECONDS=NEVER)
    with running_app(app):
        reader = app.channels["email"].reader
        wait_until(lambda: reader.idling, timeout=15, what="Jack to start an IMAP IDLE")
        started = time.monotonic()
        dovecot.append(guest_mail("Is the pool heated?"))
        [answer] = smtp.wait_for(1, timeout=30)
        picked_up = time.monotonic() - started
        wait_until(lambda: unseen(dovecot) == 0, timeout=10, what="the mail to be marked seen")
        wait_until(lambda: reader.idling, timeout=10, what="Jack to idle again after the mail")
    assert answer["To"] == "anna@example.com"
    assert [m.body for m in inbound_messages(app)] == ["Is the pool heated?"]
    assert picked_up < 30 and reader.idles >= 2
    print(f"appended mail answered {picked_up:.2f} s later")


def test_the_idle_is_renewed_and_still_hears_new_mail(make_mail_app, dovecot, smtp):
    app = make_mail_app(IMAP_POLL_SECONDS=NEVER, IMAP_IDLE_SECONDS="0.3")
    with running_app(app):
        reader = app.channels["email"].reader
        wait_until(lambda: reader.idles >= 4, timeout=20, what="the IDLE to be renewed three times")
        assert reader.failures == 0 and reader.last_poll.state == "connected"
        dovecot.append(guest_mail("Can I order room service at 2 am?"))
        smtp.wait_for(1, timeout=30)
    assert len(inbound_messages(app)) == 1


def test_a_connection_lost_while_idling_is_reconnected_and_loses_nothing(tmp_path, make_email_app, smtp):
    with Dovecot(tmp_path / "idle-outage") as server:
        app = make_email_app(**server.env(), IMAP_POLL_SECONDS=NEVER)
        with running_app(app):
            reader = app.channels["email"].reader
            wait_until(lambda: reader.idling, timeout=15, what="Jack to start an IMAP IDLE")
            server.stop()  # dovecot goes away under the open IDLE
            wait_until(lambda: reader.last_poll.state == "error", timeout=15, what="Jack to notice the lost connection")
            server.deliver(guest_mail("Written while the mail server was down."))
            server.start()
            # No wake(): the reconnect (0.5 s, doubling) finds the mail by itself.
            [answer] = smtp.wait_for(1, timeout=60)
            wait_until(lambda: reader.idling and reader.failures == 0, timeout=15, what="Jack to idle again")
        assert answer["Subject"] == "Re: Late arrival"
        assert [m.body for m in inbound_messages(app)] == ["Written while the mail server was down."]


def test_without_idle_jack_polls_at_the_interval(make_mail_app, dovecot, smtp):
    app = make_mail_app(IMAP_IDLE="false", IMAP_POLL_SECONDS="0.2")
    with running_app(app):
        reader = app.channels["email"].reader
        wait_until(lambda: reader.last_poll is not None, timeout=15, what="a first poll")
        dovecot.append(guest_mail("Do you rent bicycles?"))
        smtp.wait_for(1, timeout=30)
    assert reader.idles == 0
    assert len(inbound_messages(app)) == 1


def test_processed_mail_is_moved_to_a_folder_created_for_it(make_mail_app, dovecot, smtp):
    folder = "Done by Jack"  # a space: the name must be quoted on the wire
    assert dovecot.count(folder) is None
    app = make_mail_app(IMAP_PROCESSED_FOLDER=folder)
    dovecot.deliver(guest_mail("Is there a gym?"))
    dovecot.deliver(guest_mail("Out of office.", headers={"Auto-Submitted": "auto-replied"}))
    dovecot.deliver(b"\xff\xfe\x00 this is not a mail at all\r\n\r\n\x00\x01")
    with running_app(app):
        smtp.wait_for(1)
        wait_until(lambda: dovecot.count(folder) == 3, timeout=15, what="the three mails to be moved")
        wait_until(lambda: replies(app), timeout=10, what="the answer to be recorded")
    # Answered, ignored (automatic) and ignored (no sender): all done with, none left behind.
    assert dovecot.count("INBOX") == 0
    assert [m.body for m in inbound_messages(app)] == ["Is there a gym?"]
    assert len(smtp.received) == 1


def test_without_move_the_mail_is_copied_flagged_deleted_and_expunged(make_mail_app, dovecot, smtp):
    folder = "Processed"
    app = make_mail_app(IMAP_PROCESSED_FOLDER=folder)
    reader = app.channels["email"].reader
    commands: list[str] = []
    connect = reader.connect

    def connect_without_move():
        # A server without RFC 6851 MOVE (dovecot has it; hide it from Jack).
        client = connect()
        client.capabilities = tuple(c for c in client.capabilities if c != "MOVE")
        uid = client.uid

        def recording_uid(command, *args):
            commands.append(command)
            return uid(command, *args)

        client.uid = recording_uid
        return client

    reader.connect = connect_without_move
    dovecot.deliver(guest_mail("Is late checkout possible?"))
    with running_app(app):
        smtp.wait_for(1)
        wait_until(lambda: dovecot.count(folder) == 1, timeout=15, what="the mail to be copied over")
        wait_until(lambda: dovecot.count("INBOX") == 0, timeout=15, what="the original to be expunged")
    assert "MOVE" not in commands and {"COPY", "EXPUNGE"} <= set(commands)
    assert dovecot.count(folder, "UNSEEN") == 1  # moved as it was: staff see it as new in the folder


def test_config_check_accepts_the_mail_settings_and_names_a_bad_one(tmp_path):
    good = {"SMTP_HOST": "smtp.hotel.example", "SMTP_USER": "jack", "SMTP_FROM": "Hotel <concierge@hotel.example>",
            "IMAP_HOST": "imap.hotel.example", "IMAP_PROCESSED_FOLDER": "Jack/Done", "IMAP_IDLE": "true",
            "IMAP_IDLE_SECONDS": "1500", "IMAP_POLL_SECONDS": "120", "EMAIL_REPLIES_PER_HOUR": "5"}
    ok = run_jack(tmp_path, "config", "check", env=good)
    assert ok.returncode == 0, ok.stderr
    bad_values = {
        "IMAP_IDLE_SECONDS": ("3600", "error: IMAP_IDLE_SECONDS=3600: expected at most 1740 (29 minutes)"),
        "IMAP_IDLE": ("sometimes", "error: IMAP_IDLE=sometimes: expected true or false"),
        "IMAP_PROCESSED_FOLDER": (" Done", "error: IMAP_PROCESSED_FOLDER= Done: expected an IMAP folder name"),
        "SMTP_FROM": ("not an address", "error: SMTP_FROM=not an address: expected an e-mail address"),
    }
    # All at once (one start-up): one line each.
    bad = run_jack(tmp_path, "config", "check", env={**good, **{key: value for key, (value, _) in bad_values.items()}})
    assert bad.returncode == 2, bad.stdout
    errors = [line for line in bad.stderr.strip().splitlines() if line.startswith("error:")]
    assert len(errors) == len(bad_values), errors
    for _, expected in bad_values.values():
        assert sum(line.startswith(expected) for line in errors) == 1, (expected, errors)
    assert "Traceback" not in bad.stderr
