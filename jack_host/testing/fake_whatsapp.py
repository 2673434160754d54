"""A loopback fake of the Graph API endpoints the channel uses, for tests (here and in other plugins).

It checks the bearer token like Meta does, answers in Meta's wire format and records every
request (``fake.requests``).  ``fake.fail_next("POST", "/messages", Reply(503, ...))`` scripts failures.
"""

from __future__ import annotations

import itertools
import re

from jack_host.testing.loopback import LoopbackServer, RecordedRequest, Reply


def graph_error(status: int, message: str, code: int, kind: str = "OAuthException") -> Reply:
    return Reply(status, {"error": {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEf123"}})


class FakeGraphAPI(LoopbackServer):
    def __init__(self, access_token: str = "test-access-token", phone_number_id: str = "1055000000001",
                 display_phone_number: str = "+1 555-0100"):
        super().__init__()
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.display_phone_number = display_phone_number
        self._ids = itertools.count(1)
        self.sent_ids: list[str] = []

    @property
    def api_url(self) -> str:
        return self.url + "/v21.0"

    def answer(self, request: RecordedRequest) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.access_token}":
            return graph_error(401, "Invalid OAuth access token - Cannot parse access token", 190)
        match = re.fullmatch(r"/v21\.0/([^/]+)(/messages)?", request.path)
        if not match or match.group(1) != self.phone_number_id:
            return graph_error(400, f"Unsupported request - method type: {request.method.lower()}", 100, "GraphMethodException")
        if request.method == "GET" and not match.group(2):
            return Reply(200, {"verified_name": "Hotel Test", "display_phone_number": self.display_phone_number,
                               "id": self.phone_number_id, "quality_rating": "GREEN"})
        if request.method == "POST" and match.group(2):
            body = request.json()
            if body.get("messaging_product") != "whatsapp" or not body.get("to") or body.get("type") not in ("text", "template"):
                return graph_error(400, "(#100) Invalid parameter", 100)
            wamid = f"wamid.FAKE{next(self._ids):06d}"
            self.sent_ids.append(wamid)
            return Reply(200, {"messaging_product": "whatsapp", "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                               "messages": [{"id": wamid}]})
        return graph_error(400, "Unsupported request", 100, "GraphMethodException")
