"""Page cursors: opaque to clients, checked on the way back in (tenant and key shape)."""

from __future__ import annotations

import base64
import binascii
import json

from leadbot.services.errors import BadRequest
from leadbot.store import Key


def encode_cursor(key: Key | None) -> str | None:
    if key is None:
        return None
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(
    cursor: str | None, tenant_id: str, *, pk: str | None = None, range_key: str | None = None
) -> Key | None:
    """The key a cursor stands for; BadRequest if it is not one of ours for this tenant (and,
    given `range_key`, of a table keyed by tenant_id and that)."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise BadRequest("cursor is not valid") from None
    ok = isinstance(key, dict) and all(
        isinstance(v, dict) and len(v) == 1 and isinstance(v.get("S"), str) for v in key.values()
    )
    if not ok or (range_key is not None and set(key) != {"tenant_id", range_key}):
        raise BadRequest("cursor is not valid")
    owner = key.get("pk", {}).get("S") if pk is not None else key.get("tenant_id", {}).get("S")
    if owner != (pk if pk is not None else tenant_id):
        raise BadRequest("cursor is not valid")
    return dict(key)
