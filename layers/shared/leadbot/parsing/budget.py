"""Budgets as leads type them: '2.5M AED', '۳ میلیارد تومان', '80 lakh', 'от 1 до 2 млн'."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import NamedTuple

from leadbot.domain import Money
from leadbot.parsing.digits import normalize_digits

_MIN_AMOUNT = Decimal(100)  # below this a number is a count or a typo, not a property budget

# The patterns below are text, compiled on first use (`re` caches them): a cold start that
# reads no budget does not pay the ~6 ms of compiling them.

# Digits with "," "." "/" or space groups; _to_decimal settles which separator is which.
# A space groups only when exactly three digits follow ("1 500 000", not "1 2").
_NUMBER = r"[0-9]+(?:(?:[.,/]|[ \u00a0\u202f](?=[0-9]{3}(?![0-9])))[0-9]+)*"
_SPACES = r"[ \u00a0\u202f]"

# Group names carry the power of ten.
_MULTIPLIER = (
    r"\s*(?:"
    r"(?P<e3>thousands?|k|هزار|ألف|الف|آلاف|тыс\w*)"
    r"|(?P<e6>millions?|mil|mln|mn|m|میلیون|ملیون|مليون|ملايين|млн|миллион\w*)"
    r"|(?P<e9>billions?|bn|b|میلیارد|ملیارد|مليار|مليارات|млрд|миллиард\w*)"
    r"|(?P<e5>lakhs?|lacs?|l)"
    r"|(?P<e7>crores?|cr)"
    r")(?!\w)"
)
_INR_MULTIPLIERS = (5, 7)  # lakh and crore are Indian units, so they imply rupees

_BEDROOMS = r"\s*(?:bhk|bed\w*|br|خواب\w*|غرف\w*|спальн\w*|комнат\w*)(?!\w)"

# A letter may not touch a currency word, a digit may ("aed2m", "2500000aed").
_CURRENCIES = {
    "AED": r"aed|dirhams?|dhs?|درهم|دراهم|د\.إ",
    "USD": r"\$|usd|dollars?|دلار|دولار|долл\w*",
    "EUR": r"€|eur|euros?|یورو|يورو|евро",
    "GBP": r"£|gbp|pounds?|پوند",
    "RUB": r"₽|rub|rubles?|roubles?|руб\w*",
    "INR": r"₹|inr|rs|rupees?",
    # IRT is the customary (non-ISO) code for the toman, 10 rials, in which Iranians price homes.
    "IRT": r"irt|tomans?|تومان|تومن",
    # Persian spells rial with Persian yeh (ی); Arabic spelling (ي) is the Saudi riyal.
    "IRR": r"irr|rials?|ریال",
    "SAR": r"sar|riyals?|ريال|ر\.س",
}
_CURRENCY = "|".join(
    rf"(?<![^\W\d_])(?P<{code}>{words})(?![^\W\d_])" for code, words in _CURRENCIES.items()
)

# What may stand between the two ends of a range, once currencies are taken out.
_RANGE_GAP = r"[\s.]*(?:-|–|—|~|to|and|تا|الی|الى|إلى|و|до|и)[\s.]*"
_MINUS = ("-", "\u2212")


class _Amount(NamedTuple):
    value: Decimal
    power: int | None
    end: int


def parse_budget(text: str, default_currency: str) -> Money | None:
    """Return the largest amount in `text` (so a range's upper bound), or None if there is none."""
    text = normalize_digits(text).lower()
    amounts: list[_Amount] = []
    for match in re.compile(_NUMBER).finditer(text):
        if re.compile(_BEDROOMS).match(text, match.end()):
            continue
        value = _to_decimal(match.group())
        if value is None:
            continue
        multiplier = re.compile(_MULTIPLIER).match(text, match.end())
        power = int(multiplier.lastgroup[1:]) if multiplier and multiplier.lastgroup else None
        amount = _Amount(value, power, multiplier.end() if multiplier else match.end())
        gap = (
            re.compile(_CURRENCY).sub("", text[amounts[-1].end : match.start()]) if amounts else ""
        )
        if amounts and re.compile(_RANGE_GAP).fullmatch(gap):
            # "1-2M" and "1M-2" both mean millions at both ends.
            lower = amounts[-1]
            amounts[-1] = lower._replace(power=lower.power or power)
            amount = amount._replace(power=power or lower.power)
        elif text[match.start() - 1 : match.start()] in _MINUS:
            continue
        amounts.append(amount)
    if not amounts:
        return None

    best = max(amounts, key=lambda a: a.value.scaleb(a.power or 0))
    try:
        value = best.value.scaleb(best.power or 0).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than Decimal's precision: not a budget
        return None
    if value < _MIN_AMOUNT:
        return None
    currency = re.compile(_CURRENCY).search(text)
    if currency and currency.lastgroup:
        code = currency.lastgroup
    else:
        code = "INR" if best.power in _INR_MULTIPLIERS else default_currency
    return Money(amount=value, currency=code)


def _to_decimal(token: str) -> Decimal | None:
    """Read '1,500,000', '1.500.000', '2,5', '2/5', '1 500 000' or '1,500.50'; None if garbled."""
    token = re.compile(_SPACES).sub("", token)
    if "/" in token:
        # Persian keyboards lack the decimal separator (٫), so "۲/۵ میلیارد" is 2.5 billion.
        head, _, tail = token.partition("/")
        return Decimal(f"{head}.{tail}") if tail.isdigit() and head.isdigit() else None
    if "," in token and "." in token:
        point = "." if token.rfind(".") > token.rfind(",") else ","
        grouping = "," if point == "." else "."
        if token.count(point) > 1:
            return None
        token = token.replace(grouping, "").replace(point, ".")
    elif "," in token or "." in token:
        separator = "," if "," in token else "."
        head, *groups = token.split(separator)
        # Several separators, or one comma before three digits, group thousands;
        # otherwise it is a decimal point ("2.5", "2,5 млн").
        if len(groups) > 1 or (separator == "," and len(groups[0]) == 3):
            if any(len(group) != 3 for group in groups):
                return None
            token = head + "".join(groups)
        else:
            token = f"{head}.{groups[0]}"
    return Decimal(token)
