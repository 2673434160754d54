"""`/health` says `connected` only after a real SMTP login; `jack doctor` checks the TLS of the servers."""

from __future__ import annotations

import asyncio

from jack_host.cli.doctor import run_doctor
from jack_host.testing.loopback import free_port


def email_health(app):
    return asyncio.run(app.channels["email"].health())


def test_health_is_connected_after_a_login_and_error_with_the_reason_otherwise(make_email_app, smtp):
    health = email_health(make_email_app())
    assert health.state == "connected", health.detail
    assert smtp.logins[-1] == smtp.user
    refused = email_health(make_email_app(SMTP_PASSWORD="wrong"))
    assert refused.state == "error" and "login refused" in refused.detail
    down = email_health(make_email_app(SMTP_PORT=str(free_port())))
    assert down.state == "error" and "SMTP 127.0.0.1" in down.detail
    unset = email_health(make_email_app(SMTP_HOST=None))
    assert unset.state == "not_configured" and "SMTP_HOST" in unset.detail


def email_checks(app):
    checks, _ = run_doctor(app)
    mine = {c.name: c for c in checks if c.name.startswith("E-mail")}
    # whether doctor would pass on the e-mail items alone (the host's own items fail in a test app)
    return mine, all(c.ok or not c.must_fix for c in mine.values())


def test_doctor_passes_a_trusted_starttls_server(make_email_app):
    checks, _ = email_checks(make_email_app())
    assert sorted(checks) == ["E-mail SMTP over TLS"]
    assert checks["E-mail SMTP over TLS"].ok, checks["E-mail SMTP over TLS"].line()
    assert "starttls: TLSv1.3, localhost" in checks["E-mail SMTP over TLS"].detail


def test_doctor_fails_an_untrusted_certificate_and_unencrypted_mail(make_email_app):
    checks, ok = email_checks(make_email_app(SMTP_TLS_CA_FILE=None))
    untrusted = checks["E-mail SMTP over TLS"]
    assert not ok and not untrusted.ok and untrusted.must_fix
    assert "certificate verify failed" in untrusted.detail and "SMTP_TLS_CA_FILE" in untrusted.fix
    checks, ok = email_checks(make_email_app(SMTP_SECURE="none", SMTP_HOST="smtp.hotel.example"))
    assert not ok and "unencrypted" in checks["E-mail SMTP over TLS"].detail
    checks, ok = email_checks(make_email_app(SMTP_TLS_VERIFY="false", SMTP_TLS_CA_FILE=None))
    assert ok and checks["E-mail SMTP over TLS"].ok
    assert not checks["E-mail SMTP certificate checked"].ok and not checks["E-mail SMTP certificate checked"].must_fix


def test_doctor_without_email_set_up_says_so(make_email_app):
    checks, _ = email_checks(make_email_app(SMTP_HOST=None))
    assert checks["E-mail SMTP over TLS"].ok and "not set up" in checks["E-mail SMTP over TLS"].detail


def test_a_bad_sender_address_is_refused_at_start_in_one_line(make_email_app):
    import pytest

    from jack_host.config.settings import SettingsError

    with pytest.raises(SettingsError) as refused:
        make_email_app(SMTP_FROM="Hotel Mirador")
    assert [line for line in refused.value.errors if "SMTP_FROM" in line]
    assert all("\n" not in line for line in refused.value.errors)
