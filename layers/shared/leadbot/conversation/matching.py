"""Which listings fit a lead, best first, and which new listing matches what it asked for;
pure, no I/O.

A listing is offered only when it is active, has a unit left, and does not contradict what
the lead said: the transaction their goal asks for (buy and invest → sale, rent → rent), a
price within their budget (compared only in the same currency: no exchange rate is invented;
a range's upper end is the budget, as parsing reads it), and their property type. Among those,
the area and the bedrooms rank them; then the price nearest the budget.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from leadbot.domain import Bedrooms, Goal, Lead
from leadbot.domain.listings import ListingStatus, Property, Transaction

TOP = 3  # listings per offer: one value proposition, one "Show more"

_TRANSACTION = {
    Goal.BUY: Transaction.SALE,
    Goal.INVEST: Transaction.SALE,
    Goal.RENT: Transaction.RENT,
}
_BEDROOM_ORDER = (Bedrooms.STUDIO, Bedrooms.ONE, Bedrooms.TWO, Bedrooms.THREE, Bedrooms.FOUR_PLUS)


def matches(lead: Lead, listings: Iterable[Property]) -> list[Property]:
    """Every listing that fits the lead, best first."""
    newest_first = sorted(
        (p for p in listings if _fits(lead, p)), key=lambda p: p.property_id, reverse=True
    )
    return sorted(newest_first, key=lambda p: _rank(lead, p))  # stable: newest first in a tie


def next_matches(lead: Lead, listings: Iterable[Property], limit: int = TOP) -> list[Property]:
    """The best fitting listings the lead has not been offered yet."""
    shown = set(lead.offered_property_ids)
    return [p for p in matches(lead, listings) if p.property_id not in shown][:limit]


def fits_new_listing(lead: Lead, listing: Property) -> bool:
    """Whether a new listing may be announced to the lead as one matching what it asked for.

    It must fit as `matches` offers it (so the two never disagree: an announced listing is one
    the conversation would offer too), and match what the lead said, not merely not contradict
    it: the lead named a goal and a budget in the listing's currency, and, where the lead named
    them, the area (case and spacing aside) and the number of bedrooms.
    """
    budget = lead.budget
    if lead.goal is None or budget is None or budget.currency != listing.price.currency:
        return False
    if not _fits(lead, listing):
        return False
    if (lead.location or "").strip() and not same_area(lead.location or "", listing.location):
        return False
    return lead.bedrooms is None or listing.bedrooms is lead.bedrooms


def stated(lead: Lead) -> bool:
    """Whether the lead said anything a listing can fit: only then may a listing be called one
    that fits what it asked for."""
    return any(
        value is not None for value in (lead.goal, lead.budget, lead.property_type, lead.bedrooms)
    ) or bool((lead.location or "").strip())


def scarce(listing: Property, threshold: int) -> bool:
    """Whether "only N units left" may be said: the real count is at most the agency's
    threshold (and there is a unit at all)."""
    return 0 < listing.units_available <= threshold


def same_area(wanted: str, listed: str) -> bool:
    """Case and spacing aside, one names the other: "marina" fits "Dubai Marina"."""
    a, b = _folded(wanted), _folded(listed)
    return bool(a and b) and (a in b or b in a)


def _fits(lead: Lead, listing: Property) -> bool:
    if listing.status is not ListingStatus.ACTIVE or listing.units_available <= 0:
        return False
    if lead.goal is not None and listing.transaction is not _TRANSACTION[lead.goal]:
        return False
    budget = lead.budget
    comparable = budget is not None and budget.currency == listing.price.currency
    if comparable and budget is not None and listing.price.amount > budget.amount:
        return False
    return lead.property_type is None or listing.property_type is lead.property_type


def _rank(lead: Lead, listing: Property) -> tuple[int, Decimal]:
    """Sort key, smaller first: fit (area 3, bedrooms 2 exact or 1 next to), then the price
    nearest the budget."""
    fit = 0
    if lead.location and same_area(lead.location, listing.location):
        fit += 3
    if lead.bedrooms is not None and listing.bedrooms is not None:
        apart = abs(_BEDROOM_ORDER.index(lead.bedrooms) - _BEDROOM_ORDER.index(listing.bedrooms))
        fit += {0: 2, 1: 1}.get(apart, 0)
    budget = lead.budget
    gap = Decimal(0)
    if budget is not None and budget.currency == listing.price.currency:
        gap = budget.amount - listing.price.amount
    return (-fit, gap)


def _folded(text: str) -> str:
    return " ".join(text.casefold().split())
