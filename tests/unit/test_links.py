"""Catalog-link tokens: round trip, compactness, and every kind of damage or forgery refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import string

import pytest
from ulid import ULID

from leadbot.domain import LinkNotFound
from leadbot.links import (
    MAC_BYTES,
    CatalogLink,
    encode_link,
    tenant_key,
    verify_link,
)

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
LEAD = "01JD4X5Z8QW3N7V2K6M9P0R1ST"
LINK = CatalogLink(tenant_id="demo", lead_id=LEAD, catalog_id="marina-residences")
URL_SAFE = set(string.ascii_letters + string.digits + "-_")


def _raw(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def _token(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_token_round_trips_and_is_url_safe_and_compact() -> None:
    token = encode_link(KEY, LINK)
    assert verify_link(KEY, token) == LINK
    assert set(token) <= URL_SAFE
    assert len(token) <= 75
    long_ids = CatalogLink(
        tenant_id="palm-realty-dubai", lead_id=LEAD, catalog_id="marina-2br-2026"
    )
    assert len(encode_link(KEY, long_ids)) <= 100


def test_tokens_are_deterministic_and_differ_per_lead_catalog_and_tenant() -> None:
    other_lead = CatalogLink(tenant_id="demo", lead_id=str(ULID()), catalog_id=LINK.catalog_id)
    other_catalog = CatalogLink(tenant_id="demo", lead_id=LEAD, catalog_id="price-list")
    other_tenant = CatalogLink(tenant_id="palm", lead_id=LEAD, catalog_id=LINK.catalog_id)
    tokens = {encode_link(KEY, link) for link in (LINK, other_lead, other_catalog, other_tenant)}
    assert len(tokens) == 4
    assert encode_link(KEY, LINK) == encode_link(KEY, LINK)


@pytest.mark.parametrize("position", range(len(encode_link(KEY, LINK))))
def test_changing_any_character_invalidates_the_token(position: int) -> None:
    token = encode_link(KEY, LINK)
    for replacement in ("A", "z", "-"):
        if token[position] == replacement:
            continue
        tampered = token[:position] + replacement + token[position + 1 :]
        with pytest.raises(LinkNotFound):
            verify_link(KEY, tampered)


def test_flipping_any_bit_of_the_bytes_invalidates_the_token() -> None:
    raw = _raw(encode_link(KEY, LINK))
    for index in range(len(raw)):
        for bit in range(8):
            damaged = bytearray(raw)
            damaged[index] ^= 1 << bit
            with pytest.raises(LinkNotFound):
                verify_link(KEY, _token(bytes(damaged)))


def test_truncated_and_extended_tokens_are_invalid() -> None:
    token = encode_link(KEY, LINK)
    for length in range(len(token)):
        with pytest.raises(LinkNotFound):
            verify_link(KEY, token[:length])
    for extra in ("A", "AA", "AAAA", "="):
        with pytest.raises(LinkNotFound):
            verify_link(KEY, token + extra)


def test_a_token_never_verifies_for_another_tenant() -> None:
    """Rewriting the tenant bytes, or signing with another tenant's key, gets nowhere."""
    raw = _raw(encode_link(KEY, LINK))
    assert raw[17] == len(b"demo")
    rewritten = raw[:18] + b"palm" + raw[22:]  # same length, other tenant, same MAC
    with pytest.raises(LinkNotFound):
        verify_link(KEY, _token(rewritten))
    # A MAC made with demo's derived key over a payload naming "palm" is still refused.
    payload = rewritten[:-MAC_BYTES]
    mac = hmac.new(tenant_key(KEY, "demo"), payload, hashlib.sha256).digest()[:MAC_BYTES]
    with pytest.raises(LinkNotFound):
        verify_link(KEY, _token(payload + mac))
    assert tenant_key(KEY, "demo") != tenant_key(KEY, "palm")


def test_a_token_signed_under_another_deployment_key_is_invalid() -> None:
    with pytest.raises(LinkNotFound):
        verify_link(OTHER_KEY, encode_link(KEY, LINK))


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "x",
        "not a token",
        "%%%%",
        "AAAA" * 20,
        "A" * 10_000,
        "ü" * 70,
        "abc/def+ghi",
        "../../etc/passwd",
    ],
)
def test_garbage_is_invalid(garbage: str) -> None:
    with pytest.raises(LinkNotFound):
        verify_link(KEY, garbage)


def test_standard_base64_spelling_and_padding_are_refused() -> None:
    token = encode_link(KEY, LINK)
    padded = token + "=" * (-len(token) % 4)
    standard = token.replace("-", "+").replace("_", "/")
    for variant in {padded, standard} - {token}:
        with pytest.raises(LinkNotFound):
            verify_link(KEY, variant)


def test_an_unknown_version_is_refused() -> None:
    raw = bytearray(_raw(encode_link(KEY, LINK)))
    raw[0] = 2
    with pytest.raises(LinkNotFound):
        verify_link(KEY, _token(bytes(raw)))


def test_ids_that_cannot_travel_and_weak_keys_are_programming_errors() -> None:
    with pytest.raises(ValueError):
        encode_link(KEY, CatalogLink(tenant_id="demo", lead_id="not-a-ulid", catalog_id="c"))
    with pytest.raises(ValueError):
        encode_link(KEY, CatalogLink(tenant_id="", lead_id=LEAD, catalog_id="c"))
    with pytest.raises(ValueError):
        encode_link(KEY, CatalogLink(tenant_id="demo", lead_id=LEAD, catalog_id="c" * 65))
    with pytest.raises(ValueError):
        encode_link(b"short", LINK)
    with pytest.raises(ValueError):
        verify_link(b"", encode_link(KEY, LINK))
