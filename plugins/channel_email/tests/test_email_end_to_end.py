"""End to end on an app with every installed plugin and only the e-mail settings (and a model) configured."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from mail_helpers import guest_mail, text_of, unseen  # noqa: E402

from jack_host.testing import inbound_messages, replies, running_app, wait_until  # noqa: E402


def test_a_guest_corresponds_with_the_full_app_by_email(jack_app_factory, dovecot, smtp, fake_openai):
    env = {**smtp.env(), **dovecot.env(), **fake_openai.env(), "SMTP_FROM": "Hotel Mirador <concierge@hotel.example>",
           "IMAP_POLL_SECONDS": "0.1", "OUTBOX_BACKOFF_SECONDS": "0.05", "OUTBOX_MAX_ATTEMPTS": "2"}
    app = jack_app_factory(env=env)  # plugins=None: every installed plugin, as `jack serve` loads them
    assert {"email", "sms", "whatsapp", "webchat"} <= set(app.channels)
    first = guest_mail("Guten Tag, können wir ein Kinderbett bekommen?", subject="Kinderbett")
    dovecot.deliver(first)
    dovecot.deliver(first)  # delivered twice (a forwarding rule): answered once
    dovecot.deliver(guest_mail("Out of office.", headers={"Auto-Submitted": "auto-replied"}))
    dovecot.deliver(guest_mail("Undeliverable.", sender="MAILER-DAEMON@mx.example.com", subject="failure notice"))
    with running_app(app):
        [answer] = smtp.wait_for(1, timeout=90)  # the first model call imports LiteLLM
        assert answer["In-Reply-To"] == first["Message-ID"] and answer["Subject"] == "Re: Kinderbett"
        dovecot.deliver(guest_mail("Danke!\n\n> " + text_of(answer).replace("\n", "\n> "), subject="Re: Kinderbett",
                                   in_reply_to=answer["Message-ID"], references=[first["Message-ID"], answer["Message-ID"]]))
        wait_until(lambda: len(replies(app)) == 2, timeout=30, what="the second answer")
        # the SMTP server now refuses for good: the third answer fails, with its reply, for staff to see
        smtp.fail_next("550 5.7.1 relaying denied")
        dovecot.deliver(guest_mail("Noch eine Frage: gibt es Parkplätze?", subject="Parken"))
        wait_until(lambda: len(replies(app)) == 3, timeout=30, what="the third answer to settle")
        wait_until(lambda: unseen(dovecot) == 0, timeout=10, what="every mail to be marked seen")
    guest = inbound_messages(app)
    assert [m.body for m in guest] == ["Guten Tag, können wir ein Kinderbett bekommen?", "Danke!",
                                       "Noch eine Frage: gibt es Parkplätze?"]
    assert guest[0].conversation_id == guest[1].conversation_id != guest[2].conversation_id
    statuses = [(r.status, r.error) for r in replies(app)]
    assert statuses[:2] == [("sent", None), ("sent", None)]
    assert statuses[2][0] == "failed" and "550 5.7.1 relaying denied" in statuses[2][1]
    assert len(smtp.received) == 2
