"""An agency's listings (the Properties table): what a property is offered as, and for how much.

Kept out of `leadbot.domain`'s own exports: the webhook does not need listings yet, and what it
does not import costs its cold start nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from leadbot.domain.enums import Bedrooms, PropertyType
from leadbot.domain.models import Money


class Transaction(StrEnum):
    """How a listing is offered. A lead's goal maps onto it: buy and invest look for a SALE,
    rent for a RENT (investors buy; there is no third way to offer a property)."""

    SALE = "sale"
    RENT = "rent"


class ListingStatus(StrEnum):
    """Archived listings are kept (never deleted) but offered to nobody."""

    ACTIVE = "active"
    ARCHIVED = "archived"


@dataclass(frozen=True, slots=True, kw_only=True)
class Property:
    """One listing. `price` is the asking price (per year for a RENT); `units_available` is the
    real count any scarcity wording must come from (DESIGN.md §6)."""

    tenant_id: str
    property_id: str  # ULID of created_at
    title: str
    location: str
    property_type: PropertyType
    transaction: Transaction
    price: Money
    units_available: int
    created_at: datetime
    updated_at: datetime
    bedrooms: Bedrooms | None = None
    size_sqft: Decimal | None = None
    status: ListingStatus = ListingStatus.ACTIVE
    brochure_ids: tuple[str, ...] = ()
    description: str = ""
    version: int | None = None
