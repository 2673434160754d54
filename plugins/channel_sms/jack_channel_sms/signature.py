"""Twilio's request signature (``X-Twilio-Signature``).

Base64 of HMAC-SHA1, keyed with the auth token, over the full URL Twilio called followed by
every POST parameter as name+value, sorted by name (and value, for repeated names).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from collections.abc import Iterable


def compute_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    data = url + "".join(name + value for name, value in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def url_variants(url: str) -> list[str]:
    """The URL as called, plus the same with/without the scheme's default port.

    Twilio signs the URL exactly as configured in its console; a proxy may show us
    ``https://host`` for ``https://host:443`` or the other way round.
    """
    parts = urllib.parse.urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    variants = [url]
    if default is None or not parts.hostname:
        return variants
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if parts.port is None:
        variants.append(urllib.parse.urlunsplit(parts._replace(netloc=f"{host}:{default}")))
    elif parts.port == default:
        variants.append(urllib.parse.urlunsplit(parts._replace(netloc=host)))
    return variants


def signature_is_valid(auth_token: str, url: str, params: Iterable[tuple[str, str]], signature: str | None) -> bool:
    """Constant-time comparison against each acceptable form of ``url``."""
    if not signature or not auth_token:
        return False
    params = list(params)
    results = [hmac.compare_digest(compute_signature(auth_token, candidate, params).encode(), signature.strip().encode())
               for candidate in url_variants(url)]
    return any(results)
