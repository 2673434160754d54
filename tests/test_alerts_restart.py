"""A real `jack serve` with all seven plugins: repeated failed sign-ins page the on-call chain, and a SIGKILL
between two levels does not lose the escalation: the next level is paged once, by the next process."""

from __future__ import annotations

import json
import sqlite3
import time

import httpx

from jack_host.testing import JackProcess, run_jack, wait_until
from jack_host.testing.fake_pagerduty import FakePagerDuty
from jack_host.testing.fake_twilio import FakeTwilio
from jack_host.testing.loopback import LoopbackServer, RecordedRequest, Reply

PD_KEY = "0123456789abcdef0123456789abcdef"
# primary waits 0.02 min (1.2 s), secondary 0.05 min (3 s), then management.
ONCALL = f"""
escalation:
  levels:
    - name: primary
      contacts: [{{type: pagerduty, service_key: "{PD_KEY}"}}]
      wait_minutes: 0.02
    - name: secondary
      contacts: [{{type: phone, number: "+15550001111"}}]
      wait_minutes: 0.05
    - name: management
      contacts: [{{type: webhook, url: "${{CHAT_URL}}/hooks/jack"}}]
      wait_minutes: 30
"""


def delivery_states(tmp_path) -> list[str]:
    con = sqlite3.connect(tmp_path / "data" / "jack.db")
    try:
        return [row[0] for row in con.execute("SELECT status FROM alert_deliveries ORDER BY id")]
    finally:
        con.close()


class FakeChat(LoopbackServer):
    def answer(self, request: RecordedRequest) -> Reply:
        return Reply(200, "ok")


def test_sigkill_between_levels_then_restart_pages_the_next_level_once(tmp_path):
    (tmp_path / "oncall.yaml").write_text(ONCALL)
    with FakePagerDuty() as pd, FakeTwilio() as twilio, FakeChat() as chat:
        env = {
            "PAGERDUTY_EVENTS_URL": pd.url, "CHAT_URL": chat.url, "TWILIO_API_URL": twilio.url,
            "TWILIO_ACCOUNT_SID": twilio.account_sid, "TWILIO_AUTH_TOKEN": twilio.auth_token,
            "TWILIO_PHONE_NUMBER": "+15550100000", "JWT_SECRET": "t" * 40, "ALERT_CHECK_INTERVAL": "0.2",
            "STAFF_LOGIN_MAX_FAILURES": "2",
        }
        first = JackProcess(tmp_path, env=env).start()
        try:
            codes = [httpx.post(first.url + "/api/v1/auth/login", json={"email": "night@hotel.test", "password": f"guess-{i}"}).status_code
                     for i in range(3)]
            assert codes == [401, 401, 429]
            wait_until(lambda: pd.actions() == ["trigger"], timeout=15, what="the security alert paged on PagerDuty")
            assert pd.events[0][1]["dedup_key"] == "security.login_failures"
            wait_until(lambda: twilio.matching("POST", "Messages.json"), timeout=15, what="the secondary level texted")
            texted_at = time.time()
            # Killed between two levels, not in the middle of a send (that one is re-sent: at least once).
            wait_until(lambda: delivery_states(tmp_path) == ["sent", "sent"], timeout=15, what="the SMS recorded as sent")
        finally:
            first.kill()
        assert first.process.returncode == -9
        assert chat.requests == []
        # Past the secondary level's 3 s while no Jack runs: the next one must catch up.
        wait_until(lambda: time.time() > texted_at + 3.5, timeout=10, what="the secondary level's wait")
        with JackProcess(tmp_path, env=env) as second:
            wait_until(lambda: chat.requests, timeout=15, what="the management level paged after the restart")
            listed = run_jack(tmp_path, "alerts", "list", "--json", env=env)
            assert "Applied" not in second.output()
        [alert] = json.loads(listed.stdout)
        assert alert["level_name"] == "management" and alert["next_escalation_at"] is None
        assert [(d["route"], d["status"]) for d in alert["deliveries"]] == [("pagerduty", "sent"), ("phone", "sent"), ("webhook", "sent")]
        assert pd.actions() == ["trigger"] and len(twilio.matching("POST", "Messages.json")) == 1 and len(chat.requests) == 1
