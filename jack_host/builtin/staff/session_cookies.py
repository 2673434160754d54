"""Browser sign-in: the staff tokens kept in cookies, and the CSRF token that goes with them.

The dashboard signs a browser in by setting three cookies, all ``HttpOnly`` and
``SameSite=Strict`` (and ``Secure`` when the request came over https):

- ``jack_access``: the JWT access token (as ``Authorization: Bearer`` would carry it);
- ``jack_refresh``: the refresh token, used by the dashboard to renew ``jack_access``;
- ``jack_csrf``: a random nonce.  The CSRF token is an HMAC of it under ``JWT_SECRET``,
  so a cookie planted by someone else (a sibling sub-domain) does not come with a valid token.
  Pages put the token in forms (``csrf_token``) and in ``<meta name="csrf-token">`` for
  ``fetch`` calls, which send it as ``X-CSRF-Token``.

The staff API accepts ``jack_access`` when no ``Authorization`` header is sent, and then
insists on a matching ``X-CSRF-Token`` for every state-changing method.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

ACCESS_COOKIE = "jack_access"
REFRESH_COOKIE = "jack_refresh"
CSRF_COOKIE = "jack_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def new_csrf_nonce() -> str:
    return secrets.token_urlsafe(24)


def csrf_token(secret: str, nonce: str) -> str:
    """The token a form or header must carry for the browser holding ``nonce``."""
    return hmac.new(secret.encode(), b"jack-csrf:" + nonce.encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret: str, nonce: str | None, presented: str | None) -> bool:
    if not nonce or not presented:
        return False
    return hmac.compare_digest(csrf_token(secret, nonce), presented.strip())


def is_https(req: Any) -> bool:
    scheme = getattr(req.context, "scheme", None) or req.scheme
    return str(scheme).lower() in ("https", "wss")


def set_cookie(req: Any, resp: Any, name: str, value: str, max_age: int | None) -> None:
    resp.set_cookie(
        name, value, max_age=max_age, path="/", secure=is_https(req), http_only=True, same_site="Strict"
    )


def clear_cookie(req: Any, resp: Any, name: str) -> None:
    set_cookie(req, resp, name, "", max_age=0)
