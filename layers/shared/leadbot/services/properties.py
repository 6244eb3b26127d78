"""An agency's listings: everyone reads them, admins add, change, archive (never delete) them
and upload their brochures."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from ulid import ULID

from leadbot import clock
from leadbot.domain import Bedrooms, Money, PropertyConflict, PropertyType, fits_currency, to_minor
from leadbot.domain.listings import ListingStatus, Property, Transaction
from leadbot.services.cursors import decode_cursor, take_page
from leadbot.services.errors import BadRequest, Conflict, Unavailable
from leadbot.services.runtime import Repositories
from leadbot.store.brochures import (
    MAX_BROCHURE_BYTES,
    PDF,
    BrochureStore,
    UploadTicket,
    brochure_key,
)

MAX_PAGE = 100
MAX_CONFLICT_RETRIES = 5
MAX_BROCHURES = 20  # per listing: an item stays far below DynamoDB's 400 KB
MAX_IMAGE_URL = 1024
# What PATCH may change; None clears the optional ones.
CHANGEABLE = frozenset(
    {
        "title",
        "location",
        "property_type",
        "transaction",
        "bedrooms",
        "price",
        "size_sqft",
        "units_available",
        "status",
        "description",
        "image_url",
    }
)
_OPTIONAL = frozenset({"bedrooms", "size_sqft", "description", "image_url"})


@dataclass(frozen=True)
class Price:
    """A price as asked for: the currency may be left to the agency's (or the listing's)."""

    amount: Decimal
    currency: str | None = None


@dataclass(frozen=True, kw_only=True)
class ListingFilter:
    status: ListingStatus | None = None
    property_type: PropertyType | None = None
    transaction: Transaction | None = None

    def matches(self, listing: Property) -> bool:
        return (
            (self.status is None or listing.status is self.status)
            and (self.property_type is None or listing.property_type is self.property_type)
            and (self.transaction is None or listing.transaction is self.transaction)
        )

    @property
    def empty(self) -> bool:
        return self.status is None and self.property_type is None and self.transaction is None


@dataclass(frozen=True)
class PropertyPage:
    items: list[Property]
    next_cursor: str | None


@dataclass(frozen=True)
class BrochureUpload:
    brochure_id: str
    ticket: UploadTicket


def list_properties(
    repos: Repositories, tenant_id: str, filters: ListingFilter, cursor: str | None, limit: int
) -> PropertyPage:
    """One page of the tenant's listings, newest first, archived ones unless filtered out."""
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(f"limit must be between 1 and {MAX_PAGE}")
    start = decode_cursor(cursor, tenant_id, range_key="property_id")
    page_size = limit if filters.empty else MAX_PAGE
    walk = repos.properties.walk(tenant_id, start, page_size=page_size)
    items, next_cursor = take_page(walk, limit, filters.matches)
    return PropertyPage(items=items, next_cursor=next_cursor)


def listing(repos: Repositories, tenant_id: str, property_id: str) -> Property:
    return repos.properties.get(tenant_id, property_id)  # PropertyNotFound for strangers' ids


def create_property(
    repos: Repositories,
    tenant_id: str,
    *,
    title: str,
    location: str,
    property_type: PropertyType,
    transaction: Transaction,
    price: Price,
    units_available: int,
    bedrooms: Bedrooms | None = None,
    size_sqft: Decimal | None = None,
    description: str = "",
    image_url: str | None = None,
    property_id: str | None = None,
    now: Callable[[], datetime] = clock.now,
) -> Property:
    """A new active listing; the currency is the agency's unless given; the id a new ULID
    unless given (PropertyConflict if taken); `image_url` its photo (see `_image_url`)."""
    currency = price.currency or repos.tenants.get(tenant_id).currency
    at = now()
    new = Property(
        tenant_id=tenant_id,
        property_id=property_id or str(ULID.from_datetime(at)),
        title=_text(title, "title"),
        location=_text(location, "location"),
        property_type=property_type,
        transaction=transaction,
        bedrooms=bedrooms,
        price=_money(price.amount, currency),
        size_sqft=_size(size_sqft),
        units_available=_units(units_available),
        description=description.strip(),
        image_url=_image_url(image_url),
        created_at=at,
        updated_at=at,
    )
    # The leads it matches hear of it from the Properties stream (services/matches.py), not
    # in this request: telling 500 of them at Telegram's pace takes 20 s.
    return repos.properties.create(new)


def update_property(
    repos: Repositories,
    tenant_id: str,
    property_id: str,
    changes: dict[str, Any],
    *,
    version: int | None = None,
    now: Callable[[], datetime] = clock.now,
) -> Property:
    """Apply `changes` (field → value, only those given; `price` is a Price).

    With `version` (the one the caller read) a listing changed since is a PropertyConflict;
    without, a concurrent write is retried on the fresh listing, field by field.
    """
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise BadRequest(f"cannot change {', '.join(sorted(unknown))}")
    if not changes:
        raise BadRequest(f"nothing to change: give any of {', '.join(sorted(CHANGEABLE))}")
    cleared = sorted(n for n, v in changes.items() if v is None and n not in _OPTIONAL)
    if cleared:
        raise BadRequest(f"{', '.join(cleared)} cannot be empty")
    for _ in range(MAX_CONFLICT_RETRIES):
        before = repos.properties.get(tenant_id, property_id)
        if version is not None and version != before.version:
            raise PropertyConflict(property_id)
        after = replace(before, **_values(changes, before))
        if after == before:
            return before
        try:
            return repos.properties.save(replace(after, updated_at=now()))
        except PropertyConflict:
            if version is not None:
                raise
    raise PropertyConflict(property_id)


def archive_property(
    repos: Repositories,
    tenant_id: str,
    property_id: str,
    now: Callable[[], datetime] = clock.now,
) -> Property:
    """Offered to nobody from now on, but kept and readable: leads may have been shown it."""
    return update_property(
        repos, tenant_id, property_id, {"status": ListingStatus.ARCHIVED}, now=now
    )


def request_brochure_upload(
    repos: Repositories,
    store: BrochureStore | None,
    tenant_id: str,
    property_id: str,
    *,
    filename: str,
    content_type: str,
    size: int,
    now: Callable[[], datetime] = clock.now,
) -> BrochureUpload:
    """A URL the admin's browser uploads one PDF to, and its id on the listing from now on."""
    if content_type.strip().lower() != PDF or not filename.strip().lower().endswith(".pdf"):
        raise BadRequest(f"a brochure must be a PDF: content_type {PDF} and a .pdf filename")
    if size < 1:
        raise BadRequest("size must be the file's size in bytes")
    if size > MAX_BROCHURE_BYTES:
        raise BadRequest(f"a brochure can be at most 50 MB ({MAX_BROCHURE_BYTES} bytes)")
    before = _room_for_a_brochure(repos.properties.get(tenant_id, property_id))
    if store is None:
        raise Unavailable("brochure uploads are not set up in this deployment")
    brochure_id = str(ULID.from_datetime(now()))
    ticket = store.upload(brochure_key(tenant_id, property_id, brochure_id), PDF, size)
    for _ in range(MAX_CONFLICT_RETRIES):
        after = replace(before, brochure_ids=(*before.brochure_ids, brochure_id), updated_at=now())
        try:
            repos.properties.save(after)
        except PropertyConflict:
            before = _room_for_a_brochure(repos.properties.get(tenant_id, property_id))
            continue
        return BrochureUpload(brochure_id=brochure_id, ticket=ticket)
    raise PropertyConflict(property_id)


@dataclass(frozen=True)
class BrochureState:
    """Whether a listing's brochure has been read into the Knowledge table yet: an upload is
    only a PDF until it is ingested, and the bot answers from ingested passages alone."""

    brochure_id: str
    chunks: int
    pages: int  # the last page a passage was read from
    title: str | None
    # Why its PDF could not be read (BrochureUnreadable's reason and message), if it could not.
    unreadable_reason: str | None = None
    unreadable_message: str | None = None

    @property
    def ingested(self) -> bool:
        return self.chunks > 0


def brochure_states(repos: Repositories, tenant_id: str, property_id: str) -> list[BrochureState]:
    """The listing's brochures in the order they were added, each with what was read of it."""
    found = repos.properties.get(tenant_id, property_id)  # PropertyNotFound for strangers' ids
    states = []
    for brochure_id in found.brochure_ids:
        chunks = repos.knowledge.chunks(tenant_id, [brochure_id])
        why = None if chunks else repos.knowledge.unreadable(tenant_id, brochure_id)
        states.append(
            BrochureState(
                brochure_id=brochure_id,
                chunks=len(chunks),
                pages=max((c.page for c in chunks), default=0),
                title=chunks[0].title if chunks else None,
                unreadable_reason=why.reason if why else None,
                unreadable_message=why.message if why else None,
            )
        )
    return states


def _room_for_a_brochure(listing: Property) -> Property:
    if len(listing.brochure_ids) >= MAX_BROCHURES:
        raise Conflict(f"a listing holds at most {MAX_BROCHURES} brochures")
    return listing


def _values(changes: dict[str, Any], before: Property) -> dict[str, Any]:
    values = dict(changes)
    for name in ("title", "location"):
        if name in values:
            values[name] = _text(values[name], name)
    if "price" in values:
        price: Price = values["price"]
        values["price"] = _money(price.amount, price.currency or before.price.currency)
    if "size_sqft" in values:
        values["size_sqft"] = _size(values["size_sqft"])
    if "units_available" in values:
        values["units_available"] = _units(values["units_available"])
    if "description" in values:
        values["description"] = (values["description"] or "").strip()
    if "image_url" in values:
        values["image_url"] = _image_url(values["image_url"])
    return values


def _text(value: str, name: str) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise BadRequest(f"a listing needs a {name}")
    return cleaned


def _money(amount: Decimal, currency: str) -> Money:
    currency = currency.upper()
    if not amount.is_finite() or amount <= 0:
        raise BadRequest("price must be more than zero")
    if not fits_currency(amount, currency):
        raise BadRequest(f"price has more decimals than {currency} has")
    return Money(amount=to_minor(amount, currency), currency=currency)


def _size(size: Decimal | None) -> Decimal | None:
    if size is not None and (not size.is_finite() or size <= 0):
        raise BadRequest("size_sqft must be more than zero")
    return size


def _image_url(url: str | None) -> str | None:
    """The photo's URL as given, if Telegram and WhatsApp can fetch it: absolute https, a
    public-looking host (a dot, or an IPv6 literal: not "localhost"), at most MAX_IMAGE_URL
    characters, nothing blank or invisible inside; blank is no photo. Never fetched here."""
    if url is None or not url.strip():
        return None
    url = url.strip()
    problem = "image_url must be an absolute https URL, e.g. https://agency.example/photo.jpg"
    if len(url) > MAX_IMAGE_URL:
        raise BadRequest(f"image_url can be at most {MAX_IMAGE_URL} characters")
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise BadRequest("image_url cannot contain spaces or invisible characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018  # raises ValueError on a port that is no number
    except ValueError:
        raise BadRequest(problem) from None
    if parts.scheme.lower() != "https" or not ("." in host or ":" in host):
        raise BadRequest(problem)
    return url


def _units(units: int) -> int:
    if units < 0:
        raise BadRequest("units_available cannot be negative")
    return units


# -- importing listings from a CSV file (the ops CLI, until the dashboard lists them) ---------

MAX_IMPORT_ROWS = 5_000
# Column → the field it fills; headers are read case-insensitively, "-", "." and spaces as "_".
LISTING_COLUMNS = {
    "property_id": "property_id",
    "title": "title",
    "location": "location",
    "type": "property_type",
    "property_type": "property_type",
    "transaction": "transaction",
    "price": "price",
    "currency": "currency",
    "bedrooms": "bedrooms",
    "size_sqft": "size_sqft",
    "units": "units_available",
    "units_available": "units_available",
    "description": "description",
    "image_url": "image_url",
}
REQUIRED_COLUMNS = ("title", "location", "property_type", "transaction", "price", "units_available")
_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_HEADER_SEPARATORS = re.compile(r"[\s\-./]+")


@dataclass(frozen=True)
class ImportedRow:
    line: int  # as a spreadsheet numbers it: the header is line 1
    status: str  # created, updated, unchanged or failed
    property_id: str | None = None
    title: str = ""
    message: str = ""


@dataclass
class ListingImport:
    rows: list[ImportedRow] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(row.status == status for row in self.rows)


def import_listings(
    repos: Repositories,
    tenant_id: str,
    text: str,
    *,
    now: Callable[[], datetime] = clock.now,
) -> ListingImport:
    """Add or update the listings of a CSV file (header row; columns as LISTING_COLUMNS).

    Importing the same file again changes nothing and adds nothing: a row is the listing its
    `property_id` names (a ULID, created with that id if new), else the tenant's listing with
    the same title, location and transaction (case and spacing aside), else a new listing. A
    matched listing gets the row's values; its status is kept (an archived one stays archived),
    and so is its photo when the file has no image_url column.
    Each bad row fails alone, with its line and what to fix. TenantNotFound for a stranger;
    BadRequest when the file is no such sheet.
    """
    tenant = repos.tenants.get(tenant_id)
    reader, columns, ignored = _listing_sheet(text)
    existing = list(repos.properties.walk(tenant_id, None, page_size=MAX_PAGE))
    by_id = {p.property_id: p for p in existing}
    by_key = {_natural_key(p.title, p.location, p.transaction.value): p for p in existing}
    report = ListingImport(ignored_columns=ignored)
    for record in reader:
        line = reader.line_num
        values = {
            columns[i]: cell.strip()
            for i, cell in enumerate(record)
            if i in columns and cell.strip()
        }
        if not values:
            continue  # a blank line
        if len(report.rows) >= MAX_IMPORT_ROWS:
            raise BadRequest(f"a file holds at most {MAX_IMPORT_ROWS:,} listings: split it")
        try:
            wanted = _listing_row(values, tenant.currency)
            if "image_url" not in columns.values():
                # A sheet from before photos leaves the photos added since alone.
                del wanted["image_url"]
            key = _natural_key(wanted["title"], wanted["location"], wanted["transaction"].value)
            before = by_id.get(values.get("property_id", "")) or (
                None if "property_id" in values else by_key.get(key)
            )
            if before is None:
                saved = create_property(
                    repos,
                    tenant_id,
                    property_id=values.get("property_id"),
                    now=now,
                    **wanted,
                )
                status = "created"
            else:
                changes = _changes(before, wanted)
                saved = (
                    update_property(repos, tenant_id, before.property_id, changes, now=now)
                    if changes
                    else before
                )
                status = "updated" if changes else "unchanged"
        except (BadRequest, PropertyConflict) as exc:
            message = str(exc) if isinstance(exc, BadRequest) else "property_id is taken"
            report.rows.append(
                ImportedRow(
                    line=line, status="failed", title=values.get("title", ""), message=message
                )
            )
            continue
        by_id[saved.property_id] = by_key[key] = saved
        report.rows.append(
            ImportedRow(line=line, status=status, property_id=saved.property_id, title=saved.title)
        )
    return report


def _listing_sheet(text: str) -> tuple[Any, dict[int, str], list[str]]:
    try:
        dialect: Any = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if header is None:
        raise BadRequest("the file is empty: it needs a header row")
    columns: dict[int, str] = {}
    ignored: list[str] = []
    for index, name in enumerate(header):
        normal = _HEADER_SEPARATORS.sub("_", name.strip().lower().lstrip("\ufeff"))
        if normal in LISTING_COLUMNS:
            columns[index] = LISTING_COLUMNS[normal]
        elif name.strip():
            ignored.append(name.strip())
    missing = [c for c in REQUIRED_COLUMNS if c not in columns.values()]
    if missing:
        names = {"property_type": "type", "units_available": "units"}
        wanted = ", ".join(names.get(c, c) for c in missing)
        raise BadRequest(f"the header row has no {wanted} column")
    return reader, columns, ignored


def _listing_row(values: dict[str, str], currency: str) -> dict[str, Any]:
    """The fields `create_property` takes, from one row's cells; BadRequest says what to fix."""
    for name in ("title", "location"):
        if name not in values:
            raise BadRequest(f"{name} is required")
    listing_id = values.get("property_id")
    if listing_id is not None and not _ULID.match(listing_id.upper()):
        raise BadRequest("property_id must be a ULID (26 characters), or left blank")
    if listing_id is not None:
        values["property_id"] = listing_id.upper()
    kinds = ", ".join(k.value for k in PropertyType)
    property_type = _choice(
        PropertyType, values.get("property_type"), f"type must be one of {kinds}"
    )
    transaction = _choice(
        Transaction, values.get("transaction"), "transaction must be sale or rent"
    )
    amount = _decimal(values.get("price"), "price must be a number, for example 2450000")
    units = values.get("units_available", "")
    if not units.isdigit():
        raise BadRequest("units must be a whole number, 0 or more")
    size = values.get("size_sqft")
    bedrooms = values.get("bedrooms")
    return {
        "title": values["title"],
        "location": values["location"],
        "property_type": property_type,
        "transaction": transaction,
        "price": Price(amount=amount, currency=values.get("currency", currency)),
        "units_available": int(units),
        "bedrooms": _bedrooms(bedrooms) if bedrooms else None,
        "size_sqft": _decimal(size, "size_sqft must be a number") if size else None,
        "description": values.get("description", ""),
        "image_url": values.get("image_url"),
    }


def _choice(kind: Any, value: str | None, message: str) -> Any:
    try:
        return kind((value or "").strip().lower())
    except ValueError:
        raise BadRequest(message) from None


def _decimal(value: str | None, message: str) -> Decimal:
    try:
        return Decimal((value or "").replace(",", "").replace(" ", ""))
    except InvalidOperation:
        raise BadRequest(message) from None


def _bedrooms(value: str) -> Bedrooms:
    text = value.strip().lower()
    if text in ("studio", "0"):
        return Bedrooms.STUDIO
    if text.rstrip("+").isdigit():
        count = int(text.rstrip("+"))
        return Bedrooms.FOUR_PLUS if count >= 4 else Bedrooms(str(count))
    raise BadRequest("bedrooms must be studio, 1, 2, 3 or 4+")


def _natural_key(title: str, location: str, transaction: str) -> tuple[str, str, str]:
    def fold(part: str) -> str:
        return " ".join(part.casefold().split())

    return fold(title), fold(location), fold(transaction)


def _changes(before: Property, wanted: dict[str, Any]) -> dict[str, Any]:
    """What update_property must change for the listing to say what the row says."""
    price: Price = wanted["price"]
    currency = (price.currency or before.price.currency).upper()
    cleaned = {
        **wanted,
        "title": " ".join(wanted["title"].split()),
        "location": " ".join(wanted["location"].split()),
        "description": wanted["description"].strip(),
    }
    changes = {
        name: wanted[name]
        for name, value in cleaned.items()
        if name != "price" and getattr(before, name) != value
    }
    if (before.price.amount, before.price.currency) != (price.amount, currency):
        changes["price"] = price
    return changes
