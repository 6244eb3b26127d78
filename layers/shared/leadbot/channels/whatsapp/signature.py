"""Meta's webhook checks: the POST body's signature and the GET subscription handshake."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SIGNATURE_HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


def valid_signature(app_secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is `sha256=<hex HMAC-SHA256 of the raw body under the app secret>`.

    The raw bytes as received, not re-serialised JSON: Meta signs exactly what it sent
    (escaped unicode included). Compared in constant time so timing reveals nothing.
    """
    if not app_secret or not header or not header.startswith(_PREFIX):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len(_PREFIX) :].strip().lower())


def sign(app_secret: str, body: bytes) -> str:
    """The header value Meta would send with `body` (for the local stack and tests)."""
    return _PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verification_challenge(query: Mapping[str, str], verify_token: str) -> str | None:
    """The `hub.challenge` to echo when Meta subscribes with our verify token, else None."""
    if not verify_token or query.get("hub.mode") != "subscribe":
        return None
    token = query.get("hub.verify_token") or ""
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        return None
    challenge = query.get("hub.challenge")
    return challenge or None
