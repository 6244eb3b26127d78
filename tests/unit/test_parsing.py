"""Parsing of budgets, phones, digits and languages as leads actually type them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from leadbot.domain import Language, Money
from leadbot.parsing import (
    detect_script_language,
    language_from_code,
    normalize_digits,
    parse_budget,
    parse_phone,
)
from leadbot.parsing.answers import is_question

# --- digits -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("۰۱۲۳۴۵۶۷۸۹", "0123456789"),
        ("٠١٢٣٤٥٦٧٨٩", "0123456789"),
        ("۲٫۵ میلیون", "2.5 میلیون"),
        ("١٬٥٠٠٬٠٠٠", "1,500,000"),
        ("1،500،000", "1,500,000"),
        ("سلام، خوبی", "سلام، خوبی"),  # an Arabic comma between words stays punctuation
        ("\u200e+971\u200f 50\u202a123\u202c4567\u2066\u2069\u061c", "+971 501234567"),
        ("می\u200cخواهم ۳", "می\u200cخواهم 3"),  # ZWNJ inside words is kept
        ("plain 123 text", "plain 123 text"),
        ("", ""),
    ],
)
def test_normalize_digits_converts_scripts_and_strips_bidi_marks(text: str, expected: str) -> None:
    assert normalize_digits(text) == expected


# --- budgets ------------------------------------------------------------------------------


def _money(amount: int | str, currency: str) -> Money:
    return Money(amount=Decimal(amount), currency=currency)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # dirhams
        ("2.5M AED", _money(2_500_000, "AED")),
        ("AED 2,500,000", _money(2_500_000, "AED")),
        ("aed2,500,000", _money(2_500_000, "AED")),
        ("2.5 million dirhams", _money(2_500_000, "AED")),
        ("2.5 MILLION DIRHAMS", _money(2_500_000, "AED")),
        ("۲٫۵ میلیون درهم", _money(2_500_000, "AED")),
        ("٢٫٥ مليون درهم", _money(2_500_000, "AED")),
        ("3m dhs", _money(3_000_000, "AED")),
        # toman, rial, riyal
        ("۳ میلیارد تومان", _money(3_000_000_000, "IRT")),
        ("3 billion toman", _money(3_000_000_000, "IRT")),
        ("۵۰۰ میلیون تومن", _money(500_000_000, "IRT")),
        ("۳۰ میلیارد ریال", _money(30_000_000_000, "IRR")),
        ("30 billion rial", _money(30_000_000_000, "IRR")),
        ("٥ مليون ريال", _money(5_000_000, "SAR")),
        ("5M SAR", _money(5_000_000, "SAR")),
        ("5 million riyals", _money(5_000_000, "SAR")),
        # rupees, lakh and crore
        ("₹3 Cr", _money(30_000_000, "INR")),
        ("3 crore", _money(30_000_000, "INR")),
        ("3cr", _money(30_000_000, "INR")),
        ("80 lakh", _money(8_000_000, "INR")),
        ("80 lakhs", _money(8_000_000, "INR")),
        ("80L", _money(8_000_000, "INR")),
        ("80 lac", _money(8_000_000, "INR")),
        ("80 lakh AED", _money(8_000_000, "AED")),
        ("Rs 50 lakh", _money(5_000_000, "INR")),
        # default currency and thousands
        ("500k", _money(500_000, "AED")),
        ("500 K", _money(500_000, "AED")),
        ("500 thousand", _money(500_000, "AED")),
        ("۵۰۰ هزار", _money(500_000, "AED")),
        ("500 ألف", _money(500_000, "AED")),
        ("500 الف", _money(500_000, "AED")),
        ("500 тыс", _money(500_000, "AED")),
        ("500 тыс.", _money(500_000, "AED")),
        ("500 тысяч", _money(500_000, "AED")),
        # dollars
        ("$1.2m", _money(1_200_000, "USD")),
        ("1.2M USD", _money(1_200_000, "USD")),
        ("1.2 million dollars", _money(1_200_000, "USD")),
        ("1.2 mn usd", _money(1_200_000, "USD")),
        ("1.2 mil", _money(1_200_000, "AED")),
        ("۱ میلیون دلار", _money(1_000_000, "USD")),
        ("١ مليون دولار", _money(1_000_000, "USD")),
        ("1 млн долларов", _money(1_000_000, "USD")),
        ("1 миллион долларов", _money(1_000_000, "USD")),
        ("2 миллиона доллара", _money(2_000_000, "USD")),
        # euros, pounds, roubles
        ("€900k", _money(900_000, "EUR")),
        ("900k EUR", _money(900_000, "EUR")),
        ("900 thousand euros", _money(900_000, "EUR")),
        ("900 тыс евро", _money(900_000, "EUR")),
        ("£2m", _money(2_000_000, "GBP")),
        ("2m GBP", _money(2_000_000, "GBP")),
        ("2 million pounds", _money(2_000_000, "GBP")),
        ("50 млн ₽", _money(50_000_000, "RUB")),
        ("50 млн руб", _money(50_000_000, "RUB")),
        ("50 миллионов рублей", _money(50_000_000, "RUB")),
        ("50M RUB", _money(50_000_000, "RUB")),
        # billions
        ("1b", _money(1_000_000_000, "AED")),
        ("1.5bn", _money(1_500_000_000, "AED")),
        ("1 billion", _money(1_000_000_000, "AED")),
        ("1 млрд", _money(1_000_000_000, "AED")),
        ("2 миллиарда", _money(2_000_000_000, "AED")),
        ("2 مليار", _money(2_000_000_000, "AED")),
        # plain numbers and separators
        ("1500000", _money(1_500_000, "AED")),
        ("1,500,000", _money(1_500_000, "AED")),
        ("1 500 000", _money(1_500_000, "AED")),
        ("1\u00a0500\u00a0000", _money(1_500_000, "AED")),
        ("1\u202f500\u202f000", _money(1_500_000, "AED")),
        ("1.500.000", _money(1_500_000, "AED")),
        ("1,500,000.50", _money(1_500_001, "AED")),
        ("1.500.000,50", _money(1_500_001, "AED")),
        ("۱٬۵۰۰٬۰۰۰", _money(1_500_000, "AED")),
        ("١٥٠٠٠٠٠", _money(1_500_000, "AED")),
        ("2,5 млн", _money(2_500_000, "AED")),
        ("۲/۵ میلیارد تومان", _money(2_500_000_000, "IRT")),  # "/" as the Persian decimal point
        ("100", _money(100, "AED")),
        # ranges: the upper bound, multiplier and currency at both ends
        ("1-2M", _money(2_000_000, "AED")),
        ("1 - 2M AED", _money(2_000_000, "AED")),
        ("1–2 million", _money(2_000_000, "AED")),
        ("1 to 2 million", _money(2_000_000, "AED")),
        ("between 1 and 2 million dollars", _money(2_000_000, "USD")),
        ("1.5m to 2", _money(2_000_000, "AED")),
        ("AED 1M - AED 2M", _money(2_000_000, "AED")),
        ("от 1 до 2 млн", _money(2_000_000, "AED")),
        ("от 1 до 2 млн рублей", _money(2_000_000, "RUB")),
        ("۱ تا ۲ میلیارد تومان", _money(2_000_000_000, "IRT")),
        ("٢-٣ مليون درهم", _money(3_000_000, "AED")),
        ("50-80 lakh", _money(8_000_000, "INR")),
        # a budget among other words
        ("my budget is around 2.5M AED", _money(2_500_000, "AED")),
        ("2BHK, budget 1.2M", _money(1_200_000, "AED")),
        ("3 bedrooms up to 4m", _money(4_000_000, "AED")),
        ("\u200f۲\u200f میلیون", _money(2_000_000, "AED")),
    ],
)
def test_parse_budget_reads_amount_and_currency(text: str, expected: Money) -> None:
    assert parse_budget(text, "AED") == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "my budget is flexible",
        "no idea",
        "بودجه مشخص نیست",
        "5",
        "99",
        "0",
        "0 AED",
        "-500k",
        "−2M",
        "2BHK",
        "2 bhk",
        "3 bedrooms",
        "3 bed",
        "3br",
        "۳ خوابه",
        "1.2.3",
        "1,23,4",
        "1402/05/12",
        "9" * 40,
    ],
)
def test_parse_budget_returns_none_without_a_budget(text: str) -> None:
    assert parse_budget(text, "AED") is None


def test_parse_budget_uses_the_default_currency_when_none_is_named() -> None:
    assert parse_budget("1.2m", "USD") == _money(1_200_000, "USD")


@pytest.mark.parametrize("text", ["2.5M AED", "۲٫۵ میلیون", "2,5 млн", "₹3 Cr", "1.500.000,50"])
def test_parse_budget_returns_whole_units_as_decimal(text: str) -> None:
    money = parse_budget(text, "AED")

    assert money is not None
    assert isinstance(money.amount, Decimal)
    assert money.amount.as_tuple().exponent == 0


# --- phones -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("+971501234567", "AE", "+971501234567"),
        ("+971 50 123 4567", "AE", "+971501234567"),
        ("0501234567", "AE", "+971501234567"),
        ("050-123-4567", "AE", "+971501234567"),
        ("(050) 123.4567", "AE", "+971501234567"),
        ("00971501234567", "AE", "+971501234567"),
        ("00971 50 123 4567", "RU", "+971501234567"),
        ("971501234567", "AE", "+971501234567"),  # Telegram contact card, no "+"
        ("971501234567", "RU", "+971501234567"),
        ("۰۵۰۱۲۳۴۵۶۷", "AE", "+971501234567"),
        ("٠٥٠١٢٣٤٥٦٧", "AE", "+971501234567"),
        ("+۹۷۱ ۵۰ ۱۲۳ ۴۵۶۷", "AE", "+971501234567"),
        ("\u200e+971 50 123 4567\u200e", "AE", "+971501234567"),
        ("my number is +971 50 123 4567", "AE", "+971501234567"),
        ("شماره من ۰۵۰۱۲۳۴۵۶۷ است", "AE", "+971501234567"),
        ("+7 (912) 345-67-89", "AE", "+79123456789"),
        ("8 (912) 345-67-89", "RU", "+79123456789"),
        ("79123456789", "AE", "+79123456789"),
        ("09121234567", "IR", "+989121234567"),
        ("۰۹۱۲۱۲۳۴۵۶۷", "IR", "+989121234567"),
        ("+98 912 123 4567", "AE", "+989121234567"),
        ("+91 98765 43210", "AE", "+919876543210"),
        ("9876543210", "IN", "+919876543210"),
        ("0501234567", "ae", "+971501234567"),
    ],
)
def test_parse_phone_returns_e164(text: str, region: str, expected: str) -> None:
    assert parse_phone(text, region) == expected


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("", "AE"),
        ("call me tomorrow", "AE"),
        ("12345", "AE"),
        ("0501234", "AE"),
        ("050 abc 1234567", "AE"),
        ("2.5M AED", "AE"),
        ("+999 123 456 789", "AE"),
        ("123456789012345678", "AE"),
        ("0501234567", ""),
        ("0501234567", "XX"),
    ],
)
def test_parse_phone_returns_none_for_non_numbers(text: str, region: str) -> None:
    assert parse_phone(text, region) is None


# --- languages ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, I want to buy", Language.EN),
        ("Привет, хочу купить квартиру", Language.RU),
        ("مرحبا، أريد شراء شقة", Language.AR),
        ("سلام، می‌خواهم خانه بخرم", Language.FA),
        ("سلام", Language.AR),  # nothing Persian-only in it
        ("گ", Language.FA),
        ("۲ میلیون", Language.FA),  # Persian digits mark Persian
        ("٢ مليون", Language.AR),
        ("I want شقة", Language.EN),  # majority wins
        ("شقة in Dubai Marina please", Language.EN),
        ("квартира in JVC", Language.RU),
        ("ok да", Language.RU),  # ties go to the non-Latin script
        ("Café", Language.EN),
        ("12345", None),
        ("👍🏠", None),
        ("", None),
        ("+971 50 123 4567", None),
    ],
)
def test_detect_script_language(text: str, expected: Language | None) -> None:
    assert detect_script_language(text) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("en", Language.EN),
        ("en-US", Language.EN),
        ("EN_gb", Language.EN),
        ("fa", Language.FA),
        ("fa-IR", Language.FA),
        ("pes", Language.FA),
        ("ar", Language.AR),
        ("ar-AE", Language.AR),
        ("ru", Language.RU),
        ("ru-RU", Language.RU),
        ("de", None),
        ("de-DE", None),
        ("", None),
        (None, None),
    ],
)
def test_language_from_code(code: str | None, expected: Language | None) -> None:
    assert language_from_code(code) == expected


# --- questions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "is there a pool?",
        "What's the service charge",
        "how big is the balcony",
        "Thanks. When is the handover",
        "ok, where is it exactly",
        "قیمت چنده؟",  # the Arabic question mark
        "آیا پارکینگ دارد",
        "چند طبقه است",
        "قیمت هر متر چقدر است",  # Persian asks late in the sentence
        "هل يوجد موقف سيارات",
        "شكرا، كم السعر",  # after an Arabic comma
        "сколько стоит парковка",
        "Где находится объект",
        "Есть ли парковка",
    ],
)
def test_is_question(text: str) -> None:
    assert is_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "ok thanks",
        "I want a villa",
        "Whatever works",  # "what" only as a whole word
        "من خونه میخوام",  # Persian "I …", not Arabic "who"
        "ما عندي وقت الآن",  # Arabic "not", not "what"
        "Спасибо",
        "",
    ],
)
def test_is_not_question(text: str) -> None:
    assert not is_question(text)
