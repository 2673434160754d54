"""Phone numbers: libphonenumber's E.164 shared by the phone channels, strict checks for numbers staff type in,
and the migration that folds the guests the old rule split in two."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

from jack_host.builtin.conversations.migrations import conversations_0002
from jack_host.builtin.conversations.migrations.conversations_0002 import canonical_phone
from jack_host.contract.interfaces import InboundMessage
from jack_host.kit.phone import (
    InvalidPhoneNumber,
    check_country_code,
    check_phone_setting,
    normalise_phone,
    validate_phone,
)
from jack_host.testing import channel as testing_channel
from jack_host.testing import make_app, run_jack


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("+1 (555) 123-4567", None, "+15551234567"),
        ("15551234567", None, "+15551234567"),  # WhatsApp's wa_id shape
        ("0044 20 7946 0018", None, "+442079460018"),
        ("020 7946 0018", "44", "+442079460018"),  # the UK drops its trunk 0
        ("555.123.4567", "+1", "+15551234567"),
        ("whatsapp:+351912345678", None, "+351912345678"),
        # issue 16: Italy keeps its leading 0, so both spellings are one number
        ("06 6982 1234", "39", "+390669821234"),
        ("+39 06 6982 1234", "39", "+390669821234"),
        ("13812345678", "86", "+8613812345678"),  # an 11-digit national mobile is not read as +1...
    ],
)
def test_normalise_phone(raw, country, expected):
    assert normalise_phone(raw, country) == expected


@pytest.mark.parametrize(
    ("raw", "country", "message"),
    [
        ("call me", None, "not a phone number"),
        ("5551234567", None, "DEFAULT_COUNTRY_CODE is not set"),
        ("+12", None, "not a phone number"),
        ("+1234567890123456", None, "too many digits"),
        ("1234567", "1", "a local number without its area code"),  # issue 16: was accepted as +11234567
        ("+39 12", None, "too few digits"),
    ],
)
def test_invalid_numbers_say_why(raw, country, message):
    with pytest.raises(InvalidPhoneNumber, match=message):
        normalise_phone(raw, country)


def test_numbers_staff_type_in_must_be_in_an_assigned_range():
    assert validate_phone("+39 06 6982 1234") == "+390669821234"
    assert validate_phone("020 7946 0018", "44") == "+442079460018"
    with pytest.raises(InvalidPhoneNumber, match="no such number range for country code \\+1"):
        validate_phone("+1 555 123 4567")  # the right length, but 555 is no area code
    with pytest.raises(InvalidPhoneNumber, match="no such number range"):
        validate_phone("+39669821234")  # the old rule's split form
    assert check_phone_setting("") is None and check_phone_setting("+44 20 7946 0018") is None
    assert "with its country code" in check_phone_setting("020 7946 0018")


def test_country_code_setting_check():
    assert check_country_code("44") is None and check_country_code("+351") is None
    assert "1 to 3 digits" in check_country_code("4444")
    assert "no country has +999" in check_country_code("999")


def test_canonical_phone_repairs_only_the_dropped_trunk_zero():
    assert canonical_phone("+39669821234") == "+390669821234"
    assert canonical_phone("+390669821234") == "+390669821234"
    assert canonical_phone("+442079460018") == "+442079460018"  # the UK drops the 0: nothing to repair
    assert canonical_phone("+15551234567") == "+15551234567"  # not valid, and a 0 makes it no better: kept


async def test_the_italian_pair_is_one_guest(tmp_path):
    app = make_app(tmp_path, plugins=[("test_channel", testing_channel)], env={"DEFAULT_COUNTRY_CODE": "39"})
    inbox = app.services.inbox
    first = await inbox.receive(InboundMessage(channel="test", channel_message_id="m-1", body="Ciao", sender_phone="06 6982 1234"))
    second = await inbox.receive(
        InboundMessage(channel="test", channel_message_id="m-2", body="Ciao", sender_phone="+39 06 6982 1234", starts_conversation=True)
    )
    assert first.guest_id == second.guest_id
    assert app.services.conversations.get_guest(first.guest_id)["phone"] == "+390669821234"


def _split_guests(database) -> None:
    """What the old rule left behind: one Italian guest as two rows, each with history."""
    con = sqlite3.connect(database)
    now = "2026-11-20 10:00:00"
    con.executescript(f"""
        INSERT INTO guests (id, name, phone, email, preferred_language, notes, created_at, updated_at)
            VALUES (1, 'Giulia Rossi', '+39669821234', NULL, 'it', 'prefers a quiet room', '{now}', '{now}'),
                   (2, NULL, '+390669821234', 'giulia@example.it', NULL, '', '{now}', '{now}'),
                   (3, 'Tom', '+442079460018', NULL, 'en', '', '{now}', '{now}');
        INSERT INTO conversations (id, guest_id, channel, guest_address, state, created_at, updated_at, last_message_at)
            VALUES (1, 1, 'sms', '+39669821234', 'closed', '{now}', '{now}', '{now}'),
                   (2, 2, 'whatsapp', '+390669821234', 'ai', '{now}', '{now}', '{now}'),
                   (3, 3, 'sms', '+442079460018', 'ai', '{now}', '{now}', '{now}');
    """)
    columns = {row[1]: row for row in con.execute("PRAGMA table_info(messages)")}
    required = [name for name, row in columns.items() if row[3] and row[4] is None and not row[5]]
    values = {"conversation_id": None, "direction": "inbound", "sender": "guest", "body": "Ciao", "channel": "sms",
              "status": "received", "created_at": now, "meta": "{}", "channel_message_id": None}
    for cid in (1, 2, 3):
        row = {name: values.get(name, "x") for name in required} | {"conversation_id": cid, "body": f"message {cid}"}
        row["channel_message_id"] = f"split-{cid}"
        row = {k: v for k, v in row.items() if k in columns}
        con.execute(f"INSERT INTO messages ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
    task_columns = {row[1]: row for row in con.execute("PRAGMA table_info(tasks)")}
    task_required = [name for name, row in task_columns.items() if row[3] and row[4] is None and not row[5]]
    task = {name: "x" for name in task_required} | {"guest_id": 2, "conversation_id": 2, "created_at": now, "updated_at": now}
    task = {k: v for k, v in task.items() if k in task_columns}
    con.execute(f"INSERT INTO tasks ({', '.join(task)}) VALUES ({', '.join('?' * len(task))})", list(task.values()))
    con.commit()
    con.close()


def test_the_merge_migration_folds_split_guests_and_keeps_their_whole_history(tmp_path):
    database = tmp_path / "data" / "jack.db"
    migrated = run_jack(tmp_path, "db", "migrate")
    assert migrated.returncode == 0 and "conversations_0002" in migrated.stdout, migrated.stdout + migrated.stderr
    _split_guests(database)
    # conversations_0002's upgrade, run by Alembic on the database as it stands (later revisions
    # of the feature stay applied; rewinding the version table would re-run them on their own tables)
    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.begin() as connection, Operations.context(MigrationContext.configure(connection)):
        conversations_0002.upgrade()
    engine.dispose()
    con = sqlite3.connect(database)
    guests = con.execute("SELECT id, name, phone, email, preferred_language, notes FROM guests ORDER BY id").fetchall()
    assert guests == [
        (1, "Giulia Rossi", "+390669821234", "giulia@example.it", "it", "prefers a quiet room"),
        (3, "Tom", "+442079460018", None, "en", ""),
    ]
    assert con.execute("SELECT id, guest_id, guest_address FROM conversations ORDER BY id").fetchall() == [
        (1, 1, "+390669821234"), (2, 1, "+390669821234"), (3, 3, "+442079460018"),
    ]
    assert con.execute("SELECT conversation_id, body FROM messages ORDER BY id").fetchall() == [
        (1, "message 1"), (2, "message 2"), (3, "message 3"),
    ]
    assert con.execute("SELECT guest_id FROM tasks").fetchall() == [(1,)]
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    con.close()
