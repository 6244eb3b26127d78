"""The domain's value semantics (domain.models.Value): what dataclasses would have generated."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from leadbot.domain import Channel, Delivery, DeliveryStatus, Lead, Money, SlowedDown

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def lead(**changes: object) -> Lead:
    base = Lead(
        tenant_id="demo",
        lead_id="01L",
        channel=Channel.TELEGRAM,
        external_id="42",
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_equal_by_every_field_and_hashed_alike() -> None:
    assert lead() == lead()
    assert hash(lead()) == hash(lead())
    assert lead() != lead(name="Sara")
    assert lead(budget=Money(amount=Decimal("2.50"), currency="AED")) == lead(
        budget=Money(amount=Decimal("2.5"), currency="AED")
    )
    assert len({lead(), lead(), lead(name="Sara")}) == 2


def test_another_class_with_the_same_fields_is_not_equal() -> None:
    assert Delivery(status=DeliveryStatus.SENT) != object()
    assert (Delivery(status=DeliveryStatus.SENT) == "sent") is False
    assert SlowedDown() == SlowedDown()


def test_repr_names_the_class_and_every_field() -> None:
    shown = repr(Delivery(status=DeliveryStatus.SENT, message_id="7"))
    assert shown == (
        "Delivery(status=<DeliveryStatus.SENT: 'sent'>, message_id='7', error=None, "
        "error_code=None, retryable=False)"
    )


def test_still_frozen() -> None:
    with pytest.raises(AttributeError):
        lead().name = "x"  # type: ignore[misc]
