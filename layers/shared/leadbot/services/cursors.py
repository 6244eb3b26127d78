"""Page cursors: opaque to clients, checked on the way back in (tenant and key shape)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import TypeVar

from leadbot.services.errors import BadRequest
from leadbot.store import Key, Walk

T = TypeVar("T")
# A filtered page stops after reading this many items, with a cursor to go on from: a rare
# filter must not make one request read a whole tenant.
MAX_EXAMINED = 1_000


def take_page(
    walk: Walk[T], limit: int, keep: Callable[[T], bool] = lambda _: True
) -> tuple[list[T], str | None]:
    """Up to `limit` items of the walk that `keep` accepts, and the cursor to go on from."""
    items: list[T] = []
    for examined, item in enumerate(walk, start=1):
        if keep(item):
            items.append(item)
        if len(items) == limit or examined == MAX_EXAMINED:
            break
    return items, encode_cursor(walk.resume_key())


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
        # DynamoDB refuses an empty key value with a ValidationException (a 500 here).
        isinstance(v, dict) and len(v) == 1 and isinstance(v.get("S"), str) and v["S"] != ""
        for v in key.values()
    )
    if not ok or (range_key is not None and set(key) != {"tenant_id", range_key}):
        raise BadRequest("cursor is not valid")
    owner = key.get("pk", {}).get("S") if pk is not None else key.get("tenant_id", {}).get("S")
    if owner != (pk if pk is not None else tenant_id):
        raise BadRequest("cursor is not valid")
    return dict(key)
