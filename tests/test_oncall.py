"""oncall.yaml is read in exactly the deployment document's schema; a bad file is refused with one line."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
import yaml

from jack_host.builtin.alerts.oncall import QuietHours, parse_oncall
from jack_host.testing import run_jack

DOCUMENT_ENV = {"PAGERDUTY_SERVICE_KEY": "0123456789abcdef0123456789abcdef", "ONCALL_PHONE": "+15550001111",
                "ONCALL_EMAIL": "oncall@hotel.example", "MANAGER_PHONE": "+15550002222"}


def parse(text: str):
    document = yaml.safe_load(text)
    return parse_oncall(document.get("escalation"), document.get("alert_routing"))


def test_the_documents_schedule_is_read_with_its_levels_waits_and_quiet_hours(fixtures, tmp_path):
    from jack_host.config.settings import load_settings

    shutil.copy(fixtures / "oncall.yaml", tmp_path / "oncall.yaml")
    settings = load_settings({"JACK_CONFIG_DIR": str(tmp_path), **DOCUMENT_ENV})
    oncall, errors = parse_oncall(settings.get("escalation"))
    assert errors == []
    assert [(level.name, level.wait_minutes) for level in oncall.levels] == [("primary", 5), ("secondary", 15), ("management", 30)]
    assert [(c.type, c.target) for c in oncall.levels[1].contacts] == [("phone", "+15550001111"), ("email", "oncall@hotel.example")]
    assert oncall.quiet_hours == QuietHours(dt.time(22, 0), dt.time(8, 0), "critical")
    # The routing table: AI provider down has no escalation (the auto-fallback), the rest walk every level.
    assert [level.name for level in oncall.path("ai_provider_down")] == ["primary"]
    assert [level.name for level in oncall.path("channel_outage")] == ["primary", "secondary", "management"]


ONE_LEVEL = """
escalation:
  levels:
    - name: primary
      contacts:
        - type: {type}
          {key}: {value}
      wait_minutes: {wait}
  quiet_hours:
    start: "{start}"
    end: "08:00"
    severity_override: {override}
"""


def one_level(type="email", key="address", value="ops@hotel.example", wait="0.5", start="22:00", override="critical") -> str:
    return ONE_LEVEL.format(type=type, key=key, value=value, wait=wait, start=start, override=override)


@pytest.mark.parametrize(("text", "line"), [
    (one_level(wait="five"), "escalation.levels[0].wait_minutes='five': expected a number of minutes of at least 0 (fractions allowed, e.g. 0.5)"),
    (one_level(wait="-1"), "escalation.levels[0].wait_minutes=-1: expected a number of minutes of at least 0 (fractions allowed, e.g. 0.5)"),
    (one_level(type="pigeon", key="loft"), "escalation.levels[0].contacts[0].type='pigeon': expected one of pagerduty, phone, email, webhook"),
    (one_level(start="25:99"), "escalation.quiet_hours.start='25:99': expected a time of day as \"HH:MM\" (00:00 to 23:59)"),
    (one_level(override="loud"), "escalation.quiet_hours.severity_override='loud': expected one of info, warning, critical"),
    (one_level(type="phone", key="address"), "escalation.levels[0].contacts[0].address='ops@hotel.example': not a key of a phone contact; expected only type and number"),
    (one_level(type="phone", key="number", value="call-me"), "escalation.levels[0].contacts[0].number='call-me': expected a phone number in E.164, e.g. +15550100"),
    (one_level(value="not-an-address"), "escalation.levels[0].contacts[0].address='not-an-address': expected an e-mail address, e.g. oncall@hotel.example"),
    ("escalation:\n  levels: []\n", "escalation.levels=[]: expected a list of at least one level"),
    (one_level() + "alert_routing:\n  security_alert: {primary: security}\n",
     "alert_routing.security_alert: level 'security' is not in escalation.levels; expected one of primary"),
    (one_level() + "alert_routing:\n  sharks: {primary: primary}\n",
     "alert_routing.sharks: unknown alert type 'sharks'; expected one of container_unhealthy, database_error, channel_outage, "
     "ai_provider_down, security_alert, guest_complaint_sla, other"),
])
def test_a_bad_value_is_one_line_naming_the_key_the_value_and_what_is_expected(text, line):
    _, errors = parse(text)
    assert errors == [line]


def test_fractional_waits_and_routing_to_named_levels():
    text = """
escalation:
  levels:
    - {name: duty_manager, contacts: [{type: phone, number: "+15550003333"}], wait_minutes: 0.05}
    - {name: gm, contacts: [{type: email, address: gm@hotel.example}], wait_minutes: 1}
    - {name: security, contacts: [{type: webhook, url: "https://hooks.example/x"}], wait_minutes: 2}
alert_routing:
  guest_complaint_sla: {primary: duty_manager, escalation: [gm]}
  security_alert: {primary: security, escalation: gm}
"""
    oncall, errors = parse(text)
    assert errors == []
    assert oncall.levels[0].wait_minutes == 0.05
    assert [level.name for level in oncall.path("guest_complaint_sla")] == ["duty_manager", "gm"]
    assert [level.name for level in oncall.path("security_alert")] == ["security", "gm"]


def test_quiet_hours_span_midnight_and_end_the_next_morning():
    quiet = QuietHours(dt.time(22, 0), dt.time(8, 0), "critical")
    day = dt.datetime(2026, 12, 2)
    assert [quiet.active(day.replace(hour=h, minute=m)) for h, m in [(21, 59), (22, 0), (23, 59), (0, 0), (7, 59), (8, 0)]] == [
        False, True, True, True, True, False]
    assert quiet.ends_after(day.replace(hour=23)) == dt.datetime(2026, 12, 3, 8, 0)
    assert quiet.ends_after(day.replace(hour=3)) == dt.datetime(2026, 12, 2, 8, 0)
    assert quiet.pages("critical") and not quiet.pages("warning")


def test_config_check_and_doctor_refuse_a_bad_oncall_yaml_with_one_line(tmp_path):
    (tmp_path / "oncall.yaml").write_text(one_level(wait="five"))
    expected = "error: escalation.levels[0].wait_minutes='five': expected a number of minutes of at least 0 (fractions allowed, e.g. 0.5)"
    for command in (["config", "check"], ["doctor"]):
        result = run_jack(tmp_path, *command)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert result.stderr.strip().splitlines() == [expected]


def test_doctor_names_contacts_left_empty_by_unset_variables(tmp_path, fixtures):
    shutil.copy(fixtures / "oncall.yaml", tmp_path / "oncall.yaml")
    result = run_jack(tmp_path, "doctor", env={"ONCALL_PHONE": "+15550001111"})
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stdout.splitlines() if "On-call contacts set" in line]
    assert line.startswith("warn") and "escalation.levels[0].contacts[0].service_key (level primary, pagerduty)" in line
    assert "escalation.levels[1].contacts[1].address (level secondary, email)" in line
    assert "contacts[0].number (level secondary" not in line
