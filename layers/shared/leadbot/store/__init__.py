"""Persistence: pynamodb models and repositories over the DynamoDB tables."""

from leadbot.store.deals import BrokerRepository, DealRepository
from leadbot.store.models import Tables, bind
from leadbot.store.pages import Key, LeadPages, Walk
from leadbot.store.repositories import (
    ADMIN_STREAM,
    GAPS_STREAM,
    TENANT_SETTINGS,
    IdentityRepository,
    IdentityTaken,
    LeadRepository,
    TenantRepository,
    TimelineRepository,
    TimelineUnavailable,
)
from leadbot.store.scores import SHARDS, ReadCount, ScoredLead, ScoreRepository, score_key

__all__ = [
    "ADMIN_STREAM",
    "GAPS_STREAM",
    "SHARDS",
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
