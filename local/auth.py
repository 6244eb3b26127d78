"""Development id tokens of the local stack: HS256 JWTs shaped like Cognito's, and their claims
as API Gateway's Cognito authorizer hands them to a function."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

ALGORITHM: Final = "HS256"
KEY_ID: Final = "leadbot-local"
ISSUER: Final = "https://cognito-idp.local/leadbot-local"
AUDIENCE: Final = "leadbot-local-dashboard"
TOKEN_TTL: Final = timedelta(days=30)
# Real id tokens are ~1 KB; anything far larger is not a token, and is not parsed.
MAX_TOKEN_CHARS: Final = 8192
_HEADER: Final = {"alg": ALGORITHM, "typ": "JWT", "kid": KEY_ID}
# What every LeadBot id token carries; the routes read the caller from these.
REQUIRED_CLAIMS: Final = ("sub", "email", "cognito:username", "custom:tenant_id", "custom:role")


class InvalidToken(ValueError):
    """Not a token this stack signed, or not one it accepts (API Gateway: 401 Unauthorized)."""


class ExpiredToken(InvalidToken):
    """Signed here, but past its `exp` (API Gateway: 401 "The incoming token has expired")."""


@dataclass(frozen=True)
class User:
    """A user of the user pool, as the local stack signs them in."""

    sub: str
    email: str
    tenant_id: str
    role: str


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(part: str) -> bytes:
    # JWTs are unpadded base64url (RFC 7515 §2); anything else is malformed, not "close enough".
    if not part or "=" in part or len(part) % 4 == 1:
        raise InvalidToken("malformed token")
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise InvalidToken("malformed token") from None


def _json_part(part: str) -> dict[str, Any]:
    raw = _b64decode(part)
    try:
        value = json.loads(raw)
    except ValueError:  # UnicodeDecodeError included
        raise InvalidToken("malformed token") from None
    if not isinstance(value, dict):
        raise InvalidToken("malformed token")
    return value


def _sign(signing_input: str, secret: bytes) -> str:
    return _b64encode(hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest())


def id_claims(user: User, now: datetime, ttl: timedelta = TOKEN_TTL) -> dict[str, Any]:
    """The claims of a Cognito id token for `user` (email sign-in: the username is the sub)."""
    issued = int(now.timestamp())
    return {
        "sub": user.sub,
        "email": user.email,
        "email_verified": True,
        "cognito:username": user.sub,
        "custom:tenant_id": user.tenant_id,
        "custom:role": user.role,
        "token_use": "id",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "auth_time": issued,
        "iat": issued,
        "exp": issued + int(ttl.total_seconds()),
    }


def mint(claims: Mapping[str, Any], secret: bytes) -> str:
    """A compact HS256 JWT of `claims`."""
    header = _b64encode(json.dumps(_HEADER, separators=(",", ":")).encode())
    payload = _b64encode(json.dumps(dict(claims), separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}"
    return f"{signing_input}.{_sign(signing_input, secret)}"


def verify(token: str, secret: bytes, now: datetime) -> dict[str, Any]:
    """The claims of an id token this stack signed with `secret`, unexpired at `now`.

    Only HS256 under our key id is accepted: `alg: none` and any other algorithm are refused
    before the signature is looked at, so the header cannot choose how it is checked.
    """
    if len(token) > MAX_TOKEN_CHARS:
        raise InvalidToken("malformed token")
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("malformed token")
    header_part, payload_part, signature = parts
    header = _json_part(header_part)
    if header.get("alg") != ALGORITHM or header.get("kid") != KEY_ID:
        raise InvalidToken("unsupported token header")
    expected = _sign(f"{header_part}.{payload_part}", secret)
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace")):
        raise InvalidToken("bad signature")
    claims = _json_part(payload_part)
    if claims.get("token_use") != "id" or claims.get("iss") != ISSUER:
        raise InvalidToken("not an id token of this user pool")
    for name in REQUIRED_CLAIMS:
        if not isinstance(claims.get(name), str) or not claims[name]:
            raise InvalidToken(f"claim {name} missing")
    exp = claims.get("exp")
    if not isinstance(exp, int) or isinstance(exp, bool):
        raise InvalidToken("claim exp missing")
    if now.timestamp() >= exp:
        raise ExpiredToken("token expired")
    return claims


def _java_date(epoch: int) -> str:
    # API Gateway renders the token's iat and exp the way Java's Date.toString does, in UTC.
    return datetime.fromtimestamp(epoch, UTC).strftime("%a %b %d %H:%M:%S UTC %Y")


def apigw_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """`requestContext.authorizer.claims` as a REST API's Cognito authorizer passes them:
    every value a string, booleans as "true"/"false", iat and exp as dates."""
    out: dict[str, str] = {}
    for name, value in claims.items():
        if name in ("iat", "exp") and isinstance(value, int) and not isinstance(value, bool):
            out[name] = _java_date(value)
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, str):
            out[name] = value
        else:
            out[name] = json.dumps(value, separators=(",", ":"))
    return out


def bearer_token(header: str | None) -> str | None:
    """The token in an Authorization header: the whole value, or what follows "Bearer "."""
    if not header:
        return None
    token = header.removeprefix("Bearer ")
    return token or None
