"""Encrypting dashboard secrets: Fernet under a key derived from ``ENCRYPTION_KEY`` by scrypt.

The salt is random per database and stored next to a check token (a known text, encrypted), so
a wrong ``ENCRYPTION_KEY`` is reported as such instead of as a pile of undecryptable values.
"""

from __future__ import annotations

import base64
import os

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

#: scrypt's cost: 2**15 x 8 x 1 is about 32 MiB and ~0.1 s, done once per key and process.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
SALT_BYTES = 16
CHECK_TEXT = b"jack-app-settings-key-check"


class SecretKeyError(ValueError):
    """``ENCRYPTION_KEY`` is missing, or it is not the key the stored secrets were encrypted with."""


def new_salt() -> bytes:
    return os.urandom(SALT_BYTES)


def derive_fernet(encryption_key: str, salt: bytes) -> Fernet:
    """The Fernet for ``encryption_key`` and ``salt`` (scrypt to 32 bytes, url-safe base64)."""
    if not encryption_key:
        raise SecretKeyError("ENCRYPTION_KEY is not set: set it (32+ random characters, e.g. `openssl rand -hex 32`) to store secrets")
    raw = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(encryption_key.encode())
    return Fernet(base64.urlsafe_b64encode(raw))


def check_token(fernet: Fernet) -> str:
    return fernet.encrypt(CHECK_TEXT).decode()


def opens(fernet: Fernet, token: str) -> bool:
    """True when ``fernet`` decrypts the stored check ``token``."""
    try:
        return fernet.decrypt(token.encode()) == CHECK_TEXT
    except InvalidToken:
        return False


def encrypt(fernet: Fernet, text: str) -> str:
    return fernet.encrypt(text.encode()).decode()


def decrypt(fernet: Fernet, token: str) -> str:
    try:
        return fernet.decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretKeyError("a stored secret does not decrypt with ENCRYPTION_KEY") from None
