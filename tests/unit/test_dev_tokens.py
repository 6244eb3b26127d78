"""Development id tokens (local/auth.py): what verifies, what is refused, the claims' shape."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.auth import (
    ExpiredToken,
    InvalidToken,
    User,
    apigw_claims,
    bearer_token,
    id_claims,
    mint,
    verify,
)
from local.seed import DEMO_USERS

SECRET = b"unit-test-dev-token-key"
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
AGENT = User(sub="0b9d-agent", email="agent@demo.example", tenant_id="demo", role="agent")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forge(header: dict[str, Any], claims: dict[str, Any], secret: bytes = SECRET) -> str:
    """A token signed with HMAC-SHA256 over any header: for tokens mint() would never make."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _token(**overrides: Any) -> str:
    return mint({**id_claims(AGENT, NOW), **overrides}, SECRET)


def test_a_minted_token_verifies_to_its_claims() -> None:
    claims = verify(_token(), SECRET, NOW + timedelta(days=29))
    assert claims["sub"] == "0b9d-agent"
    assert claims["cognito:username"] == "0b9d-agent"
    assert claims["email"] == "agent@demo.example"
    assert claims["custom:tenant_id"] == "demo"
    assert claims["custom:role"] == "agent"
    assert claims["token_use"] == "id"
    assert claims["exp"] - claims["iat"] == 30 * 86400


def test_the_token_is_a_compact_hs256_jwt() -> None:
    header_part, payload_part, signature = _token().split(".")
    header = json.loads(base64.urlsafe_b64decode(header_part + "=="))
    assert header == {"alg": "HS256", "typ": "JWT", "kid": "leadbot-local"}
    assert "=" not in header_part + payload_part + signature
    assert len(base64.urlsafe_b64decode(signature + "=")) == 32


def test_an_expired_token_is_refused_as_expired() -> None:
    token = _token()
    exp = datetime.fromtimestamp(id_claims(AGENT, NOW)["exp"], UTC)
    verify(token, SECRET, exp - timedelta(seconds=1))
    with pytest.raises(ExpiredToken):
        verify(token, SECRET, exp)


def test_a_token_signed_with_another_key_is_refused() -> None:
    with pytest.raises(InvalidToken) as caught:
        verify(mint(id_claims(AGENT, NOW), b"another-stack's-key"), SECRET, NOW)
    assert not isinstance(caught.value, ExpiredToken)


def test_a_tampered_payload_is_refused() -> None:
    header_part, _, signature = _token().split(".")
    other = {**id_claims(AGENT, NOW), "custom:tenant_id": "demo2", "custom:role": "admin"}
    forged_payload = _b64(json.dumps(other).encode())
    with pytest.raises(InvalidToken):
        verify(f"{header_part}.{forged_payload}.{signature}", SECRET, NOW)


def test_a_tampered_signature_is_refused() -> None:
    token = _token()
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(InvalidToken):
        verify(flipped, SECRET, NOW)


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "none", "typ": "JWT", "kid": "leadbot-local"},
        {"alg": "None", "kid": "leadbot-local"},
        {"alg": "HS512", "kid": "leadbot-local"},
        {"alg": "RS256", "kid": "leadbot-local"},
        {"kid": "leadbot-local"},
        {"alg": "HS256"},
        {"alg": "HS256", "kid": "another-key"},
    ],
)
def test_only_hs256_under_our_key_id_is_accepted(header: dict[str, Any]) -> None:
    claims = id_claims(AGENT, NOW)
    with pytest.raises(InvalidToken):
        verify(_forge(header, claims), SECRET, NOW)


def test_alg_none_without_a_signature_is_refused() -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(id_claims(AGENT, NOW)).encode())
    for token in (f"{header}.{payload}.", f"{header}.{payload}"):
        with pytest.raises(InvalidToken):
            verify(token, SECRET, NOW)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "..",
        "!!!.@@@.###",
        "eyJhbGciOiJIUzI1NiJ9=.e30.sig",
        f"{_b64(b'not json')}.{_b64(b'{}')}.sig",
        f"{_b64(b'[1, 2]')}.{_b64(b'{}')}.sig",
        f"{_b64(bytes([0xFF, 0xFE]))}.{_b64(b'{}')}.sig",
        "x" * 10_000,
    ],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        verify(token, SECRET, NOW)


def test_a_payload_that_is_not_an_object_is_refused_even_when_signed() -> None:
    header = {"alg": "HS256", "typ": "JWT", "kid": "leadbot-local"}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(b'[1]')}"
    signature = _b64(hmac.new(SECRET, signing_input.encode(), hashlib.sha256).digest())
    with pytest.raises(InvalidToken):
        verify(f"{signing_input}.{signature}", SECRET, NOW)


@pytest.mark.parametrize(
    "overrides",
    [
        {"token_use": "access"},
        {"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"},
        {"custom:tenant_id": ""},
        {"custom:role": None},
        {"sub": 42},
        {"exp": "2099-01-01"},
        {"exp": True},
    ],
)
def test_signed_tokens_without_the_claims_we_rely_on_are_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(InvalidToken):
        verify(_token(**overrides), SECRET, NOW)


def test_claims_are_strings_as_api_gateway_passes_them() -> None:
    claims = apigw_claims(verify(_token(), SECRET, NOW))
    assert claims == {
        "sub": "0b9d-agent",
        "email": "agent@demo.example",
        "email_verified": "true",
        "cognito:username": "0b9d-agent",
        "custom:tenant_id": "demo",
        "custom:role": "agent",
        "token_use": "id",
        "iss": "https://cognito-idp.local/leadbot-local",
        "aud": "leadbot-local-dashboard",
        "auth_time": str(int(NOW.timestamp())),
        "iat": "Sat Nov 21 10:00:00 UTC 2026",
        "exp": "Mon Dec 21 10:00:00 UTC 2026",
    }


def test_bearer_prefix_is_optional() -> None:
    assert bearer_token("abc.def.ghi") == "abc.def.ghi"
    assert bearer_token("Bearer abc.def.ghi") == "abc.def.ghi"
    assert bearer_token("Bearer ") is None
    assert bearer_token("") is None
    assert bearer_token(None) is None
    # Anything else is left as it is, and then fails verification as a malformed token.
    assert bearer_token("bearer abc") == "bearer abc"


def test_the_demo_users() -> None:
    assert {name: (u.email, u.tenant_id, u.role) for name, u in DEMO_USERS.items()} == {
        "admin": ("admin@demo.example", "demo", "admin"),
        "agent": ("agent@demo.example", "demo", "agent"),
        "demo2_agent": ("agent@demo2.example", "demo2", "agent"),
        "demo2_admin": ("admin@demo2.example", "demo2", "admin"),
    }
    assert len({u.sub for u in DEMO_USERS.values()}) == 4
