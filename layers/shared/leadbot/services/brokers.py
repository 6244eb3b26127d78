"""What admins do with the agency's brokers: add, change, deactivate (never delete)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ulid import ULID

from leadbot import clock
from leadbot.domain import Broker
from leadbot.parsing import parse_phone
from leadbot.services.cursors import decode_cursor, take_page
from leadbot.services.errors import BadRequest
from leadbot.services.runtime import Repositories

MAX_PAGE = 100
# What PATCH may change; None clears the optional ones.
CHANGEABLE = frozenset(
    {"name", "phone", "email", "telegram_chat_id", "active", "away", "max_open_leads"}
)
_REQUIRED = frozenset({"name", "phone", "email", "active", "away"})


@dataclass(frozen=True)
class BrokerPage:
    items: list[Broker]
    next_cursor: str | None


def list_brokers(repos: Repositories, tenant_id: str, cursor: str | None, limit: int) -> BrokerPage:
    """The tenant's brokers, oldest first, inactive ones included (old deals name them)."""
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(f"limit must be between 1 and {MAX_PAGE}")
    start = decode_cursor(cursor, tenant_id, range_key="broker_id")
    walk = repos.brokers.walk(tenant_id, start, page_size=limit)
    items, next_cursor = take_page(walk, limit)
    return BrokerPage(items=items, next_cursor=next_cursor)


def broker(repos: Repositories, tenant_id: str, broker_id: str) -> Broker:
    return repos.brokers.get(tenant_id, broker_id)  # BrokerNotFound for another tenant's id


def create_broker(
    repos: Repositories,
    tenant_id: str,
    *,
    name: str,
    phone: str,
    email: str,
    telegram_chat_id: str | None = None,
    away: bool = False,
    max_open_leads: int | None = None,
    now: Callable[[], datetime] = clock.now,
) -> Broker:
    at = now()
    region = repos.tenants.get(tenant_id).phone_region
    new = Broker(
        tenant_id=tenant_id,
        broker_id=str(ULID.from_datetime(at)),
        name=_name(name),
        phone=_phone(phone, region),
        email=email.strip(),
        telegram_chat_id=telegram_chat_id,
        away=away,
        max_open_leads=max_open_leads,
        created_at=at,
    )
    return repos.brokers.create(new)


def update_broker(
    repos: Repositories,
    tenant_id: str,
    broker_id: str,
    changes: dict[str, Any],
    now: Callable[[], datetime] = clock.now,
) -> Broker:
    """Apply `changes` (field → value, only those given); BadRequest for nulls on required."""
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise BadRequest(f"cannot change {', '.join(sorted(unknown))}")
    if not changes:
        raise BadRequest(f"nothing to change: give any of {', '.join(sorted(CHANGEABLE))}")
    cleared = sorted(name for name, value in changes.items() if value is None and name in _REQUIRED)
    if cleared:
        raise BadRequest(f"{', '.join(cleared)} cannot be empty")
    before = repos.brokers.get(tenant_id, broker_id)
    values = dict(changes)
    if "name" in values:
        values["name"] = _name(values["name"])
    if "phone" in values:
        values["phone"] = _phone(values["phone"], repos.tenants.get(tenant_id).phone_region)
    if "email" in values:
        values["email"] = values["email"].strip()
    after = replace(before, **values)
    if after == before:
        return before
    return repos.brokers.update(after, now())


def deactivate_broker(
    repos: Repositories,
    tenant_id: str,
    broker_id: str,
    now: Callable[[], datetime] = clock.now,
) -> Broker:
    """The broker gets no new deals; it stays, so old deals still name who closed them."""
    before = repos.brokers.get(tenant_id, broker_id)
    if not before.active:
        return before
    return repos.brokers.update(replace(before, active=False), now())


def _name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise BadRequest("a broker needs a name")
    return cleaned


def _phone(phone: str, region: str) -> str:
    e164 = parse_phone(phone, region)
    if e164 is None:
        raise BadRequest("phone is not a valid phone number")
    return e164
