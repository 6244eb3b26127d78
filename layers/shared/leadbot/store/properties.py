"""Listings of a tenant (the Properties table): domain objects in and out, versioned writes.

Not exported by `leadbot.store`: only the API imports it, so the webhook's cold start does not.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError

from leadbot.domain import Bedrooms, Money, PropertyConflict, PropertyNotFound, PropertyType
from leadbot.domain.listings import ListingStatus, Property, Transaction
from leadbot.store.models import PropertyModel, Tables
from leadbot.store.pages import Key, Walk

_CONDITION_FAILED = "ConditionalCheckFailedException"


class PropertyRepository:
    """Listings with optimistic locking (a version per listing); nothing here deletes one."""

    def __init__(self, tables: Tables) -> None:
        self._model = tables.properties

    def get(self, tenant_id: str, property_id: str) -> Property:
        try:
            return _property(self._model.get(tenant_id, property_id, consistent_read=True))
        except DoesNotExist:
            raise PropertyNotFound(property_id) from None

    def create(self, listing: Property) -> Property:
        """Save a new listing; PropertyConflict if its id is taken."""
        return self._put(replace(listing, version=None))

    def save(self, listing: Property) -> Property:
        """Write the listing if nobody else did since it was read (PropertyConflict otherwise)."""
        if listing.version is None:
            raise ValueError("save a listing that was read; create a new one")
        return self._put(listing)

    def _put(self, listing: Property) -> Property:
        item = self._model(**_item(listing))
        try:
            # pynamodb conditions the put on the version: the one read, or none for a new item.
            item.save()
        except PutError as exc:
            if exc.cause_response_code == _CONDITION_FAILED:
                raise PropertyConflict(listing.property_id) from None
            raise
        return replace(listing, version=item.version)

    def walk(self, tenant_id: str, start: Key | None, page_size: int) -> Walk[Property]:
        """The tenant's listings, newest first (property ids are ULIDs)."""
        results = self._model.query(
            tenant_id, scan_index_forward=False, last_evaluated_key=start, page_size=page_size
        )
        return Walk(results, _property)


def _item(listing: Property) -> dict[str, Any]:
    data: dict[str, Any] = {
        "tenant_id": listing.tenant_id,
        "property_id": listing.property_id,
        "title": listing.title,
        "location": listing.location,
        "property_type": listing.property_type.value,
        "transaction": listing.transaction.value,
        "bedrooms": listing.bedrooms.value if listing.bedrooms else None,
        "price_amount": str(listing.price.amount),
        "price_currency": listing.price.currency,
        "size_sqft": str(listing.size_sqft) if listing.size_sqft is not None else None,
        "units_available": listing.units_available,
        "status": listing.status.value,
        "brochure_ids": list(listing.brochure_ids) or None,
        "description": listing.description or None,
        "image_url": listing.image_url,
        "created_at": listing.created_at,
        "updated_at": listing.updated_at,
    }
    if listing.version is not None:
        data["version"] = listing.version
    return data


def _property(item: PropertyModel) -> Property:
    return Property(
        tenant_id=item.tenant_id,
        property_id=item.property_id,
        title=item.title,
        location=item.location,
        property_type=PropertyType(item.property_type),
        transaction=Transaction(item.transaction),
        bedrooms=Bedrooms(item.bedrooms) if item.bedrooms else None,
        price=Money(amount=Decimal(item.price_amount), currency=item.price_currency),
        size_sqft=Decimal(item.size_sqft) if item.size_sqft is not None else None,
        units_available=int(item.units_available),
        status=ListingStatus(item.status),
        brochure_ids=tuple(str(b) for b in item.brochure_ids or ()),
        description=item.description or "",
        image_url=item.image_url or None,
        created_at=item.created_at,
        updated_at=item.updated_at,
        version=int(item.version) if item.version is not None else None,
    )


class ActiveListings:
    """A tenant's active listings as the conversation offers them, kept per warm Lambda for
    `ttl_s`: only messages that may show cards read them, and those at most once a minute."""

    PAGE = 100

    def __init__(
        self, repo: PropertyRepository, ttl_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._repo = repo
        self._ttl = ttl_s
        self._clock = clock
        self._cache: dict[str, tuple[float, tuple[Property, ...]]] = {}
        self._lock = threading.Lock()

    def get(self, tenant_id: str) -> tuple[Property, ...]:
        with self._lock:
            hit = self._cache.get(tenant_id)
        if hit is not None and self._clock() - hit[0] < self._ttl:
            return hit[1]
        listings = tuple(
            p
            for p in self._repo.walk(tenant_id, None, page_size=self.PAGE)
            if p.status is ListingStatus.ACTIVE
        )
        with self._lock:
            self._cache[tenant_id] = (self._clock(), listings)
        return listings
