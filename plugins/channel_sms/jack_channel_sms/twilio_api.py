"""Calls to Twilio's REST API (2010-04-01)."""

from __future__ import annotations

import httpx

from jack_host.contract.interfaces import ComponentHealth, PermanentSendError
from jack_host.kit.provider_http import post, probe

PROVIDER = "Twilio"
#: "Attempt to send to unsubscribed recipient".
UNSUBSCRIBED_RECIPIENT = 21610


def twilio_error(response: httpx.Response) -> tuple[str, int | None]:
    """Twilio's ``message`` and ``code`` from ``{"code", "message", "more_info", "status"}``."""
    try:
        document = response.json()
        message, code = str(document.get("message") or response.reason_phrase), document.get("code")
    except (ValueError, AttributeError):
        return response.text[:200] or response.reason_phrase, None
    return (f"{message} (Twilio error {code})" if code is not None else message), code


class TwilioClient:
    def __init__(self, api_url: str, account_sid: str, auth_token: str):
        self.api_url = api_url.rstrip("/")
        self.account_sid = account_sid
        self.auth = httpx.BasicAuth(account_sid, auth_token)

    async def send(self, form: dict[str, str]) -> str:
        """Create a Message; return its SID.

        :raises TransientSendError: 429, 5xx or network trouble.
        :raises PermanentSendError: other refusals (``code`` attribute: Twilio's error code).
        """
        url = f"{self.api_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        response = await post(url, PROVIDER, twilio_error, data=form, auth=self.auth)
        try:
            return str(response.json()["sid"])
        except (ValueError, KeyError, TypeError):
            raise PermanentSendError(f"Twilio accepted the message but returned no SID: {response.text[:200]}") from None

    async def health(self) -> ComponentHealth:
        def ok(response: httpx.Response) -> ComponentHealth:
            # Shown to anyone on /health: the account's state, never its SID or name.
            account = response.json()
            if account.get("status") not in (None, "active"):
                return ComponentHealth.error(f"the Twilio account is {account.get('status')}")
            return ComponentHealth.connected("the Twilio account is active")

        return await probe(
            PROVIDER,
            lambda client: client.get(f"{self.api_url}/2010-04-01/Accounts/{self.account_sid}.json", auth=self.auth),
            ok,
            lambda response: twilio_error(response)[0],
        )
