"""/api/brokers: the agency's brokers; everyone reads, admins add, change and deactivate."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, Field

from leadbot.api.auth import admin, caller
from leadbot.domain import Broker
from leadbot.services import brokers as use
from leadbot.services.runtime import repositories

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ bare

BrokerId = Annotated[
    str, Path(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$", description="the broker's ULID")
]
Cursor = Annotated[str | None, Query(max_length=2048, description="next_cursor of a page")]
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
CHAT_ID = r"^-?[0-9]{1,20}$"


class BrokerOut(BaseModel):
    broker_id: str
    name: str
    phone: str = Field(description="E.164")
    email: str
    telegram_chat_id: str | None
    active: bool = Field(description="false once deactivated: no new deals")
    away: bool
    max_open_leads: int | None
    created_at: datetime


class BrokerPage(BaseModel):
    items: list[BrokerOut]
    next_cursor: str | None


class NewBroker(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=1, max_length=40, description="any format; stored as E.164")
    email: str = Field(max_length=254, pattern=EMAIL)
    telegram_chat_id: str | None = Field(default=None, pattern=CHAT_ID)
    away: bool = False
    max_open_leads: int | None = Field(default=None, ge=0, le=100_000)


class BrokerChange(BaseModel):
    """Only the fields given change; null clears telegram_chat_id or max_open_leads."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    phone: str | None = Field(default=None, min_length=1, max_length=40)
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL)
    telegram_chat_id: str | None = Field(default=None, pattern=CHAT_ID)
    active: bool | None = None
    away: bool | None = None
    max_open_leads: int | None = Field(default=None, ge=0, le=100_000)


@router.get("", summary="The agency's brokers, oldest first (inactive ones too)")
def list_brokers(
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=use.MAX_PAGE)] = 50,
) -> BrokerPage:
    page = use.list_brokers(repositories(), caller(router).tenant_id, cursor, limit)
    return BrokerPage(items=[_out(b) for b in page.items], next_cursor=page.next_cursor)


@router.get("/<broker_id>", summary="One broker")
def get_broker(broker_id: BrokerId) -> BrokerOut:
    return _out(use.broker(repositories(), caller(router).tenant_id, broker_id))


@router.post(
    "",
    summary="Add a broker (admins)",
    responses={
        201: {
            "description": "the new broker",
            "content": {"application/json": {"model": BrokerOut}},
        }
    },
)
def create_broker(new: NewBroker) -> Response[dict[str, Any]]:
    who = admin(router)
    created = use.create_broker(repositories(), who.tenant_id, **new.model_dump())
    return Response(201, "application/json", _out(created).model_dump(mode="json"))


@router.patch("/<broker_id>", summary="Change a broker: contact, active, away, cap (admins)")
def change_broker(broker_id: BrokerId, change: BrokerChange) -> BrokerOut:
    who = admin(router)
    changes = {name: getattr(change, name) for name in change.model_fields_set}
    return _out(use.update_broker(repositories(), who.tenant_id, broker_id, changes))


@router.delete("/<broker_id>", summary="Deactivate a broker; never deleted (admins)")
def deactivate_broker(broker_id: BrokerId) -> BrokerOut:
    who = admin(router)
    return _out(use.deactivate_broker(repositories(), who.tenant_id, broker_id))


def _out(broker: Broker) -> BrokerOut:
    return BrokerOut(
        broker_id=broker.broker_id,
        name=broker.name,
        phone=broker.phone,
        email=broker.email,
        telegram_chat_id=broker.telegram_chat_id,
        active=broker.active,
        away=broker.away,
        max_open_leads=broker.max_open_leads,
        created_at=broker.created_at,
    )
