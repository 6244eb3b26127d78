"""Commission math: Decimal only, rounded half up to the currency's minor units."""

from __future__ import annotations

from decimal import Decimal

import pytest

from leadbot.domain import Money, commissions, fits_currency, minor_units, to_minor

D = Decimal


@pytest.mark.parametrize(
    ("value", "currency", "broker_rate", "platform_rate", "broker", "platform"),
    [
        # the defaults: 2 % to the broker, a quarter of that to the platform
        ("2500000.00", "AED", "0.02", "0.25", "50000.00", "12500.00"),
        ("80000000", "INR", "0.02", "0.25", "1600000.00", "400000.00"),
        ("350000.00", "USD", "0.02", "0.25", "7000.00", "1750.00"),
        # half a fils rounds up, for the broker and then for the platform's share of that
        ("0.25", "AED", "0.02", "0.25", "0.01", "0.00"),
        ("1.25", "USD", "0.02", "0.25", "0.03", "0.01"),
        ("0.75", "USD", "0.02", "0.25", "0.02", "0.01"),  # 0.015 → 0.02; 0.005 → 0.01
        ("0.74", "USD", "0.02", "0.25", "0.01", "0.00"),  # 0.0148 → 0.01; 0.0025 → 0.00
        ("0", "AED", "0.02", "0.25", "0.00", "0.00"),
        ("1000000", "AED", "0", "0.25", "0.00", "0.00"),
        ("1000000", "AED", "1", "1", "1000000.00", "1000000.00"),
        # large values stay exact (a float would lose the last digits)
        (
            "999999999999999999.99",
            "USD",
            "0.02",
            "0.25",
            "20000000000000000.00",
            "5000000000000000.00",
        ),
        ("123456789012345.67", "AED", "0.0275", "0.3", "3395061697839.51", "1018518509351.85"),
        # currencies without cents, and with three decimals
        ("1234567", "JPY", "0.02", "0.25", "24691", "6173"),
        ("1000.125", "KWD", "0.02", "0.25", "20.003", "5.001"),
    ],
)
def test_commissions(
    value: str,
    currency: str,
    broker_rate: str,
    platform_rate: str,
    broker: str,
    platform: str,
) -> None:
    shares = commissions(
        Money(amount=D(value), currency=currency), D(broker_rate), D(platform_rate)
    )
    assert (str(shares.broker.amount), str(shares.platform.amount)) == (broker, platform)
    assert shares.broker.currency == shares.platform.currency == currency


def test_the_platform_takes_its_share_of_what_the_broker_is_paid() -> None:
    # 0.0249 → the broker gets 0.02; the platform 25 % of that, not of 0.0249
    shares = commissions(Money(amount=D("1.245"), currency="USD"), D("0.02"), D("0.25"))
    assert shares.broker.amount == D("0.02") and shares.platform.amount == D("0.01")


@pytest.mark.parametrize("rate", [D("-0.01"), D("1.01"), 0.02])
def test_rates_are_decimals_between_0_and_1(rate: object) -> None:
    with pytest.raises(ValueError, match="rate"):
        commissions(Money(amount=D("100"), currency="AED"), rate, D("0.25"))  # type: ignore[arg-type]


def test_money_is_never_a_float() -> None:
    with pytest.raises(ValueError, match="float"):
        commissions(Money(amount=100.0, currency="AED"), D("0.02"), D("0.25"))  # type: ignore[arg-type]


def test_minor_units() -> None:
    assert [minor_units(c) for c in ("AED", "INR", "USD", "JPY", "KWD", "XYZ")] == [
        2,
        2,
        2,
        0,
        3,
        2,
    ]
    assert str(to_minor(D("2500000"), "AED")) == "2500000.00"
    assert str(to_minor(D("2.675"), "USD")) == "2.68"  # half up, where a float gives 2.67
    assert fits_currency(D("10.50"), "AED") and not fits_currency(D("10.505"), "AED")
    assert not fits_currency(D("10.5"), "JPY")
