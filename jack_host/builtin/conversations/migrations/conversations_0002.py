"""conversations: fold the guests that the old phone rule split in two

Jack before 0.2 dropped the trunk 0 of every national number, so in Italy (and San
Marino, the Vatican) ``06 6982 1234`` became ``+39669821234`` while ``+39 06 6982
1234`` stayed ``+390669821234``: one guest, two rows.  Each stored number is read
again with libphonenumber; a number that is not valid, but is once the dropped 0 is
put back, gets it back.  Guests left with the same number are merged into the oldest
one: conversations, tasks and AI calls move over (messages follow their
conversation), empty fields are filled from the others, then the copies are deleted.

Revision ID: conversations_0002
Revises: conversations_0001
Create Date: 2026-12-02
"""
import phonenumbers
import sqlalchemy as sa
from alembic import op

revision = "conversations_0002"
down_revision = "conversations_0001"
branch_labels = None
depends_on = None

#: Guest fields filled from a merged copy when the kept guest has none.
FILLED = ("name", "email", "preferred_language")


def canonical_phone(stored: str) -> str:
    """The number the current rule gives for a number the old rule stored (itself when it was right)."""
    try:
        number = phonenumbers.parse(stored, None)
    except phonenumbers.NumberParseException:
        return stored
    if phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    code = str(number.country_code)
    digits = stored.strip().lstrip("+")
    if digits.startswith(code):
        try:
            repaired = phonenumbers.parse(f"+{code}0{digits[len(code):]}", None)
        except phonenumbers.NumberParseException:
            return stored
        # Only where the country keeps its leading 0 in international form (Italy) was the 0 wrongly dropped.
        if phonenumbers.is_valid_number(repaired) and repaired.italian_leading_zero:
            return phonenumbers.format_number(repaired, phonenumbers.PhoneNumberFormat.E164)
    return stored


def upgrade() -> None:
    bind = op.get_bind()
    tables = set(sa.inspect(bind).get_table_names())
    guests = sa.table("guests", sa.column("id"), sa.column("phone"), sa.column("notes"), *(sa.column(c) for c in FILLED))
    rows = bind.execute(sa.select(guests).where(guests.c.phone.is_not(None)).order_by(guests.c.id)).mappings().all()
    by_phone: dict[str, list[dict]] = {}
    renamed: dict[str, str] = {}
    for row in rows:
        new = canonical_phone(row["phone"])
        if new != row["phone"]:
            renamed[row["phone"]] = new
        by_phone.setdefault(new, []).append(dict(row))
    conversations = sa.table("conversations", sa.column("guest_id"), sa.column("guest_address"))
    for old, new in renamed.items():
        bind.execute(sa.update(guests).where(guests.c.phone == old).values(phone=new))
        # SMS and WhatsApp conversations are addressed by the number: the guest's next message must find them.
        bind.execute(sa.update(conversations).where(conversations.c.guest_address == old).values(guest_address=new))
    owners = [name for name in ("conversations", "tasks", "ai_calls") if name in tables]
    for group in by_phone.values():
        if len(group) < 2:
            continue
        kept, copies = group[0], group[1:]
        filled = {c: next((g[c] for g in copies if g[c]), None) for c in FILLED if not kept[c]}
        notes = "\n".join(n for n in [kept["notes"], *(g["notes"] for g in copies)] if n)
        bind.execute(sa.update(guests).where(guests.c.id == kept["id"]).values(notes=notes, **{c: v for c, v in filled.items() if v}))
        ids = [g["id"] for g in copies]
        for name in owners:
            table = sa.table(name, sa.column("guest_id"))
            bind.execute(sa.update(table).where(table.c.guest_id.in_(ids)).values(guest_id=kept["id"]))
        bind.execute(sa.delete(guests).where(guests.c.id.in_(ids)))


def downgrade() -> None:
    pass  # merged guests stay merged: their history now belongs to one guest and cannot be told apart again
