"""Brokers and deals of a tenant: domain objects in and out, money as decimal strings."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from leadbot.domain import (
    Broker,
    BrokerNotFound,
    Deal,
    DealConflict,
    DealNotFound,
    DealStatus,
    Money,
)
from leadbot.store.models import BrokerModel, DealModel, Tables
from leadbot.store.pages import Key, Walk

_CONDITION_FAILED = "ConditionalCheckFailedException"
_BROKER_FIELDS = (
    "name",
    "phone",
    "email",
    "telegram_chat_id",
    "active",
    "away",
    "max_open_leads",
)


class BrokerRepository:
    def __init__(self, tables: Tables) -> None:
        self._model = tables.brokers

    def get(self, tenant_id: str, broker_id: str) -> Broker:
        try:
            return _broker(self._model.get(tenant_id, broker_id, consistent_read=True))
        except DoesNotExist:
            raise BrokerNotFound(broker_id) from None

    def create(self, broker: Broker) -> Broker:
        item = self._model(
            broker.tenant_id,
            broker.broker_id,
            **{name: getattr(broker, name) for name in _BROKER_FIELDS},
            created_at=broker.created_at,
            updated_at=broker.created_at,
        )
        item.save(condition=self._model.broker_id.does_not_exist())
        return broker

    def update(self, broker: Broker, at: datetime) -> Broker:
        """Write the broker's fields, if it still exists (BrokerNotFound otherwise)."""
        model = self._model
        actions: list[Any] = [model.updated_at.set(at)]
        for name in _BROKER_FIELDS:
            value = getattr(broker, name)
            attribute = getattr(model, name)
            actions.append(attribute.set(value) if value is not None else attribute.remove())
        try:
            model(broker.tenant_id, broker.broker_id).update(
                actions=actions, condition=model.broker_id.exists()
            )
        except UpdateError as exc:
            if exc.cause_response_code == _CONDITION_FAILED:
                raise BrokerNotFound(broker.broker_id) from None
            raise
        return broker

    def all_of(self, tenant_id: str) -> list[Broker]:
        """Every broker of the tenant (an agency has tens, one page)."""
        return [_broker(item) for item in self._model.query(tenant_id)]

    def take_turn(self, broker: Broker, at: datetime) -> bool:
        """Record that the broker takes the next lead, unless another handoff took this turn
        since `broker` was read (its last assignment moved): False then, pick again."""
        model = self._model
        last = broker.last_assigned_at
        condition = (
            model.last_assigned_at.does_not_exist()
            if last is None
            else model.last_assigned_at == last
        ) & model.broker_id.exists()
        try:
            model(broker.tenant_id, broker.broker_id).update(
                actions=[model.last_assigned_at.set(at)], condition=condition
            )
        except UpdateError as exc:
            if exc.cause_response_code == _CONDITION_FAILED:
                return False
            raise
        return True

    def walk(self, tenant_id: str, start: Key | None, page_size: int) -> Walk[Broker]:
        """The tenant's brokers, oldest first."""
        results = self._model.query(tenant_id, last_evaluated_key=start, page_size=page_size)
        return Walk(results, _broker)


def _broker(item: BrokerModel) -> Broker:
    return Broker(
        tenant_id=item.tenant_id,
        broker_id=item.broker_id,
        name=item.name,
        phone=item.phone,
        email=item.email,
        telegram_chat_id=item.telegram_chat_id,
        active=bool(item.active),
        away=bool(item.away),
        max_open_leads=int(item.max_open_leads) if item.max_open_leads is not None else None,
        last_assigned_at=item.last_assigned_at,
        created_at=item.created_at,
    )


class DealRepository:
    """Deals with optimistic locking (a version per deal)."""

    def __init__(self, tables: Tables) -> None:
        self._model = tables.deals

    def from_image(self, image: Mapping[str, Any]) -> Deal:
        """A deal from a stream image or raw item (DynamoDB JSON)."""
        return _deal(self._model.from_raw_data(dict(image)))

    def get(self, tenant_id: str, deal_id: str) -> Deal:
        try:
            return _deal(self._model.get(tenant_id, deal_id, consistent_read=True))
        except DoesNotExist:
            raise DealNotFound(deal_id) from None

    def create(self, deal: Deal) -> Deal:
        item = self._model(**_deal_item(deal))
        try:
            item.save()  # with no version yet, pynamodb requires the deal to be new
        except PutError as exc:
            if exc.cause_response_code == _CONDITION_FAILED:
                raise DealConflict(deal.deal_id) from None
            raise
        return replace(deal, version=item.version)

    def save(self, deal: Deal) -> Deal:
        """Write the deal if nobody else did since it was read (DealConflict otherwise)."""
        item = self._model(**_deal_item(deal))
        try:
            item.save()
        except PutError as exc:
            if exc.cause_response_code == _CONDITION_FAILED:
                raise DealConflict(deal.deal_id) from None
            raise
        return replace(deal, version=item.version)

    def walk(
        self,
        tenant_id: str,
        start: Key | None,
        page_size: int,
        *,
        between: tuple[str, str] | None = None,
        newest_first: bool = True,
    ) -> Walk[Deal]:
        """The tenant's deals by creation (deal ids are ULIDs), optionally within an id range."""
        condition = self._model.deal_id.between(*between) if between else None
        results = self._model.query(
            tenant_id,
            range_key_condition=condition,
            scan_index_forward=not newest_first,
            last_evaluated_key=start,
            page_size=page_size,
        )
        return Walk(results, _deal)

    def all(self, tenant_id: str, status: DealStatus | None = None) -> Iterator[Deal]:
        """Every deal of the tenant (for summaries; pages of 1 MB under the hood)."""
        condition = self._model.status == status.value if status is not None else None
        for item in self._model.query(tenant_id, filter_condition=condition):
            yield _deal(item)


def _deal_item(deal: Deal) -> dict[str, Any]:
    data: dict[str, Any] = {
        "tenant_id": deal.tenant_id,
        "deal_id": deal.deal_id,
        "lead_id": deal.lead_id,
        "broker_id": deal.broker_id,
        "status": deal.status.value,
        "currency": deal.value.currency,
        "value": str(deal.value.amount),
        "broker_commission_rate": str(deal.broker_commission_rate),
        "platform_commission_rate": str(deal.platform_commission_rate),
        "broker_commission": str(deal.broker_commission.amount),
        "platform_commission": str(deal.platform_commission.amount),
        "created_at": deal.created_at,
        "closed_at": deal.closed_at,
    }
    if deal.version is not None:
        data["version"] = deal.version
    return data


def _deal(item: DealModel) -> Deal:
    currency = item.currency
    return Deal(
        tenant_id=item.tenant_id,
        deal_id=item.deal_id,
        lead_id=item.lead_id,
        broker_id=item.broker_id,
        status=DealStatus(item.status),
        value=Money(amount=Decimal(item.value), currency=currency),
        broker_commission_rate=Decimal(item.broker_commission_rate),
        platform_commission_rate=Decimal(item.platform_commission_rate),
        broker_commission=Money(amount=Decimal(item.broker_commission), currency=currency),
        platform_commission=Money(amount=Decimal(item.platform_commission), currency=currency),
        created_at=item.created_at,
        closed_at=item.closed_at,
        version=int(item.version) if item.version is not None else None,
    )
