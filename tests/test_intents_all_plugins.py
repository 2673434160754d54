"""Answer or act on a hotel's real set-up: all seven plugins installed, only the minimum configured, no model.

A request in Spanish becomes a housekeeping task for the room with the guest told in Spanish, a question
is answered from the article, an emergency is urgent, and staff see the conversation's language.
"""

from __future__ import annotations

import httpx

from jack_host.builtin.conversations.texts import default_texts
from jack_host.testing import channel as testing_channel
from jack_host.testing import make_app, running_app, wait_until
from tests.staff_helpers import bearer, guest_says, make_users, token_for

SEVEN_PLUGINS = {"channel_webchat", "channel_whatsapp", "channel_sms", "channel_email", "llm_ollama", "backup_s3", "alert_pagerduty"}


def test_requests_questions_and_emergencies_with_every_plugin_installed(tmp_path):
    app = make_app(tmp_path, plugins=[("test_channel", testing_channel)], env={"JWT_SECRET": "i" * 40}, load_entrypoints=True)
    assert SEVEN_PLUGINS <= {name for name, _ in app.pm.list_name_plugin()}
    app.services.knowledge.create("Check-out Time", "Check-out is until 11:00.", "Departure", "check-out,departure")
    app.services.knowledge.create("Check-in Time", "Check-in starts at 15:00.", "Arrival", "check-in,arrival")
    make_users(app)
    sent = app.channels["test"].sent
    with running_app(app) as url:
        token = token_for(url, "staff")
        first = guest_says(url, "m1", "¿Pueden traer toallas a la habitación 412?")
        wait_until(lambda: len(sent) >= 1, what="the reply to the request")
        assert sent[0].body == default_texts().on_its_way("es", "housekeeping", "412")
        [task] = app.services.tasks.list()
        assert (task["department"], task["reason"]) == ("housekeeping", "guest_request") and "Room 412" in task["title"]

        guest_says(url, "m2", "What time is checkout?")
        wait_until(lambda: len(sent) >= 2, what="the answer")
        assert sent[1].body == "Check-out is until 11:00."

        guest_says(url, "m3", "Call 911")
        wait_until(lambda: len(sent) >= 3, what="the emergency reply")
        urgent = [t for t in app.services.tasks.list() if t["priority"] == "urgent"]
        assert [(t["department"], t["reason"]) for t in urgent] == [("security", "emergency")]

        response = httpx.get(f"{url}/api/v1/conversations/{first['conversation_id']}", headers=bearer(token))
        assert response.status_code == 200 and response.json()["language"] == "es"
