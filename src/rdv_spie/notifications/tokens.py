"""Invitation tokens: 128 bits derived from the invitation id with the secret key.

Deriving (HMAC-SHA256) instead of storing means the sender can rebuild the link of any
invitation at send time while the database keeps only SHA-256(token): a copy of the database,
a Redis dump or a log line never holds a usable link. Rotating the secret key voids every
link in flight (documented in the README).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from pathlib import Path

TOKEN_BYTES = 16  # 128 bits → 22 base64url characters


def derive(secret_key: bytes, invitation_id: uuid.UUID) -> str:
    """The token of an invitation (22 URL-safe characters)."""
    mac = hmac.new(secret_key, b"invitation\x00" + invitation_id.bytes, hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:TOKEN_BYTES]).rstrip(b"=").decode()


def hash_token(token: str) -> str:
    """What the database keeps and looks up: SHA-256 of the token, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def load_secret_key(configured: str | None, fallback_file: Path) -> bytes:
    """The configured key, or one generated once and kept in ``fallback_file`` (embedded
    default: a laptop or a demo; production sets RDV_SECRET_KEY)."""
    if configured:
        if len(configured) < 32:
            raise ValueError("RDV_SECRET_KEY must be at least 32 characters long")
        return configured.encode()
    if fallback_file.exists():
        return fallback_file.read_text().strip().encode()
    fallback_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    tmp = fallback_file.with_suffix(".tmp")
    tmp.write_text(key + "\n")
    tmp.chmod(0o600)
    try:
        tmp.rename(fallback_file) if not fallback_file.exists() else tmp.unlink()
    except OSError:
        tmp.unlink(missing_ok=True)
    return fallback_file.read_text().strip().encode()
