"""Persistence: pynamodb models and repositories over the DynamoDB tables.

Brokers, deals, scores and pages load on first use: the webhooks, whose cold start counts, never
touch them.
"""

from typing import TYPE_CHECKING, Any

from leadbot.store.models import Tables, bind
from leadbot.store.repositories import (
    ADMIN_STREAM,
    GAPS_STREAM,
    TENANT_CHANNEL,
    TENANT_SETTINGS,
    IdentityRepository,
    IdentityTaken,
    LeadRepository,
    TenantRepository,
    TimelineRepository,
    TimelineUnavailable,
)

if TYPE_CHECKING:
    from leadbot.store.deals import BrokerRepository, DealRepository
    from leadbot.store.pages import Key, LeadPages, Walk
    from leadbot.store.scores import SHARDS, ReadCount, ScoredLead, ScoreRepository, score_key

_LAZY = {
    "BrokerRepository": "deals",
    "DealRepository": "deals",
    "Key": "pages",
    "LeadPages": "pages",
    "Walk": "pages",
    "SHARDS": "scores",
    "ReadCount": "scores",
    "ScoredLead": "scores",
    "ScoreRepository": "scores",
    "score_key": "scores",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"leadbot.store.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ADMIN_STREAM",
    "GAPS_STREAM",
    "SHARDS",
    "TENANT_CHANNEL",
    "TENANT_SETTINGS",
    "BrokerRepository",
    "DealRepository",
    "IdentityRepository",
    "IdentityTaken",
    "Key",
    "LeadPages",
    "LeadRepository",
    "ReadCount",
    "ScoreRepository",
    "ScoredLead",
    "Tables",
    "TenantRepository",
    "TimelineRepository",
    "TimelineUnavailable",
    "Walk",
    "bind",
    "score_key",
]
