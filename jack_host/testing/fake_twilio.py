"""A loopback fake of the Twilio REST endpoints the channel uses, for tests (here and in other plugins).

Checks HTTP basic auth like Twilio, answers in Twilio's JSON shapes and records every
request.  ``fake.fail_next("POST", "Messages.json", twilio_error_reply(...))`` scripts failures.
"""

from __future__ import annotations

import base64
import itertools
import re

from jack_host.testing.loopback import LoopbackServer, RecordedRequest, Reply


def twilio_error_reply(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                          "status": status}, headers or {})


class FakeTwilio(LoopbackServer):
    def __init__(self, account_sid: str = "AC" + "0" * 31 + "1", auth_token: str = "twilio-test-auth-token"):
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._ids = itertools.count(1)
        self.sent_sids: list[str] = []

    def answer(self, request: RecordedRequest) -> Reply:
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return twilio_error_reply(401, 20003, "Authenticate")
        prefix = f"/2010-04-01/Accounts/{self.account_sid}"
        if request.method == "GET" and request.path == prefix + ".json":
            return Reply(200, {"sid": self.account_sid, "friendly_name": "Hotel Test", "status": "active", "type": "Full"})
        if request.method == "POST" and request.path == prefix + "/Messages.json":
            form = request.form()
            if not form.get("To"):
                return twilio_error_reply(400, 21604, "A 'To' phone number is required.")
            if not re.fullmatch(r"\+[1-9]\d{6,14}", form["To"]):
                return twilio_error_reply(400, 21211, f"Invalid 'To' Phone Number: {form['To']}")
            if not form.get("From") and not form.get("MessagingServiceSid"):
                return twilio_error_reply(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required")
            if not form.get("Body"):
                return twilio_error_reply(400, 21602, "Message body is required.")
            sid = f"SM{next(self._ids):032x}"
            self.sent_sids.append(sid)
            return Reply(201, {"sid": sid, "account_sid": self.account_sid, "to": form["To"], "from": form.get("From"),
                               "messaging_service_sid": form.get("MessagingServiceSid"), "body": form["Body"],
                               "status": "queued", "num_segments": "1", "price": None, "error_code": None,
                               "uri": f"{prefix}/Messages/{sid}.json"})
        if request.method == "POST" and request.path == prefix + "/Calls.json":
            form = request.form()
            if not re.fullmatch(r"\+[1-9]\d{6,14}", form.get("To", "")):
                return twilio_error_reply(400, 21211, f"Invalid 'To' Phone Number: {form.get('To')}")
            if not form.get("From"):
                return twilio_error_reply(400, 21213, "No 'From' number is specified")
            if not form.get("Url") and not form.get("Twiml"):
                return twilio_error_reply(400, 21205, "Url or Twiml parameter is required")
            sid = f"CA{next(self._ids):032x}"
            return Reply(201, {"sid": sid, "account_sid": self.account_sid, "to": form["To"], "from": form["From"],
                               "status": "queued", "uri": f"{prefix}/Calls/{sid}.json"})
        return twilio_error_reply(404, 20404, f"The requested resource {request.path} was not found")
