"""sms: opt-outs and handled keyword messages of the SMS channel (plugins/channel_sms)

Revision ID: sms_0001
Revises: host_0001
Create Date: 2026-12-02

Before this revision the plugin kept them in the host's ``jack_state``:
``sms.opt_out.<phone>`` -> ``{"opted_out": bool, "keyword": str, "at": ISO time}`` and
``sms.keyword.<MessageSid>`` -> ``{"from": phone, "action": str}``.  They are moved into the
new tables in the same transaction, so a guest who sent STOP stays opted out.
"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "sms_0001"
down_revision = "host_0001"
branch_labels = ("channel_sms",)
depends_on = None

OPT_OUT_PREFIX = "sms.opt_out."
KEYWORD_PREFIX = "sms.keyword."
#: Keys per DELETE: well under SQLite's limit on bound parameters.
CHUNK = 500

# The host's table as host_0001 made it, written out here so this revision does not change
# when the host's model does.
jack_state = sa.table(
    "jack_state",
    sa.column("key", sa.String),
    sa.column("value", sa.JSON),
    sa.column("updated_at", sa.DateTime),
)


def upgrade() -> None:
    opt_outs = op.create_table(
        "sms_opt_outs",
        sa.Column("phone", sa.String, primary_key=True),
        sa.Column("opted_out", sa.Boolean, nullable=False),
        sa.Column("keyword", sa.String, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    events = op.create_table(
        "sms_keyword_events",
        sa.Column("message_sid", sa.String, primary_key=True),
        sa.Column("phone", sa.String, nullable=False, index=True),
        sa.Column("action", sa.String, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    connection = op.get_bind()
    opt_out_rows, event_rows, moved = [], [], []
    for key, value, updated_at in connection.execute(
        sa.select(jack_state.c.key, jack_state.c.value, jack_state.c.updated_at).where(
            sa.or_(jack_state.c.key.startswith(OPT_OUT_PREFIX, autoescape=True),
                   jack_state.c.key.startswith(KEYWORD_PREFIX, autoescape=True))
        )
    ):
        value = value if isinstance(value, dict) else {}
        if key.startswith(OPT_OUT_PREFIX):
            # Read as the plugin read it before (``bool(value.get("opted_out"))``).
            opt_out_rows.append({"phone": key[len(OPT_OUT_PREFIX):], "opted_out": bool(value.get("opted_out")),
                                 "keyword": str(value.get("keyword") or ""), "updated_at": _when(updated_at, value.get("at"))})
        else:
            event_rows.append({"message_sid": key[len(KEYWORD_PREFIX):], "phone": str(value.get("from") or ""),
                               "action": str(value.get("action") or ""), "created_at": _when(updated_at, None)})
        moved.append(key)
    if opt_out_rows:
        op.bulk_insert(opt_outs, opt_out_rows)
    if event_rows:
        op.bulk_insert(events, event_rows)
    for start in range(0, len(moved), CHUNK):
        connection.execute(sa.delete(jack_state).where(jack_state.c.key.in_(moved[start:start + CHUNK])))


def downgrade() -> None:
    # Back into jack_state, so the plugin before this revision still knows who opted out.
    connection = op.get_bind()
    opt_outs = sa.table("sms_opt_outs", sa.column("phone", sa.String), sa.column("opted_out", sa.Boolean),
                        sa.column("keyword", sa.String), sa.column("updated_at", sa.DateTime(timezone=True)))
    events = sa.table("sms_keyword_events", sa.column("message_sid", sa.String), sa.column("phone", sa.String),
                      sa.column("action", sa.String), sa.column("created_at", sa.DateTime(timezone=True)))
    rows = [
        {"key": OPT_OUT_PREFIX + row.phone, "updated_at": _aware(row.updated_at).replace(tzinfo=None),
         "value": {"opted_out": bool(row.opted_out), "keyword": row.keyword, "at": _aware(row.updated_at).isoformat()}}
        for row in connection.execute(sa.select(opt_outs))
    ]
    rows += [
        {"key": KEYWORD_PREFIX + row.message_sid, "updated_at": _aware(row.created_at).replace(tzinfo=None),
         "value": {"from": row.phone, "action": row.action}}
        for row in connection.execute(sa.select(events))
    ]
    if rows:
        op.bulk_insert(jack_state, rows)
    op.drop_table("sms_keyword_events")
    op.drop_table("sms_opt_outs")


def _when(updated_at: object, iso: object) -> dt.datetime:
    """An aware UTC time from the row's ``updated_at`` (stored naive, in UTC), else the value's ISO time."""
    if isinstance(updated_at, dt.datetime):
        return _aware(updated_at)
    if isinstance(iso, str):
        try:
            return _aware(dt.datetime.fromisoformat(iso))
        except ValueError:
            pass
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
