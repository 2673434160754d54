"""`jack doctor` names an unset Twilio auth token and a missing https PUBLIC_URL."""

from jack_channel_sms import plugin

from jack_host.cli.doctor import run_doctor
from jack_host.testing import make_app


def sms_checks(tmp_path, env):
    app = make_app(tmp_path, plugins=[("channel_sms", plugin)], env=env)
    checks, _ = run_doctor(app)
    return {c.name: c for c in checks if c.name.startswith("SMS")}


def test_jack_doctor_checks_flags_a_missing_auth_token(tmp_path):
    checks = sms_checks(tmp_path, {"TWILIO_ACCOUNT_SID": "AC123", "TWILIO_PHONE_NUMBER": "+15550100"})
    token = checks["SMS webhook secret"]
    assert not token.ok and token.must_fix and "TWILIO_AUTH_TOKEN is empty" in token.line()
    assert not checks["SMS signatures checked against the public URL"].ok


def test_configured_sms_passes(tmp_path):
    env = {"TWILIO_ACCOUNT_SID": "AC123", "TWILIO_AUTH_TOKEN": "tok", "PUBLIC_URL": "https://jack.hotel.example"}
    checks = sms_checks(tmp_path, env)
    # the names first: ``all()`` over no checks at all would pass too
    assert sorted(checks) == ["SMS signatures checked against the public URL", "SMS webhook secret"]
    assert [name for name, check in checks.items() if not check.ok] == []
