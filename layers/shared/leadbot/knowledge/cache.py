"""Brochure indexes kept per warm Lambda: one per tenant, rebuilt only when its brochures or
listings change (the fingerprint says so), the least recently used tenant dropped first.

The answers service (services.answers) keeps one IndexCache per warm Lambda and, per question:

    index = indexes.get(tenant_id, fingerprint(brochure_ids, listings),
                        lambda: Index.build(repos.knowledge.chunks(tenant_id, brochure_ids)))
    passages = retrieve(question, index, listings)
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable

from leadbot.domain.listings import Property
from leadbot.knowledge.bm25 import Index

MAX_TENANTS = 32  # a brochure's index is ~100 KB; a warm Lambda serves a handful of tenants


def fingerprint(brochure_ids: Iterable[str], listings: Iterable[Property] = ()) -> str:
    """What an index was built from: the brochures and each listing's version (or last change),
    in any order."""
    parts = sorted(f"b:{b}" for b in brochure_ids)
    parts += sorted(
        f"l:{p.property_id}:{p.version if p.version is not None else p.updated_at.isoformat()}"
        for p in listings
    )
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


class IndexCache:
    """Indexes by tenant; `get` builds on a miss or a changed fingerprint."""

    def __init__(self, max_tenants: int = MAX_TENANTS) -> None:
        self._entries: OrderedDict[str, tuple[str, Index]] = OrderedDict()
        self._max = max_tenants
        self._lock = threading.Lock()
        self.builds = 0

    def get(self, tenant_id: str, fingerprint: str, build: Callable[[], Index]) -> Index:
        with self._lock:
            entry = self._entries.get(tenant_id)
            if entry is not None and entry[0] == fingerprint:
                self._entries.move_to_end(tenant_id)
                return entry[1]
        index = build()  # outside the lock: a slow store read must not stall other tenants
        with self._lock:
            self.builds += 1
            self._entries[tenant_id] = (fingerprint, index)
            self._entries.move_to_end(tenant_id)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return index

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
