"""Deals on leads: record one, move it to won or lost, list them, and the monthly revenue.

Commissions are computed by `domain.commissions` whenever the value or broker changes; rates
are the tenant's at creation (the broker's may be overridden then) and stay with the deal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ulid import ULID

from leadbot import clock
from leadbot.domain import (
    Deal,
    DealConflict,
    DealStatus,
    Money,
    TimelineEntry,
    TimelineKind,
    commissions,
    fits_currency,
    to_minor,
)
from leadbot.services.cursors import decode_cursor, take_page
from leadbot.services.errors import BadRequest
from leadbot.services.runtime import Repositories

MAX_PAGE = 100
MAX_CONFLICT_RETRIES = 5
CHANGEABLE = frozenset({"status", "value", "currency", "broker_id"})


@dataclass(frozen=True)
class Month:
    """A calendar month in UTC, "2026-05"."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        try:
            year, month = (int(part) for part in text.split("-"))
            datetime(year, month, 1, tzinfo=UTC)
        except ValueError:
            raise BadRequest(f"{text!r} is not a month (YYYY-MM)") from None
        return cls(year, month)

    @classmethod
    def of(cls, at: datetime) -> Month:
        at = at.astimezone(UTC)
        return cls(at.year, at.month)

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The start of the next month."""
        year, month = (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)
        return datetime(year, month, 1, tzinfo=UTC)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def _ulid_bounds(month: Month) -> tuple[str, str]:
    """The smallest and largest ULIDs of instants within the month (ULIDs sort by time)."""
    first = int(month.start.timestamp() * 1000)
    last = int(month.end.timestamp() * 1000) - 1
    low = ULID.from_bytes(first.to_bytes(6, "big") + bytes(10))
    high = ULID.from_bytes(last.to_bytes(6, "big") + b"\xff" * 10)
    return str(low), str(high)


@dataclass(frozen=True, kw_only=True)
class DealFilter:
    status: DealStatus | None = None
    broker_id: str | None = None
    month: Month | None = None  # created in that month (UTC)

    def matches(self, deal: Deal) -> bool:
        if self.status is not None and deal.status is not self.status:
            return False
        if self.broker_id is not None and deal.broker_id != self.broker_id:
            return False
        return self.month is None or Month.of(deal.created_at) == self.month


@dataclass(frozen=True)
class DealPage:
    items: list[Deal]
    next_cursor: str | None


def list_deals(
    repos: Repositories, tenant_id: str, filters: DealFilter, cursor: str | None, limit: int
) -> DealPage:
    """One page of the tenant's deals, newest first; a month is one key range."""
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(f"limit must be between 1 and {MAX_PAGE}")
    start = decode_cursor(cursor, tenant_id, range_key="deal_id")
    bounds = _ulid_bounds(filters.month) if filters.month else None
    plain = filters.status is None and filters.broker_id is None
    walk = repos.deals.walk(
        tenant_id, start, page_size=limit if plain else MAX_PAGE, between=bounds
    )
    items, next_cursor = take_page(walk, limit, filters.matches)
    return DealPage(items=items, next_cursor=next_cursor)


def deal(repos: Repositories, tenant_id: str, deal_id: str) -> Deal:
    return repos.deals.get(tenant_id, deal_id)  # DealNotFound for another tenant's id


def create_deal(
    repos: Repositories,
    tenant_id: str,
    *,
    lead_id: str,
    value: Decimal,
    currency: str | None = None,
    broker_id: str | None = None,
    broker_commission_rate: Decimal | None = None,
    now: Callable[[], datetime] = clock.now,
) -> Deal:
    """A new open deal on the tenant's lead (LeadNotFound / BrokerNotFound for strangers')."""
    tenant = repos.tenants.get(tenant_id)
    repos.leads.get(tenant_id, lead_id)
    if broker_id is not None:
        _assignable(repos, tenant_id, broker_id)
    money = _money(value, currency or tenant.currency)
    broker_rate = (
        tenant.broker_commission_rate if broker_commission_rate is None else broker_commission_rate
    )
    _check_rate(broker_rate, "broker_commission_rate")
    at = now()
    shares = commissions(money, broker_rate, tenant.platform_commission_rate)
    new = Deal(
        tenant_id=tenant_id,
        deal_id=str(ULID.from_datetime(at)),
        lead_id=lead_id,
        broker_id=broker_id,
        value=money,
        broker_commission_rate=broker_rate,
        platform_commission_rate=tenant.platform_commission_rate,
        broker_commission=shares.broker,
        platform_commission=shares.platform,
        created_at=at,
    )
    return repos.deals.create(new)


def update_deal(
    repos: Repositories,
    tenant_id: str,
    deal_id: str,
    changes: dict[str, Any],
    *,
    by: str,
    now: Callable[[], datetime] = clock.now,
) -> Deal:
    """Change status, value (and currency) or broker, recomputing commissions; winning a deal
    records when, and a `deal_won` event on the lead's Timeline."""
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise BadRequest(f"cannot change {', '.join(sorted(unknown))}")
    if not changes:
        raise BadRequest("nothing to change: give a status, a value or a broker_id")
    for name in ("status", "value", "currency"):
        if name in changes and changes[name] is None:
            raise BadRequest(f"{name} cannot be empty")
    if "currency" in changes and "value" not in changes:
        raise BadRequest("currency goes with a value")
    for _ in range(MAX_CONFLICT_RETRIES):
        before = repos.deals.get(tenant_id, deal_id)
        after = before
        if "broker_id" in changes and changes["broker_id"] != before.broker_id:
            if changes["broker_id"] is not None:
                _assignable(repos, tenant_id, changes["broker_id"])
            after = replace(after, broker_id=changes["broker_id"])
        if "value" in changes:
            money = _money(changes["value"], changes.get("currency") or before.value.currency)
            shares = commissions(
                money, before.broker_commission_rate, before.platform_commission_rate
            )
            after = replace(
                after,
                value=money,
                broker_commission=shares.broker,
                platform_commission=shares.platform,
            )
        at = now()
        status = DealStatus(changes.get("status", before.status))
        if status is not before.status:
            closed_at = at if status is not DealStatus.OPEN else None
            after = replace(after, status=status, closed_at=closed_at)
        if after == before:
            return before
        try:
            saved = repos.deals.save(after)
        except DealConflict:
            continue
        if saved.status is DealStatus.WON and before.status is not DealStatus.WON:
            detail = {
                "deal_id": saved.deal_id,
                "value": str(saved.value.amount),
                "currency": saved.value.currency,
                "by": by,
            }
            event = TimelineEntry(kind=TimelineKind.EVENT, at=at, text="deal_won", detail=detail)
            repos.timeline.append(tenant_id, saved.lead_id, [event])
        return saved
    raise DealConflict(deal_id)


@dataclass(frozen=True)
class CurrencyTotals:
    currency: str
    deals: int
    value: Decimal
    broker_commission: Decimal
    platform_commission: Decimal


@dataclass(frozen=True)
class MonthRevenue:
    month: str
    totals: list[CurrencyTotals]  # one per currency: amounts in two currencies never add up


def monthly_revenue(
    repos: Repositories, tenant_id: str, since: str | None = None, until: str | None = None
) -> list[MonthRevenue]:
    """Won deals per month of closing (UTC) and currency, newest month first; `since` and
    `until` are months (YYYY-MM), both included."""
    first = Month.parse(since) if since else None
    last = Month.parse(until) if until else None
    if first and last and first.start > last.start:
        raise BadRequest("since is after until")
    sums: dict[tuple[str, str], list[Any]] = defaultdict(
        lambda: [0, Decimal(0), Decimal(0), Decimal(0)]
    )
    for won in repos.deals.all(tenant_id, DealStatus.WON):
        if won.closed_at is None:
            continue
        month = Month.of(won.closed_at)
        if (first and month.start < first.start) or (last and month.start > last.start):
            continue
        row = sums[(str(month), won.value.currency)]
        row[0] += 1
        row[1] += won.value.amount
        row[2] += won.broker_commission.amount
        row[3] += won.platform_commission.amount
    months: dict[str, list[CurrencyTotals]] = defaultdict(list)
    for (month_text, currency), (count, value, broker, platform) in sorted(sums.items()):
        months[month_text].append(
            CurrencyTotals(
                currency=currency,
                deals=count,
                value=to_minor(value, currency),
                broker_commission=to_minor(broker, currency),
                platform_commission=to_minor(platform, currency),
            )
        )
    return [MonthRevenue(month=m, totals=months[m]) for m in sorted(months, reverse=True)]


def _assignable(repos: Repositories, tenant_id: str, broker_id: str) -> None:
    if not repos.brokers.get(tenant_id, broker_id).active:
        raise BadRequest("the broker is not active")


def _money(value: Decimal, currency: str) -> Money:
    currency = currency.upper()
    if not value.is_finite() or value < 0:
        raise BadRequest("value must be zero or more")
    if not fits_currency(value, currency):
        raise BadRequest(f"value has more decimals than {currency} has")
    return Money(amount=to_minor(value, currency), currency=currency)


def _check_rate(rate: Decimal, name: str) -> None:
    if not Decimal(0) <= rate <= Decimal(1):
        raise BadRequest(f"{name} must be between 0 and 1")
