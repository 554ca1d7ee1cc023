"""Encryption at rest for secrets a service must read back (e.g. a partner's signing secret).

Fernet (AES-128-CBC + HMAC-SHA256) with a key from the environment in production and a key created
on first use under the state directory in development — the same arrangement as the CPR vault.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from tovholder.settings import Settings


def dev_secret(settings: Settings, name: str, make) -> bytes:
    """A development secret kept (0600) under the state directory, created on first use."""
    path: Path = settings.state_dir / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first
            return path.read_bytes().strip()
        with os.fdopen(fd, "wb") as f:
            f.write(make())
    return path.read_bytes().strip()


class SecretBox:
    def __init__(self, settings: Settings) -> None:
        if settings.secret_box_key is not None:
            key = settings.secret_box_key.get_secret_value().encode()
        elif settings.is_production:
            raise RuntimeError("TOVHOLDER_SECRET_BOX_KEY must be set in production (a Fernet key)")
        else:
            key = dev_secret(settings, "secret-box-key", Fernet.generate_key)
        self._fernet = Fernet(key)

    def encrypt(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise RuntimeError("a stored secret cannot be decrypted with the configured TOVHOLDER_SECRET_BOX_KEY") from None
