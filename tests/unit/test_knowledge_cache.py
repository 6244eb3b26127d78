"""Indexes cached per warm Lambda: rebuilt only when a tenant's brochures or listings change."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from leadbot.knowledge.bm25 import Index
from leadbot.knowledge.cache import IndexCache, fingerprint
from tests.unit.test_knowledge_retrieval import CHUNKS, LISTINGS


def test_fingerprint_follows_brochures_and_listing_versions_not_their_order() -> None:
    base = fingerprint(["b1", "b2"], LISTINGS)
    assert fingerprint(["b2", "b1"], tuple(reversed(LISTINGS))) == base
    assert fingerprint(["b1"], LISTINGS) != base
    changed = replace(LISTINGS[0], updated_at=LISTINGS[0].updated_at + timedelta(seconds=1))
    assert fingerprint(["b1", "b2"], (changed, *LISTINGS[1:])) != base
    versioned = replace(LISTINGS[0], version=3)
    assert fingerprint(["b1", "b2"], (versioned, *LISTINGS[1:])) != base


def test_cache_builds_once_per_fingerprint_and_drops_the_least_recent_tenant() -> None:
    cache = IndexCache(max_tenants=2)
    built: list[str] = []

    def build(name: str) -> Index:
        built.append(name)
        return Index.build(CHUNKS)

    first = cache.get("t1", "f1", lambda: build("t1"))
    assert cache.get("t1", "f1", lambda: build("again")) is first
    assert cache.get("t1", "f2", lambda: build("t1 changed")) is not first
    cache.get("t2", "f1", lambda: build("t2"))
    cache.get("t1", "f2", lambda: build("never"))  # t1 is now the most recent
    cache.get("t3", "f1", lambda: build("t3"))  # evicts t2
    cache.get("t2", "f1", lambda: build("t2 again"))
    assert built == ["t1", "t1 changed", "t2", "t3", "t2 again"]
    assert cache.builds == 5
