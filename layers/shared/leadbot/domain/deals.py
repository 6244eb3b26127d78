"""Brokers, deals and the commission math (pure: Decimal in, Decimal out, never float)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from leadbot.domain.models import Money

# ISO 4217 minor units where they are not 2; any other currency has cents.
_MINOR_UNITS = {
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "ISK": 0,
    "UGX": 0,
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
}


class DealStatus(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


@dataclass(frozen=True, slots=True, kw_only=True)
class Broker:
    """A person of the agency who takes leads over and closes deals."""

    tenant_id: str
    broker_id: str
    name: str
    phone: str  # E.164
    email: str
    created_at: datetime
    telegram_chat_id: str | None = None
    active: bool = True  # inactive brokers get no new deals; their old deals keep them
    away: bool = False
    max_open_leads: int | None = None
    last_assigned_at: datetime | None = None  # round-robin: the oldest goes next


@dataclass(frozen=True, slots=True, kw_only=True)
class Commission:
    broker: Money
    platform: Money


@dataclass(frozen=True, slots=True, kw_only=True)
class Deal:
    tenant_id: str
    deal_id: str
    lead_id: str
    value: Money
    broker_commission_rate: Decimal
    platform_commission_rate: Decimal
    broker_commission: Money
    platform_commission: Money
    created_at: datetime
    broker_id: str | None = None
    status: DealStatus = DealStatus.OPEN
    closed_at: datetime | None = None
    version: int | None = None


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency.upper(), 2)


def quantum(currency: str) -> Decimal:
    """The smallest amount of the currency: Decimal("0.01") for AED, Decimal("1") for JPY."""
    return Decimal(1).scaleb(-minor_units(currency))


def to_minor(amount: Decimal, currency: str) -> Decimal:
    """`amount` rounded half up to the currency's minor units."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def fits_currency(amount: Decimal, currency: str) -> bool:
    """Whether `amount` needs no rounding in the currency (2500000.005 AED does)."""
    return amount == to_minor(amount, currency)


def commissions(value: Money, broker_rate: Decimal, platform_rate: Decimal) -> Commission:
    """The broker's commission (value × broker rate) and the platform's share of it (the
    broker's rounded commission × platform rate), each rounded half up to minor units: the
    platform's share is of what the broker is actually paid."""
    for rate in (broker_rate, platform_rate):
        if not isinstance(rate, Decimal) or not Decimal(0) <= rate <= Decimal(1):
            raise ValueError(f"a commission rate is a Decimal between 0 and 1, not {rate!r}")
    if not isinstance(value.amount, Decimal):
        raise ValueError("money is a Decimal, never a float")
    broker = to_minor(value.amount * broker_rate, value.currency)
    platform = to_minor(broker * platform_rate, value.currency)
    return Commission(
        broker=Money(amount=broker, currency=value.currency),
        platform=Money(amount=platform, currency=value.currency),
    )
