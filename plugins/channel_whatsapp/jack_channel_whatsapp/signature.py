"""Meta's webhook signature: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>``."""

from __future__ import annotations

import hashlib
import hmac


def expected_signature(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_is_valid(app_secret: str, body: bytes, header: str | None) -> bool:
    """Compare in constant time; the hex part is case-insensitive like Meta's own examples."""
    if not header or not app_secret:
        return False
    prefix, _, digest = header.strip().partition("=")
    if prefix.lower() != "sha256" or not digest:
        return False
    return hmac.compare_digest(expected_signature(app_secret, body), "sha256=" + digest.lower())
