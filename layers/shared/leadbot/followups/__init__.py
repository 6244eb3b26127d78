"""What a follow-up says and when it may go (pure): the agency's own wording of a step in the
lead's language, else the catalogs'; listings only as they are (DESIGN.md §6); the lead's time
zone from its phone, else the agency's.

Honest by construction: the words know only the lead's name and the agency's. A listing is
shown only when the matching module says it fits, and scarcity only from its real
`units_available` (the card says it, when at most the agency's threshold).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from leadbot.domain import FollowupStep, Language, Lead, Outbound, Tenant
from leadbot.domain.followups import (
    PendingFollowup,
    campaign_number,
    ghost_due_at,
    ghost_followup_due,
    next_followup,
)
from leadbot.i18n import placeholders, t

if TYPE_CHECKING:
    # Not imported at run time: the webhook derives follow-up times and never shows cards here.
    from leadbot.domain.listings import Property

__all__ = [
    "FollowupMessage",
    "campaign_message",
    "ghost_due_at",
    "ghost_followup_due",
    "ghost_message",
    "lead_zone",
    "match_message",
    "pending_followup",
]

OFFER_LISTINGS = 3  # "what we offer": at most this many cards


@dataclass(frozen=True, slots=True)
class FollowupMessage:
    """A follow-up's messages, in order, and the listings they show."""

    outbound: tuple[Outbound, ...]
    shown: tuple[Property, ...] = ()


def ghost_message(lead: Lead, tenant: Tenant) -> Outbound:
    """The one ghost follow-up: a friendly check-in in the lead's language, with its name.

    A lead without a name gets the catalog's nameless wording rather than "Hi ," from an
    agency template that greets by {name}.
    """
    language = _language(lead, tenant)
    own = _own(lead, tenant, FollowupStep.GHOST, language)
    if own is not None:
        return Outbound(text=own)
    name = lead.name.strip()
    key = "followup.ghost" if name else "followup.ghost.no_name"
    return Outbound(text=t(key, language, name=name, agency=tenant.name))


def campaign_message(
    lead: Lead, tenant: Tenant, step: FollowupStep, listings: Iterable[Property]
) -> FollowupMessage:
    """A campaign step. The first, "what we offer": the best fitting listings the lead has not
    been shown, else what the agency does for it. The second, "time-sensitive": a fitting
    listing with few units left (its card says how many), else a plain reminder. Later steps
    remind. The agency's own wording of the step replaces the words, never the cards."""
    from leadbot.conversation.engine import listing_card
    from leadbot.conversation.matching import matches, next_matches, scarce, stated

    language = _language(lead, tenant)
    number = campaign_number(step)
    shown: list[Property] = []
    if not stated(lead):
        listings = ()  # nothing asked for: no listing "fits what you asked for"
    if number == 1:
        shown = next_matches(lead, listings, limit=OFFER_LISTINGS)
        body = "followup.offer.listings" if shown else "followup.offer.services"
    elif number == 2:
        threshold = tenant.scarcity_threshold
        shown = [p for p in matches(lead, listings) if scarce(p, threshold)][:1]
        body = "followup.urgent.scarce" if shown else "followup.reminder"
    else:
        body = "followup.reminder"
    own = _own(lead, tenant, step, language)
    words = own if own is not None else _greeting(lead, tenant, language, t(body, language))
    cards = [listing_card(p, language, tenant.scarcity_threshold) for p in shown]
    return FollowupMessage(outbound=_lead_with(words, cards), shown=tuple(shown))


def match_message(lead: Lead, tenant: Tenant, listing: Property) -> Outbound:
    """A new listing that fits what the lead asked for, said so, as its card."""
    from leadbot.conversation.engine import listing_card

    language = _language(lead, tenant)
    card = listing_card(listing, language, tenant.scarcity_threshold)
    words = _greeting(lead, tenant, language, t("followup.match", language))
    return _lead_with(words, [card])[0]


def lead_zone(lead: Lead, tenant: Tenant) -> ZoneInfo:
    """The lead's time zone: its phone's country's, else the agency's."""
    from leadbot.parsing.phone import phone_time_zone

    phone = (lead.phone or "").strip()
    name = phone_time_zone(phone) if phone else None
    return _zone(name or tenant.timezone)


def pending_followup(lead: Lead, tenant: Tenant) -> PendingFollowup | None:
    """The follow-up the lead waits for and when it may go, on the lead's own clock."""
    return next_followup(lead, tenant, lead_zone(lead, tenant))


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _language(lead: Lead, tenant: Tenant) -> Language:
    return lead.language or tenant.default_language


def _own(lead: Lead, tenant: Tenant, step: FollowupStep, language: Language) -> str | None:
    """The agency's wording of `step`, filled; None when it has none, or greets by a name the
    lead never gave."""
    own = tenant.followup_template(step, language)
    name = lead.name.strip()
    if own is None or (not name and "name" in placeholders(own)):
        return None
    return own.format(name=name, agency=tenant.name)


def _greeting(lead: Lead, tenant: Tenant, language: Language, body: str) -> str:
    name = lead.name.strip()
    key = "followup.greeting" if name else "followup.greeting.no_name"
    return f"{t(key, language, name=name, agency=tenant.name)} {body}"


def _lead_with(words: str, cards: list[Outbound]) -> tuple[Outbound, ...]:
    """The words above the first card (one message), or alone."""
    if not cards:
        return (Outbound(text=words),)
    first = replace(cards[0], text=f"{words}\n\n{cards[0].text}")
    return (first, *cards[1:])
