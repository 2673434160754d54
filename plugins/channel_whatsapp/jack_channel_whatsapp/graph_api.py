"""Calls to the WhatsApp Business Cloud API (Meta Graph API)."""

from __future__ import annotations

from typing import Any

import httpx

from jack_host.contract.interfaces import ComponentHealth, PermanentSendError
from jack_host.kit.provider_http import post, probe

PROVIDER = "the WhatsApp Cloud API"
#: Graph error code for "more than 24 hours since the customer last wrote".
REENGAGEMENT_REQUIRED = 131047


def graph_error(response: httpx.Response) -> tuple[str, int | None]:
    """The provider's own error message and code, from ``{"error": {"message", "code"}}``."""
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return response.text[:200] or response.reason_phrase, None
    details = (error.get("error_data") or {}).get("details")
    message = str(error.get("message") or response.reason_phrase)
    if details and details not in message:
        message = f"{message} ({details})"
    code = error.get("code")
    return (f"{message} [code {code}]" if code is not None else message), code


class GraphClient:
    def __init__(self, api_url: str, access_token: str, phone_number_id: str):
        self.api_url = api_url.rstrip("/")
        self.access_token = access_token
        self.phone_number_id = phone_number_id

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    async def send(self, to: str, payload: dict[str, Any]) -> str:
        """POST one message; return its wamid.

        :raises TransientSendError: 429, 5xx or network trouble.
        :raises PermanentSendError: any other refusal; ``code`` attribute set when Meta gave one.
        """
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to.lstrip("+"), **payload}
        url = f"{self.api_url}/{self.phone_number_id}/messages"
        response = await post(url, PROVIDER, graph_error, json=body, headers=self.headers)
        try:
            return str(response.json()["messages"][0]["id"])
        except (ValueError, KeyError, IndexError, TypeError):
            raise PermanentSendError(f"{PROVIDER} accepted the message but returned no message id: {response.text[:200]}") from None

    async def health(self) -> ComponentHealth:
        def ok(response: httpx.Response) -> ComponentHealth:
            # Shown to anyone on /health: say that the number answers, never which number it is.
            return ComponentHealth.connected("the Graph API accepted the access token for the hotel's number")

        return await probe(
            PROVIDER,
            lambda client: client.get(f"{self.api_url}/{self.phone_number_id}", headers=self.headers),
            ok,
            lambda response: graph_error(response)[0],
        )
