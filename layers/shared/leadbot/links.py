"""Signed catalog-link tokens: pure encode and verify under a key the caller passes in.

A token is the URL-safe base64 (no padding) of

    version (1 byte) | lead ULID (16) | tenant length (1) | tenant id | catalog id | MAC (16)

where MAC is HMAC-SHA256 truncated to 128 bits, keyed with a per-tenant key derived from the
deployment's signing key. A token of one tenant therefore never verifies for another, even if
its tenant bytes are rewritten. Typical ids make tokens of about 70 characters.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

from ulid import ULID

from leadbot.domain import LinkNotFound

VERSION = 1
MAC_BYTES = 16
ULID_BYTES = 16
MAX_TENANT_BYTES = 63
MAX_CATALOG_BYTES = 64
MIN_KEY_BYTES = 16
_HEADER = 1 + ULID_BYTES + 1
_MAX_TOKEN_CHARS = 4 * (_HEADER + MAX_TENANT_BYTES + MAX_CATALOG_BYTES + MAC_BYTES) // 3 + 4
_DERIVATION = b"leadbot/catalog-link/v1\x00"


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogLink:
    """What a token says: this lead of this tenant opens this catalog."""

    tenant_id: str
    lead_id: str  # a ULID
    catalog_id: str


def encode_link(key: bytes, link: CatalogLink) -> str:
    """The token of `link`; ValueError if an id cannot travel in one (a bug, not user input)."""
    _check_key(key)
    tenant = link.tenant_id.encode()
    catalog = link.catalog_id.encode()
    if not 1 <= len(tenant) <= MAX_TENANT_BYTES:
        raise ValueError(f"tenant id must be 1-{MAX_TENANT_BYTES} bytes: {link.tenant_id!r}")
    if not 1 <= len(catalog) <= MAX_CATALOG_BYTES:
        raise ValueError(f"catalog id must be 1-{MAX_CATALOG_BYTES} bytes: {link.catalog_id!r}")
    lead = ULID.from_str(link.lead_id).bytes
    payload = bytes([VERSION]) + lead + bytes([len(tenant)]) + tenant + catalog
    raw = payload + _mac(key, link.tenant_id, payload)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def verify_link(key: bytes, token: str) -> CatalogLink:
    """The link a token carries, or LinkNotFound if it is malformed, forged or damaged."""
    _check_key(key)
    raw = _decode(token)
    if len(raw) < _HEADER + 2 + MAC_BYTES or raw[0] != VERSION:
        raise LinkNotFound("malformed token")
    payload, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
    size = payload[_HEADER - 1]
    tenant_bytes = payload[_HEADER : _HEADER + size]
    catalog_bytes = payload[_HEADER + size :]
    if not 1 <= size <= MAX_TENANT_BYTES or not 1 <= len(catalog_bytes) <= MAX_CATALOG_BYTES:
        raise LinkNotFound("malformed token")
    try:
        tenant_id = tenant_bytes.decode()
        catalog_id = catalog_bytes.decode()
    except UnicodeDecodeError:
        raise LinkNotFound("malformed token") from None
    if not hmac.compare_digest(mac, _mac(key, tenant_id, payload)):
        raise LinkNotFound("bad signature")
    lead_id = str(ULID.from_bytes(payload[1 : 1 + ULID_BYTES]))
    return CatalogLink(tenant_id=tenant_id, lead_id=lead_id, catalog_id=catalog_id)


def tenant_key(key: bytes, tenant_id: str) -> bytes:
    """The tenant's own signing key, derived from the deployment's (HMAC as a KDF)."""
    return hmac.new(key, _DERIVATION + tenant_id.encode(), hashlib.sha256).digest()


def _mac(key: bytes, tenant_id: str, payload: bytes) -> bytes:
    return hmac.new(tenant_key(key, tenant_id), payload, hashlib.sha256).digest()[:MAC_BYTES]


def _decode(token: str) -> bytes:
    """Strict URL-safe base64 without padding; only the canonical spelling of the bytes."""
    if not token or len(token) > _MAX_TOKEN_CHARS or not token.isascii():
        raise LinkNotFound("malformed token")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise LinkNotFound("malformed token") from None
    # b64decode ignores stray characters and unused low bits; a token must be exactly the
    # encoding of its bytes, so that no two spellings of one token exist.
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != token:
        raise LinkNotFound("malformed token")
    return raw


def _check_key(key: bytes) -> None:
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the link signing key must be at least {MIN_KEY_BYTES} bytes")
