"""Outbound e-mail against a real SMTP server on loopback (AUTH over STARTTLS, or implicit TLS)."""

from __future__ import annotations

import asyncio

import pytest

from jack_host.contract.interfaces import InboundMessage, PermanentSendError, TransientSendError
from jack_host.contract.services import Mailer
from jack_host.testing import replies, running_app, wait_until
from jack_host.testing.mail_servers import LoopbackSMTP


def text_of(mail, kind: str = "plain") -> str:
    """A part as the guest's mail client shows it (SMTP carries CRLF line ends)."""
    return mail.get_body((kind,)).get_content().replace("\r\n", "\n").strip()


def mailer(app) -> Mailer:
    return app.services.get(Mailer)


def test_a_mail_arrives_from_the_hotel_with_text_and_html_over_starttls(make_email_app, smtp):
    app = make_email_app()
    message_id = asyncio.run(mailer(app).send_mail("guest@example.com", "Your booking", "Dear guest,\n\nSee you soon & welcome!"))
    [mail] = smtp.wait_for(1)
    assert smtp.logins[-1] == smtp.user
    assert mail["From"] == "Hotel Mirador <concierge@hotel.example>"
    assert mail["To"] == "guest@example.com" and mail["Message-ID"] == message_id
    assert message_id.endswith("@hotel.example>")
    assert text_of(mail) == "Dear guest,\n\nSee you soon & welcome!"
    assert "See you soon &amp; welcome!" in mail.get_body(("html",)).get_content()


@pytest.mark.parametrize("text", ["ご予約ありがとうございます。チェックインは15時からです。", "شكراً لحجزكم. تسجيل الوصول من الساعة الثالثة."])
def test_japanese_and_arabic_survive_the_trip(make_email_app, smtp, text):
    app = make_email_app()
    asyncio.run(mailer(app).send_mail("guest@example.com", text[:12], text))
    [mail] = smtp.wait_for(1)
    assert mail["Subject"] == text[:12]
    assert text_of(mail) == text
    html = mail.get_body(("html",))
    assert text in html.get_content() and 'dir="auto"' in html.get_content()
    assert html.get_content_charset() == "utf-8"


def test_a_reply_threads_under_the_guests_mail_with_one_re(make_email_app, smtp):
    app = make_email_app()
    headers = {"In-Reply-To": "<guest-2@example.com>", "References": "<guest-1@example.com> <guest-2@example.com>"}
    asyncio.run(mailer(app).send_mail("guest@example.com", "Re: Re: Late arrival", "Noted.", headers=headers))
    [mail] = smtp.wait_for(1)
    assert mail["In-Reply-To"] == "<guest-2@example.com>"
    assert mail["References"].split() == ["<guest-1@example.com>", "<guest-2@example.com>"]


def test_reply_subjects_never_stack_prefixes():
    from jack_channel_email.compose import reply_subject

    assert reply_subject("Late arrival") == "Re: Late arrival"
    assert reply_subject("Re: Re: RE: Late arrival") == "Re: Late arrival"
    assert reply_subject("AW: Re[2]: Late arrival") == "Re: Late arrival"


def test_4xx_and_lost_connections_are_transient_and_5xx_carries_the_servers_reply(make_email_app, smtp):
    app = make_email_app()
    send = mailer(app).send_mail
    smtp.fail_next("451 4.3.0 mailbox busy, try later")
    with pytest.raises(TransientSendError, match="451 4.3.0 mailbox busy"):
        asyncio.run(send("guest@example.com", "Hi", "text"))
    smtp.fail_next("DROP")
    with pytest.raises(TransientSendError):
        asyncio.run(send("guest@example.com", "Hi", "text"))
    smtp.fail_next("554 5.7.1 message rejected as spam")
    with pytest.raises(PermanentSendError, match="554 5.7.1 message rejected as spam"):
        asyncio.run(send("guest@example.com", "Hi", "text"))
    assert smtp.received == []


def test_a_wrong_password_is_refused_and_an_untrusted_certificate_too(make_email_app, smtp):
    with pytest.raises(PermanentSendError, match="login refused"):
        asyncio.run(mailer(make_email_app(SMTP_PASSWORD="wrong")).send_mail("guest@example.com", "Hi", "text"))
    with pytest.raises(PermanentSendError, match="certificate"):
        asyncio.run(mailer(make_email_app(SMTP_TLS_CA_FILE=None)).send_mail("guest@example.com", "Hi", "text"))
    assert smtp.received == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # aiosmtpd does not see implicit TLS
def test_implicit_tls_on_its_own_port(tmp_path, make_email_app):
    with LoopbackSMTP(tmp_path / "smtps", security="tls") as smtps:
        app = make_email_app(**smtps.env())
        asyncio.run(mailer(app).send_mail("guest@example.com", "Hi", "over TLS"))
        assert text_of(smtps.wait_for(1)[0]) == "over TLS"


def guest_writes(app, message_id: str, body: str = "Is there parking?"):
    async def receive():
        return await app.services.inbox.receive(InboundMessage(
            channel="email", channel_message_id=message_id, body=body,
            sender_email="guest@example.com", sender_address="guest@example.com"))

    return receive


def test_a_5xx_fails_the_answer_with_the_servers_reply_and_a_4xx_is_retried(make_email_app, smtp):
    app = make_email_app()
    smtp.fail_next("452 4.2.2 mailbox full", "550 5.1.1 guest@example.com: no such user")
    asyncio.run(guest_writes(app, "<m1@example.com>")())  # stored; the worker answers once the app runs
    with running_app(app):
        reply = wait_until(lambda: (replies(app) or [None])[0], timeout=20, what="the answer to settle")
    assert reply.status == "failed"
    assert "550 5.1.1 guest@example.com: no such user" in reply.error
    assert reply.meta["attempts"] == 2  # the 452 was retried, the 550 ended it
    assert smtp.received == []
