"""An agency's listings (the Properties table): what a property is offered as, and for how much.

Kept out of `leadbot.domain`'s own exports: the webhook imports it only for a message that shows
or acts on a listing, and what it does not import costs its cold start nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from leadbot.domain.enums import Bedrooms, PropertyType
from leadbot.domain.models import Money, TimelineEntry, TimelineEvent, TimelineKind


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
    real count any scarcity wording must come from (DESIGN.md §6). `image_url` is the listing's
    photo, an absolute https URL the channels hand to Telegram and WhatsApp, who fetch it."""

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
    image_url: str | None = None
    version: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ListingInterest(TimelineEvent):
    """The lead pressed "Interested" on a listing's card: agents see it on the Timeline."""

    property_id: str
    title: str

    def entry(self, at: datetime) -> TimelineEntry:
        detail = {"property_id": self.property_id, "title": self.title}
        return TimelineEntry(kind=TimelineKind.EVENT, at=at, text="listing_interest", detail=detail)


@dataclass(frozen=True, slots=True, kw_only=True)
class ViewingRequested(TimelineEvent):
    """The lead asked to view a listing; an agent arranges and confirms it."""

    property_id: str
    title: str

    def entry(self, at: datetime) -> TimelineEntry:
        detail = {"property_id": self.property_id, "title": self.title}
        return TimelineEntry(
            kind=TimelineKind.EVENT, at=at, text="viewing_requested", detail=detail
        )
