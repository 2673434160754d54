"""``sms_0001``: the plugin's own tables, and the opt-outs kept in ``jack_state`` before 0.2 moved into them.

An opted-out guest must stay opted out across the upgrade (carriers and the law require it).
The old database is made the way Jack made it: the host's tables migrated without the plugin,
then ``jack_state`` rows in the shape the plugin used to write (``sms.opt_out.<phone>``,
``sms.keyword.<MessageSid>``).  Runs on SQLite and, when it is installed, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from jack_channel_sms.opt_outs import SmsKeywordEvent, SmsOptOut
from sms_helpers import PUBLIC_URL, inbound_params, stored_messages, twilio_sign
from sqlmodel import Session, SQLModel, select

from jack_host.contract.interfaces import OutboundMessage, PermanentSendError
from jack_host.testing import make_app, run_jack, running_app
from jack_host.testing.postgres import PostgresServer, available

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
STOPPED, RESTARTED = "+15551234567", "+15557654321"
HELP_SID = "SM" + "c" * 32
AT = dt.datetime(2026, 12, 2, 8, 5, 2, tzinfo=dt.UTC)

# jack_state as host_0001 makes it; its JSON column is written the way the host's model writes it.
jack_state = sa.table("jack_state", sa.column("key", sa.String), sa.column("value", sa.JSON),
                      sa.column("updated_at", sa.DateTime))
OLD_ROWS = [
    {"key": f"sms.opt_out.{STOPPED}", "value": {"opted_out": True, "keyword": "STOP", "at": AT.isoformat()}},
    {"key": f"sms.opt_out.{RESTARTED}", "value": {"opted_out": False, "keyword": "START", "at": AT.isoformat()}},
    {"key": f"sms.keyword.{HELP_SID}", "value": {"from": STOPPED, "action": "help"}},
    {"key": "sms.opt_outs_note", "value": {"kept": True}},  # not the plugin's: '_' is no wildcard
    {"key": "test.unrelated", "value": {"sms.opt_out.": "not a key"}},  # someone else's: stays
]


@pytest.fixture(scope="module")
def postgres():
    with PostgresServer() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database_env(request) -> dict[str, str]:
    if request.param == "sqlite":
        return {}
    if not available():
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    server = request.getfixturevalue("postgres")
    return {"DATABASE_URL": server.create_database(f"sms_{uuid.uuid4().hex[:12]}")}


def make_old_database(tmp_path, env: dict[str, str]) -> None:
    """The host's tables without the plugin's, holding opt-outs the way the plugin kept them before 0.2."""
    host = make_app(tmp_path, env=env)
    assert "sms_0001" not in host.migrations.ordered()
    with host.engine.begin() as connection:
        connection.execute(sa.insert(jack_state), [{**row, "updated_at": AT.replace(tzinfo=None)} for row in OLD_ROWS])
    host.engine.dispose()


def state_keys(engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(sa.select(jack_state.c.key)).scalars())


def test_a_new_database_gets_the_plugins_tables_on_its_own_branch(make_sms_app):
    app = make_sms_app()
    assert "sms_0001" in app.migrations.ordered()
    assert app.migrations.branch_of("sms_0001") == "channel_sms"
    assert app.migrations.pending(app.engine) == []
    tables = set(sa.inspect(app.engine).get_table_names())
    assert {"sms_opt_outs", "sms_keyword_events"} <= tables
    # the host's metadata does not list the plugin's tables: its migrations own them
    assert not {"sms_opt_outs", "sms_keyword_events"} & set(SQLModel.metadata.tables)


def test_an_opted_out_guest_stays_opted_out_after_jack_db_migrate(tmp_path, make_sms_app, twilio, database_env):
    make_old_database(tmp_path, database_env)

    migrated = run_jack(tmp_path, "db", "migrate", env=database_env)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert "sms_0001" in migrated.stdout.splitlines()[-1]
    status = run_jack(tmp_path, "db", "status", env=database_env)
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[-1] == "pending:  none"
    assert ["channel_sms", "sms_0001", "up", "to", "date"] in [line.split() for line in status.stdout.splitlines()]

    app = make_sms_app(**database_env)
    assert app.migrations.pending(app.engine) == []
    with Session(app.engine) as session:
        opt_outs = {row.phone: (row.opted_out, row.keyword, row.updated_at) for row in session.exec(select(SmsOptOut))}
        events = [(e.message_sid, e.phone, e.action, e.created_at) for e in session.exec(select(SmsKeywordEvent))]
    assert opt_outs == {STOPPED: (True, "STOP", AT), RESTARTED: (False, "START", AT)}
    assert events == [(HELP_SID, STOPPED, "help", AT)]
    # moved, not copied; rows that are not the plugin's stay where they were
    keys = state_keys(app.engine)
    assert not {key for key in keys if key.startswith(("sms.opt_out.", "sms.keyword."))}, keys
    assert {"sms.opt_outs_note", "test.unrelated"} <= keys

    channel = app.channels["sms"]
    to_stopped = OutboundMessage(message_id=1, conversation_id=1, guest_address=STOPPED, body="Your taxi is here", sender="staff")
    with pytest.raises(PermanentSendError, match="^guest opted out of SMS$"):
        asyncio.run(channel.send(to_stopped))
    assert twilio.matching("POST") == []
    asyncio.run(channel.send(OutboundMessage(message_id=2, conversation_id=2, guest_address=RESTARTED,
                                             body="Your taxi is here", sender="staff")))
    assert [r.form()["To"] for r in twilio.matching("POST", "Messages.json")] == [RESTARTED]

    # Twilio retrying a HELP handled before the upgrade is still recognised as a repeat
    params = inbound_params(HELP_SID, "HELP", sender=STOPPED)
    with running_app(app) as base:
        response = httpx.post(base + "/webhooks/sms", data=params, timeout=10,
                              headers={"X-Twilio-Signature": twilio_sign(PUBLIC_URL + "/webhooks/sms", params)})
    assert response.status_code == 200 and response.text == EMPTY_TWIML
    assert stored_messages(app) == []
    app.engine.dispose()


def test_a_downgrade_puts_the_opt_outs_back_into_jack_state(tmp_path, make_sms_app, database_env):
    make_old_database(tmp_path, database_env)
    app = make_sms_app(**database_env)
    before = state_keys(app.engine)
    with app.engine.begin() as connection:
        app.migrations.config.attributes["connection"] = connection
        command.downgrade(app.migrations.config, "channel_sms@-1")
    assert not {"sms_opt_outs", "sms_keyword_events"} & set(sa.inspect(app.engine).get_table_names())
    with app.engine.connect() as connection:
        rows = {key: value for key, value in connection.execute(sa.select(jack_state.c.key, jack_state.c.value))}
    assert set(rows) == before | {f"sms.opt_out.{STOPPED}", f"sms.opt_out.{RESTARTED}", f"sms.keyword.{HELP_SID}"}
    assert rows[f"sms.opt_out.{STOPPED}"] == {"opted_out": True, "keyword": "STOP", "at": AT.isoformat()}
    assert rows[f"sms.keyword.{HELP_SID}"] == {"from": STOPPED, "action": "help"}
    assert app.migrations.pending(app.engine) == ["sms_0001"]

    assert app.migrations.upgrade(app.engine) == ["sms_0001"]  # and up again: nothing lost either way
    assert state_keys(app.engine) == before
    with pytest.raises(PermanentSendError, match="opted out"):
        asyncio.run(app.channels["sms"].send(OutboundMessage(message_id=1, conversation_id=1, guest_address=STOPPED,
                                                             body="hello", sender="staff")))
    app.engine.dispose()
