"""`jack doctor` names an unset WhatsApp webhook secret and unsigned webhooks."""

import secrets

from jack_channel_whatsapp import plugin

from jack_host.cli.doctor import run_doctor
from jack_host.testing import make_app


def whatsapp_checks(tmp_path, env):
    app = make_app(tmp_path, plugins=[("channel_whatsapp", plugin)], env=env)
    checks, passed = run_doctor(app)
    return {c.name: c for c in checks if c.name.startswith("WhatsApp")}, passed


def test_jack_doctor_checks_flags_a_missing_app_secret(tmp_path):
    checks, _ = whatsapp_checks(tmp_path, {"WHATSAPP_ACCESS_TOKEN": "EAAG-token", "WHATSAPP_PHONE_NUMBER_ID": "1055"})
    secret = checks["WhatsApp webhook secret"]
    assert not secret.ok and secret.must_fix
    assert "WHATSAPP_APP_SECRET is empty" in secret.line() and "fix:" in secret.line()


def test_unsigned_webhooks_are_a_must_fix_in_production(tmp_path):
    env = {
        "JACK_ENV": "production", "JWT_SECRET": secrets.token_hex(32), "ENCRYPTION_KEY": secrets.token_hex(32),
        "WHATSAPP_ACCESS_TOKEN": "EAAG-token", "WHATSAPP_APP_SECRET": "s3cret", "WHATSAPP_VERIFY_TOKEN": "v",
        "WHATSAPP_ALLOW_UNSIGNED": "true",
    }
    checks, _ = whatsapp_checks(tmp_path, env)
    assert checks["WhatsApp webhook secret"].ok
    unsigned = checks["WhatsApp unsigned webhooks off"]
    assert not unsigned.ok and unsigned.must_fix


def test_unused_whatsapp_is_not_a_failure(tmp_path):
    checks, _ = whatsapp_checks(tmp_path, {})
    assert list(checks) == ["WhatsApp webhook secret"] and checks["WhatsApp webhook secret"].ok
