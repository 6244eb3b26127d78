"""/api/deals: deals on the agency's leads, their commissions, and the monthly revenue."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, Field

from leadbot.api.auth import caller
from leadbot.domain import Deal, DealStatus
from leadbot.services import deals as use
from leadbot.services.runtime import repositories

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ bare

ULID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"
DealId = Annotated[str, Path(pattern=ULID_PATTERN, description="the deal's ULID")]
Cursor = Annotated[str | None, Query(max_length=2048, description="next_cursor of a page")]
MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
AMOUNT = r"^[0-9]{1,18}(\.[0-9]{1,6})?$"
RATE = r"^(0(\.[0-9]{1,6})?|1(\.0{1,6})?)$"
CURRENCY = r"^[A-Z]{3}$"


class DealOut(BaseModel):
    deal_id: str
    lead_id: str
    broker_id: str | None
    status: DealStatus
    currency: str
    value: str = Field(description="decimal string in the currency's minor units")
    broker_commission_rate: str
    platform_commission_rate: str = Field(description="share of the broker's commission")
    broker_commission: str
    platform_commission: str
    closed_at: datetime | None = Field(description="when it was won or lost")
    created_at: datetime


class DealPage(BaseModel):
    items: list[DealOut]
    next_cursor: str | None


class NewDeal(BaseModel):
    lead_id: str = Field(pattern=ULID_PATTERN)
    value: str = Field(pattern=AMOUNT, description='a decimal string, e.g. "2500000.00"')
    currency: str | None = Field(default=None, pattern=CURRENCY, description="the agency's")
    broker_id: str | None = Field(default=None, pattern=ULID_PATTERN)
    broker_commission_rate: str | None = Field(
        default=None, pattern=RATE, description='e.g. "0.02"; the agency\'s rate if left out'
    )


class DealChange(BaseModel):
    """Only the fields given change; broker_id null unassigns the broker."""

    status: DealStatus | None = None
    value: str | None = Field(default=None, pattern=AMOUNT)
    currency: str | None = Field(default=None, pattern=CURRENCY)
    broker_id: str | None = Field(default=None, pattern=ULID_PATTERN)


class CurrencyTotals(BaseModel):
    currency: str
    deals: int
    value: str
    broker_commission: str
    platform_commission: str


class MonthRevenue(BaseModel):
    month: str = Field(description="YYYY-MM (UTC) the deals were won")
    totals: list[CurrencyTotals] = Field(description="one per currency, never added together")


class Revenue(BaseModel):
    items: list[MonthRevenue]


@router.get("", summary="Deals, newest first")
def list_deals(
    status: Annotated[DealStatus | None, Query()] = None,
    broker_id: Annotated[str | None, Query(pattern=ULID_PATTERN)] = None,
    month: Annotated[str | None, Query(pattern=MONTH, description="created in (UTC)")] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=use.MAX_PAGE)] = 50,
) -> DealPage:
    who = caller(router)
    filters = use.DealFilter(
        status=status, broker_id=broker_id, month=use.Month.parse(month) if month else None
    )
    page = use.list_deals(repositories(), who.tenant_id, filters, cursor, limit)
    return DealPage(items=[_out(d) for d in page.items], next_cursor=page.next_cursor)


# Before /<deal_id>, which would otherwise take "revenue" for an id.
@router.get("/revenue", summary="Won deals per month and currency: value and commissions")
def revenue(
    since: Annotated[str | None, Query(pattern=MONTH, description="first month")] = None,
    until: Annotated[str | None, Query(pattern=MONTH, description="last month")] = None,
) -> Revenue:
    months = use.monthly_revenue(repositories(), caller(router).tenant_id, since, until)
    return Revenue(
        items=[
            MonthRevenue(
                month=m.month,
                totals=[
                    CurrencyTotals(
                        currency=t.currency,
                        deals=t.deals,
                        value=str(t.value),
                        broker_commission=str(t.broker_commission),
                        platform_commission=str(t.platform_commission),
                    )
                    for t in m.totals
                ],
            )
            for m in months
        ]
    )


@router.get("/<deal_id>", summary="One deal")
def get_deal(deal_id: DealId) -> DealOut:
    return _out(use.deal(repositories(), caller(router).tenant_id, deal_id))


@router.post(
    "",
    summary="Record a deal on a lead; commissions from the agency's rates",
    responses={
        201: {"description": "the new deal", "content": {"application/json": {"model": DealOut}}}
    },
)
def create_deal(new: NewDeal) -> Response[dict[str, Any]]:
    who = caller(router)
    created = use.create_deal(
        repositories(),
        who.tenant_id,
        lead_id=new.lead_id,
        value=Decimal(new.value),
        currency=new.currency,
        broker_id=new.broker_id,
        broker_commission_rate=Decimal(new.broker_commission_rate)
        if new.broker_commission_rate is not None
        else None,
    )
    return Response(201, "application/json", _out(created).model_dump(mode="json"))


@router.patch("/<deal_id>", summary="Win or lose a deal, change its value or broker")
def change_deal(deal_id: DealId, change: DealChange) -> DealOut:
    who = caller(router)
    changes: dict[str, Any] = {name: getattr(change, name) for name in change.model_fields_set}
    if changes.get("value") is not None:
        changes["value"] = Decimal(changes["value"])
    updated = use.update_deal(repositories(), who.tenant_id, deal_id, changes, by=who.name)
    return _out(updated)


def _out(deal: Deal) -> DealOut:
    return DealOut(
        deal_id=deal.deal_id,
        lead_id=deal.lead_id,
        broker_id=deal.broker_id,
        status=deal.status,
        currency=deal.value.currency,
        value=str(deal.value.amount),
        broker_commission_rate=str(deal.broker_commission_rate),
        platform_commission_rate=str(deal.platform_commission_rate),
        broker_commission=str(deal.broker_commission.amount),
        platform_commission=str(deal.platform_commission.amount),
        closed_at=deal.closed_at,
        created_at=deal.created_at,
    )
