"""/api/properties: the agency's listings; everyone reads, admins add, change, archive, upload."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, Field

from leadbot.api.auth import admin, caller
from leadbot.domain import Bedrooms, PropertyType
from leadbot.domain.listings import ListingStatus, Property, Transaction
from leadbot.services import properties as use
from leadbot.services.runtime import brochure_store, repositories
from leadbot.store.brochures import MAX_BROCHURE_BYTES

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ bare

PropertyId = Annotated[
    str, Path(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$", description="the listing's ULID")
]
Cursor = Annotated[str | None, Query(max_length=2048, description="next_cursor of a page")]
AMOUNT = r"^[0-9]{1,18}(\.[0-9]{1,6})?$"
SIZE = r"^[0-9]{1,9}(\.[0-9]{1,2})?$"
CURRENCY = r"^[A-Z]{3}$"
MAX_UNITS = 100_000
IMAGE_URL = (
    "the listing's photo, sent with its cards: an absolute https URL Telegram and WhatsApp "
    "can fetch (a host with a dot), no spaces"
)


class PriceIn(BaseModel):
    amount: str = Field(pattern=AMOUNT, description='a decimal string, e.g. "2500000.00"')
    currency: str | None = Field(
        default=None,
        pattern=CURRENCY,
        description="if left out, the agency's (on PATCH, the listing's)",
    )


class PriceOut(BaseModel):
    amount: str = Field(description="decimal string in the currency's minor units")
    currency: str


class PropertyOut(BaseModel):
    property_id: str
    title: str
    location: str
    property_type: PropertyType
    transaction: Transaction = Field(description="sale (for buyers and investors) or rent")
    bedrooms: Bedrooms | None
    price: PriceOut = Field(description="the asking price; for rent, per year")
    size_sqft: str | None = Field(description="decimal string")
    units_available: int = Field(description="the real count; scarcity is only ever shown from it")
    status: ListingStatus = Field(description="archived listings are kept but offered to nobody")
    brochure_ids: list[str]
    description: str
    image_url: str | None = Field(description="the listing's photo: an https URL, or null")
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="send it with PATCH: a change made since is then a 409")


class PropertyPage(BaseModel):
    items: list[PropertyOut]
    next_cursor: str | None


class NewProperty(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    location: str = Field(min_length=1, max_length=200)
    property_type: PropertyType
    transaction: Transaction
    price: PriceIn
    units_available: int = Field(ge=0, le=MAX_UNITS, description="no default: never a guess")
    bedrooms: Bedrooms | None = None
    size_sqft: str | None = Field(default=None, pattern=SIZE)
    description: str = Field(default="", max_length=4000)
    image_url: str | None = Field(default=None, max_length=use.MAX_IMAGE_URL, description=IMAGE_URL)


class PropertyChange(BaseModel):
    """Only the fields given change; null clears bedrooms, size_sqft, description or image_url."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    location: str | None = Field(default=None, min_length=1, max_length=200)
    property_type: PropertyType | None = None
    transaction: Transaction | None = None
    price: PriceIn | None = None
    units_available: int | None = Field(default=None, ge=0, le=MAX_UNITS)
    bedrooms: Bedrooms | None = None
    size_sqft: str | None = Field(default=None, pattern=SIZE)
    status: ListingStatus | None = None
    description: str | None = Field(default=None, max_length=4000)
    image_url: str | None = Field(
        default=None, max_length=use.MAX_IMAGE_URL, description=f"{IMAGE_URL}; null removes it"
    )
    version: int | None = Field(
        default=None, ge=1, description="the version read: 409 if the listing changed since"
    )


class BrochureRequest(BaseModel):
    filename: str = Field(min_length=1, max_length=255, description="ends with .pdf")
    content_type: str = Field(max_length=100, description="application/pdf")
    size: int = Field(description=f"the file's size in bytes, at most {MAX_BROCHURE_BYTES}")


class BrochureUpload(BaseModel):
    brochure_id: str
    upload_url: str = Field(description="send the PDF there, before it expires")
    method: str = Field(description="PUT")
    headers: dict[str, str] = Field(description="send exactly these; the body is `size` bytes")
    expires_in: int = Field(description="seconds")


class BrochureStateOut(BaseModel):
    brochure_id: str
    ingested: bool = Field(description="read into passages the bot answers from")
    title: str | None = Field(description="the title it was read under; null until ingested")
    pages: int = Field(description="the last page a passage was read from; 0 until ingested")
    chunks: int = Field(description="facts, table rows and text passages read from it")
    unreadable_reason: str | None = Field(
        default=None,
        description="why its PDF could not be read: corrupt, encrypted, no_text or too_big; "
        "null if it was read or is still waiting to be",
    )
    unreadable_message: str | None = Field(
        default=None, description="what was wrong with the PDF and what to do about it"
    )


class BrochureStates(BaseModel):
    items: list[BrochureStateOut]


@router.get("", summary="The agency's listings, newest first")
def list_properties(
    status: Annotated[ListingStatus | None, Query()] = None,
    property_type: Annotated[PropertyType | None, Query()] = None,
    transaction: Annotated[Transaction | None, Query()] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=use.MAX_PAGE)] = 50,
) -> PropertyPage:
    filters = use.ListingFilter(status=status, property_type=property_type, transaction=transaction)
    page = use.list_properties(repositories(), caller(router).tenant_id, filters, cursor, limit)
    return PropertyPage(items=[_out(p) for p in page.items], next_cursor=page.next_cursor)


@router.get("/<property_id>", summary="One listing")
def get_property(property_id: PropertyId) -> PropertyOut:
    return _out(use.listing(repositories(), caller(router).tenant_id, property_id))


@router.post(
    "",
    summary="Add a listing (admins)",
    responses={
        201: {
            "description": "the new listing",
            "content": {"application/json": {"model": PropertyOut}},
        }
    },
)
def create_property(new: NewProperty) -> Response[dict[str, Any]]:
    who = admin(router)
    created = use.create_property(
        repositories(),
        who.tenant_id,
        title=new.title,
        location=new.location,
        property_type=new.property_type,
        transaction=new.transaction,
        price=_price(new.price),
        units_available=new.units_available,
        bedrooms=new.bedrooms,
        size_sqft=Decimal(new.size_sqft) if new.size_sqft is not None else None,
        description=new.description,
        image_url=new.image_url,
    )
    return Response(201, "application/json", _out(created).model_dump(mode="json"))


@router.patch("/<property_id>", summary="Change a listing: price, units, status, details (admins)")
def change_property(property_id: PropertyId, change: PropertyChange) -> PropertyOut:
    who = admin(router)
    changes: dict[str, Any] = {
        name: getattr(change, name) for name in change.model_fields_set if name != "version"
    }
    if changes.get("price") is not None:
        changes["price"] = _price(changes["price"])
    if changes.get("size_sqft") is not None:
        changes["size_sqft"] = Decimal(changes["size_sqft"])
    updated = use.update_property(
        repositories(), who.tenant_id, property_id, changes, version=change.version
    )
    return _out(updated)


@router.delete("/<property_id>", summary="Archive a listing; never deleted (admins)")
def archive_property(property_id: PropertyId) -> PropertyOut:
    who = admin(router)
    return _out(use.archive_property(repositories(), who.tenant_id, property_id))


@router.post(
    "/<property_id>/brochures",
    summary="Upload a PDF brochure: a presigned URL to PUT it to (admins)",
    responses={
        201: {
            "description": "where and how to upload; the id is on the listing from now on",
            "content": {"application/json": {"model": BrochureUpload}},
        }
    },
)
def upload_brochure(property_id: PropertyId, request: BrochureRequest) -> Response[dict[str, Any]]:
    who = admin(router)
    upload = use.request_brochure_upload(
        repositories(),
        brochure_store(),
        who.tenant_id,
        property_id,
        filename=request.filename,
        content_type=request.content_type,
        size=request.size,
    )
    answer = BrochureUpload(
        brochure_id=upload.brochure_id,
        upload_url=upload.ticket.url,
        method=upload.ticket.method,
        headers=upload.ticket.headers,
        expires_in=upload.ticket.expires_in,
    )
    return Response(201, "application/json", answer.model_dump(mode="json"))


@router.get(
    "/<property_id>/brochures",
    summary="The listing's brochures, oldest first, and whether each has been read yet",
)
def list_brochures(property_id: PropertyId) -> BrochureStates:
    states = use.brochure_states(repositories(), caller(router).tenant_id, property_id)
    return BrochureStates(
        items=[
            BrochureStateOut(
                brochure_id=s.brochure_id,
                ingested=s.ingested,
                title=s.title,
                pages=s.pages,
                chunks=s.chunks,
                unreadable_reason=s.unreadable_reason,
                unreadable_message=s.unreadable_message,
            )
            for s in states
        ]
    )


def _price(price: PriceIn) -> use.Price:
    return use.Price(amount=Decimal(price.amount), currency=price.currency)


def _out(listing: Property) -> PropertyOut:
    assert listing.version is not None  # every listing read or written has one
    return PropertyOut(
        property_id=listing.property_id,
        title=listing.title,
        location=listing.location,
        property_type=listing.property_type,
        transaction=listing.transaction,
        bedrooms=listing.bedrooms,
        price=PriceOut(amount=str(listing.price.amount), currency=listing.price.currency),
        size_sqft=str(listing.size_sqft) if listing.size_sqft is not None else None,
        units_available=listing.units_available,
        status=listing.status,
        brochure_ids=list(listing.brochure_ids),
        description=listing.description,
        image_url=listing.image_url,
        created_at=listing.created_at,
        updated_at=listing.updated_at,
        version=listing.version,
    )
