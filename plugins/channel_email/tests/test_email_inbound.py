"""Guest mail read from a real dovecot on loopback, answered through the loopback SMTP server."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from mail_helpers import guest_mail, text_of, unseen  # noqa: E402

from jack_host.testing import inbound_messages, replies, running_app, wait_until  # noqa: E402


def test_a_guest_mail_is_answered_in_its_thread_and_the_reply_joins_the_conversation(make_mail_app, dovecot, smtp, fake_openai):
    app = make_mail_app(**fake_openai.env())
    first = guest_mail("Hello, we will arrive around midnight. Is that fine?", subject="Re: RE: Late arrival")
    dovecot.deliver(first)
    with running_app(app):
        [answer] = smtp.wait_for(1, timeout=90)  # the first model call imports LiteLLM
        assert answer["To"] == "anna@example.com"
        assert answer["In-Reply-To"] == first["Message-ID"]
        assert answer["References"].split() == [first["Message-ID"]]
        assert answer["Subject"] == "Re: Late arrival"
        wait_until(lambda: unseen(dovecot) == 0, timeout=10, what="the guest's mail to be marked seen")
        quoted = "\n".join("> " + line for line in text_of(answer).splitlines())
        second = guest_mail(f"Thank you! One more thing: is breakfast included?\n\nOn Monday, Hotel Mirador wrote:\n{quoted}\n",
                            subject="Re: Late arrival", in_reply_to=answer["Message-ID"],
                            references=[first["Message-ID"], answer["Message-ID"]])
        dovecot.deliver(second)
        mails = smtp.wait_for(2)
        wait_until(lambda: len(replies(app)) == 2, timeout=10, what="both answers to be recorded")
    guest = inbound_messages(app)
    assert [m.body for m in guest] == ["Hello, we will arrive around midnight. Is that fine?",
                                       "Thank you! One more thing: is breakfast included?"]
    assert guest[0].conversation_id == guest[1].conversation_id
    assert "wrote:" in guest[1].meta["email"]["original"]  # staff still see the whole mail
    # the model sees the guest's new words, not the quoted history
    prompt = fake_openai.completion_requests()[-1].json()["messages"]
    assert prompt[-1]["content"].endswith("Thank you! One more thing: is breakfast included?")
    assert not any("wrote:" in m["content"] or "> " in m["content"] for m in prompt if m["role"] == "user")
    assert mails[1]["In-Reply-To"] == second["Message-ID"]
    assert mails[1]["References"].split() == [first["Message-ID"], answer["Message-ID"], second["Message-ID"]]
    assert mails[1]["Subject"] == "Re: Late arrival"


def test_the_same_mail_polled_twice_is_answered_once(make_mail_app, dovecot, smtp):
    app = make_mail_app()
    mail = guest_mail("Do you have parking?", message_id="<parking-1@example.com>")
    dovecot.deliver(mail)
    dovecot.deliver(mail)  # the same mail again, as after a crash before it was marked seen
    with running_app(app):
        wait_until(lambda: unseen(dovecot) == 0, timeout=10, what="both copies to be marked seen")
        smtp.wait_for(1)
        wait_until(lambda: replies(app), timeout=10, what="the answer to be recorded")
    assert len(inbound_messages(app)) == 1 and len(smtp.received) == 1


def test_auto_replies_and_bounces_are_never_answered(make_mail_app, dovecot, smtp):
    app = make_mail_app()
    dovecot.deliver(guest_mail("I am out of office until Monday.", subject="Automatic reply: Late arrival",
                               headers={"Auto-Submitted": "auto-replied"}))
    dovecot.deliver(guest_mail("Delivery to the following recipient failed permanently.", subject="Undelivered Mail",
                               sender="Mail Delivery System <MAILER-DAEMON@mx.example.com>"))
    dovecot.deliver(guest_mail("Weekly deals!", headers={"Precedence": "bulk"}))
    with running_app(app):
        wait_until(lambda: unseen(dovecot) == 0, timeout=10, what="the automatic mails to be marked seen")
    assert inbound_messages(app) == [] and smtp.received == []


def test_html_only_mail_reaches_the_model_as_text(make_mail_app, dovecot, smtp, fake_openai):
    app = make_mail_app(**fake_openai.env())
    dovecot.deliver(guest_mail("", html="<html><body><p>Can I get a <b>late checkout</b>?</p>"
                                        "<div class='sig'>--<br>Anna</div></body></html>"))
    with running_app(app):
        smtp.wait_for(1, timeout=90)
    [message] = inbound_messages(app)
    assert message.body == "Can I get a **late checkout**?"
    assert message.meta["email"]["body_source"] == "html"
    prompt = fake_openai.completion_requests()[-1].json()["messages"]
    assert prompt[-1]["content"].endswith("Can I get a **late checkout**?")
    assert not any("<" in m["content"] or "Anna" in m["content"] for m in prompt if m["role"] == "user")


def test_japanese_and_arabic_mails_round_trip(make_mail_app, dovecot, smtp):
    app = make_mail_app()
    japanese, arabic = "チェックインは何時からですか？", "هل يمكنني الحصول على غرفة هادئة؟"
    dovecot.deliver(guest_mail(japanese, subject="予約について", sender="山田 花子 <hanako@example.jp>"))
    dovecot.deliver(guest_mail(arabic, subject="حجز", sender="ليلى <layla@example.com>"))
    with running_app(app):
        answers = smtp.wait_for(2)
    assert sorted(m.body for m in inbound_messages(app)) == sorted([japanese, arabic])
    assert sorted(m["Subject"] for m in answers) == sorted(["Re: 予約について", "Re: حجز"])
    names = {m.meta["sender_name"] for m in inbound_messages(app)}
    assert names == {"山田 花子", "ليلى"}
    # The answers (the hand-over text, no model here) come back in the guest's script, intact.
    by_guest = {m["To"]: text_of(m) for m in answers}
    assert "メッセージをありがとうございます" in by_guest["hanako@example.jp"], by_guest
    assert "شكرًا لرسالتك" in by_guest["layla@example.com"], by_guest
    assert {part.get_content_charset() for m in answers for part in m.walk() if part.get_content_maintype() == "text"} == {"utf-8"}


def test_attachments_are_recorded_by_name_type_and_size(make_mail_app, dovecot, smtp):
    app = make_mail_app()
    mail = guest_mail("Here is my passport.")
    mail.add_attachment(b"%PDF-1.4 " + b"x" * 1000, maintype="application", subtype="pdf", filename="passport.pdf")
    dovecot.deliver(mail)
    with running_app(app):
        smtp.wait_for(1)
    [message] = inbound_messages(app)
    assert message.meta["email"]["attachments"] == [{"name": "passport.pdf", "content_type": "application/pdf", "size": 1009}]
    assert message.body == "Here is my passport.\n\n[attachment: passport.pdf]"


def test_two_guests_of_one_travel_agent_stay_in_their_own_threads(make_mail_app, dovecot, smtp):
    app = make_mail_app()
    agent = "Sunny Travel <bookings@sunny.example>"
    dovecot.deliver(guest_mail("Booking for Mr Müller: can he check in early?", subject="Müller, 3 nights", sender=agent))
    dovecot.deliver(guest_mail("Booking for Ms Rossi: does she get a sea view?", subject="Rossi, 2 nights", sender=agent))
    with running_app(app):
        answers = {m["Subject"]: m for m in smtp.wait_for(2)}
        to_mueller = answers["Re: Müller, 3 nights"]
        dovecot.deliver(guest_mail("And a taxi from the airport for Mr Müller, please.", subject="Re: Müller, 3 nights",
                                   sender=agent, in_reply_to=to_mueller["Message-ID"]))
        wait_until(lambda: len(inbound_messages(app)) == 3, timeout=10, what="the agent's reply to be stored")
    mueller, rossi, taxi = inbound_messages(app)
    assert mueller.conversation_id != rossi.conversation_id
    assert taxi.conversation_id == mueller.conversation_id


def test_an_unreadable_mail_does_not_block_the_next_one(make_mail_app, dovecot, smtp):
    app = make_mail_app()
    dovecot.deliver(b"\xff\xfe\x00 this is not a mail at all\r\n\r\n\x00\x01")
    dovecot.deliver(guest_mail("Can I bring my dog?"))
    with running_app(app):
        [answer] = smtp.wait_for(1)
        wait_until(lambda: unseen(dovecot) == 0, timeout=10, what="both mails to be handled")
    assert answer["To"] == "anna@example.com"
    assert [m.body for m in inbound_messages(app)] == ["Can I bring my dog?"]


def test_one_address_gets_at_most_the_hourly_cap_of_answers(make_mail_app, dovecot, smtp):
    app = make_mail_app(EMAIL_REPLIES_PER_HOUR="1")
    dovecot.deliver(guest_mail("First question", subject="One"))
    dovecot.deliver(guest_mail("Second question", subject="Two"))
    with running_app(app):
        wait_until(lambda: len(replies(app)) == 2, timeout=20, what="both answers to settle")
    assert len(smtp.received) == 1
    assert sorted(r.status for r in replies(app)) == ["failed", "sent"]
    [capped] = [r for r in replies(app) if r.status == "failed"]
    assert "EMAIL_REPLIES_PER_HOUR" in capped.error and "mail loop" in capped.error
