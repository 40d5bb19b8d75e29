"""Encryption of secrets meritline must read back (webhook signing secrets), with a key kept
outside the database: a leaked database or backup does not leak the secrets.

Our own credentials (API tokens) are hashed instead; a webhook secret cannot be, because
verifying a signature needs the secret itself.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from meritline.config import Settings
from meritline.errors import ConfigurationError

MISSING_KEY = (
    "Cannot decrypt a stored connector secret: the key it was encrypted with is not "
    "configured. Set MERITLINE_SECRET_KEY (or MERITLINE_SECRET_KEY_FILE) to the original key, "
    "or add the connector again with its secret."
)


def _key(settings: Settings, *, create: bool) -> bytes | None:
    if settings.secret_key:
        return settings.secret_key.encode()
    path = Path(settings.secret_key_file)
    if path.exists():
        return path.read_bytes().strip()
    if not create:
        return None
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
    return key


def _fernet(key: bytes) -> Fernet:
    try:
        return Fernet(key)
    except ValueError:
        raise ConfigurationError(
            "MERITLINE_SECRET_KEY (or the key file) is not a Fernet key: 32 url-safe "
            "base64-encoded bytes."
        ) from None


def encrypt(settings: Settings, secret: str) -> str:
    """``secret`` encrypted with the configured key (created on first use when there is none)."""
    key = _key(settings, create=True)
    assert key is not None
    return _fernet(key).encrypt(secret.encode()).decode()


def decrypt(settings: Settings, ciphertext: str) -> str:
    """The secret back; ``ConfigurationError`` when the key is missing or is not the one used."""
    key = _key(settings, create=False)
    if key is None:
        raise ConfigurationError(MISSING_KEY)
    try:
        return _fernet(key).decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise ConfigurationError(MISSING_KEY) from None
