"""Persistence: pynamodb models and repositories over the DynamoDB tables."""

from leadbot.store.models import Tables, bind
from leadbot.store.repositories import (
    ADMIN_STREAM,
    IdentityRepository,
    IdentityTaken,
    LeadRepository,
    TenantRepository,
    TimelineRepository,
    TimelineUnavailable,
)

__all__ = [
    "ADMIN_STREAM",
    "IdentityRepository",
    "IdentityTaken",
    "LeadRepository",
    "Tables",
    "TenantRepository",
    "TimelineRepository",
    "TimelineUnavailable",
    "bind",
]
