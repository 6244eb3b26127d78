"""Campaign steps, their stop conditions, quiet hours on the lead's own clock, and what each
step says: pure, with the time passed in."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from leadbot.domain import (
    Bedrooms,
    Channel,
    FollowupStep,
    FollowupTemplate,
    Goal,
    InvalidSettings,
    Language,
    Lead,
    LeadStatus,
    Money,
    PropertyType,
    Tenant,
)
from leadbot.domain.followups import (
    Held,
    after_quiet_hours,
    campaign_due,
    hold_listing,
    in_quiet_hours,
    next_followup,
)
from leadbot.domain.listings import ListingStatus, Property, Transaction
from leadbot.domain.settings import check
from leadbot.followups import campaign_message, lead_zone, pending_followup
from leadbot.i18n import t

# The ghost check-in went at 06:00 UTC (10:00 in Dubai).
REMINDED = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
TENANT = Tenant(tenant_id="demo", name="Demo Realty")
DUBAI = ZoneInfo("Asia/Dubai")


def reminded_lead(**changes: Any) -> Lead:
    """A qualified Telegram lead in Dubai that got its ghost check-in and said nothing since."""
    lead = Lead(
        tenant_id="demo",
        lead_id="01KE6P4YM0VS00000000000001",
        channel=Channel.TELEGRAM,
        external_id="424242",
        name="Sara",
        language=Language.EN,
        status=LeadStatus.QUALIFIED,
        goal=Goal.BUY,
        budget=Money(amount=Decimal("2500000"), currency="AED"),
        property_type=PropertyType.APARTMENT,
        location="Dubai Marina",
        bedrooms=Bedrooms.TWO,
        phone="+971501234567",
        created_at=REMINDED - timedelta(hours=3),
        updated_at=REMINDED,
        last_inbound_at=REMINDED - timedelta(hours=2),
        ghost_claimed_at=REMINDED,
        ghost_reminded_at=REMINDED,
    )
    return replace(lead, **changes)


def listing(n: int, **fields: Any) -> Property:
    values: dict[str, Any] = {
        "tenant_id": "demo",
        "property_id": f"01KE6P4YM0VS0000000000{n:04d}",
        "title": f"Marina Tower {n}",
        "location": "Dubai Marina",
        "property_type": PropertyType.APARTMENT,
        "transaction": Transaction.SALE,
        "bedrooms": Bedrooms.TWO,
        "price": Money(amount=Decimal("2000000"), currency="AED"),
        "units_available": 10,
        "created_at": REMINDED,
        "updated_at": REMINDED,
        **fields,
    }
    return Property(**values)


# -- the steps --------------------------------------------------------------------------------


def test_day_3_then_day_6_after_the_check_in_then_nothing() -> None:
    lead = reminded_lead()
    first = pending_followup(lead, TENANT)
    assert first is not None
    assert (first.step, first.due_at) == (FollowupStep.CAMPAIGN_1, REMINDED + timedelta(days=3))
    second = pending_followup(replace(lead, campaign_steps_sent=1), TENANT)
    assert second is not None
    assert (second.step, second.due_at) == (FollowupStep.CAMPAIGN_2, REMINDED + timedelta(days=6))
    assert pending_followup(replace(lead, campaign_steps_sent=2), TENANT) is None


def test_the_agency_chooses_the_days_and_how_many() -> None:
    tenant = replace(TENANT, campaign_days=(1, 2, 9))
    lead = reminded_lead(campaign_steps_sent=2)
    third = pending_followup(lead, tenant)
    assert third is not None
    assert (third.step, third.due_at) == (FollowupStep.CAMPAIGN_3, REMINDED + timedelta(days=9))
    assert pending_followup(reminded_lead(), replace(TENANT, campaign_days=())) is None


def test_nothing_before_the_check_in_went() -> None:
    waiting = reminded_lead(ghost_claimed_at=None, ghost_reminded_at=None)
    pending = pending_followup(waiting, TENANT)
    assert pending is not None and pending.step is FollowupStep.GHOST
    assert campaign_due(waiting, TENANT) is None
    # Claimed by a sweep that has not sent it yet: nothing at all is pending.
    assert pending_followup(replace(waiting, ghost_claimed_at=REMINDED), TENANT) is None


@pytest.mark.parametrize(
    ("why", "changes"),
    [
        ("a reply after the check-in", {"last_inbound_at": REMINDED + timedelta(minutes=5)}),
        ("opted out", {"opted_out": True}),
        ("unreachable", {"unreachable": True}),
        ("an agent took over", {"bot_paused": True}),
        ("a broker asked for", {"status": LeadStatus.BROKER_REQUESTED}),
        ("assigned to a broker", {"status": LeadStatus.ASSIGNED}),
        ("contacted", {"status": LeadStatus.CONTACTED}),
        ("viewing scheduled", {"status": LeadStatus.VIEWING_SCHEDULED}),
        ("negotiating", {"status": LeadStatus.NEGOTIATING}),
        ("won", {"status": LeadStatus.WON}),
        ("lost", {"status": LeadStatus.LOST}),
        ("a viewing asked for from a card", {"viewing_requested_at": REMINDED}),
        ("a step claimed by a sweep", {"campaign_claimed_at": REMINDED}),
    ],
)
def test_stop_conditions(why: str, changes: dict[str, Any]) -> None:
    assert pending_followup(reminded_lead(**changes), TENANT) is None, why
    # At any step.
    later = reminded_lead(campaign_steps_sent=1, **changes)
    assert pending_followup(later, TENANT) is None, why


def test_the_statuses_before_a_handoff_keep_the_campaign() -> None:
    for status in (LeadStatus.NEW, LeadStatus.QUALIFYING, LeadStatus.QUALIFIED):
        assert pending_followup(reminded_lead(status=status), TENANT) is not None


# -- quiet hours ------------------------------------------------------------------------------


def test_a_dubai_lead_due_at_22_is_due_at_9_next_morning() -> None:
    # Reminded at 18:00 UTC: day 3 falls at 22:00 in Dubai.
    evening = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
    lead = reminded_lead(ghost_reminded_at=evening, last_inbound_at=evening - timedelta(hours=2))
    pending = pending_followup(lead, TENANT)
    assert pending is not None
    assert pending.due_at == datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # 09:00 in Dubai
    assert pending.due_at.astimezone(DUBAI).hour == 9


def test_a_russian_lead_keeps_moscow_time() -> None:
    # 17:30 UTC is 21:30 in Dubai (quiet) but 20:30 in Moscow (not yet).
    at = datetime(2026, 11, 21, 17, 30, tzinfo=UTC)
    moscow = reminded_lead(phone="+74951234567", ghost_reminded_at=at, last_inbound_at=at)
    assert lead_zone(moscow, TENANT) == ZoneInfo("Europe/Moscow")
    pending = pending_followup(moscow, TENANT)
    assert pending is not None and pending.due_at == at + timedelta(days=3)
    dubai = replace(moscow, phone="+971501234567")
    pushed = pending_followup(dubai, TENANT)
    assert pushed is not None and pushed.due_at == datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
    # 18:30 UTC is 21:30 in Moscow: its own morning, 09:00 there (06:00 UTC).
    late = replace(moscow, ghost_reminded_at=at + timedelta(hours=1))
    quiet = pending_followup(late, TENANT)
    assert quiet is not None and quiet.due_at == datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


def test_without_a_zone_from_the_phone_the_agencys_zone() -> None:
    london = replace(TENANT, timezone="Europe/London")
    assert lead_zone(reminded_lead(phone=None), london) == ZoneInfo("Europe/London")
    # A number no country's clock belongs to (international freephone).
    assert lead_zone(reminded_lead(phone="+80012345678"), london) == ZoneInfo("Europe/London")


def test_the_ghost_check_in_keeps_quiet_hours_too() -> None:
    # Last message at 17:00 UTC: two hours later is 23:00 in Dubai.
    last = datetime(2026, 11, 21, 17, 0, tzinfo=UTC)
    lead = reminded_lead(ghost_claimed_at=None, ghost_reminded_at=None, last_inbound_at=last)
    pending = pending_followup(lead, TENANT)
    assert pending is not None and pending.step is FollowupStep.GHOST
    assert pending.due_at == datetime(2026, 11, 22, 5, 0, tzinfo=UTC)


def dubai_time(hour: int, minute: int = 0) -> datetime:
    """That time on the day of the check-in, in Dubai."""
    return datetime(2026, 11, 21, hour, minute, tzinfo=DUBAI)


def test_quiet_hours_edges_and_a_window_within_one_day() -> None:
    local = dubai_time
    assert not in_quiet_hours(local(20, 59), DUBAI, TENANT)
    assert in_quiet_hours(local(21), DUBAI, TENANT)
    assert in_quiet_hours(local(8, 59), DUBAI, TENANT)
    assert not in_quiet_hours(local(9), DUBAI, TENANT)
    assert after_quiet_hours(local(3), DUBAI, TENANT) == local(9)
    assert after_quiet_hours(local(12), DUBAI, TENANT) == local(12)
    siesta = replace(TENANT, quiet_hours_start=13, quiet_hours_end=16)
    assert in_quiet_hours(local(14), DUBAI, siesta) and not in_quiet_hours(local(22), DUBAI, siesta)
    assert after_quiet_hours(local(14, 30), DUBAI, siesta) == local(16)


def test_a_floor_a_sweep_set_holds_the_step_back() -> None:
    floor = REMINDED + timedelta(days=3, hours=5)
    pending = next_followup(reminded_lead(followup_not_before=floor), TENANT, DUBAI)
    assert pending is not None and pending.due_at == floor


def test_the_agencys_time_zone_must_be_a_real_one() -> None:
    check(replace(TENANT, timezone="Europe/Moscow"))
    for wrong in ("Dubai", "Mars/Olympus", ""):
        with pytest.raises(InvalidSettings, match="timezone"):
            check(replace(TENANT, timezone=wrong))


# -- what each step says ----------------------------------------------------------------------


def test_what_we_offer_shows_fitting_listings_not_shown_before() -> None:
    shown_before, fits, too_dear = listing(1), listing(2), listing(3)
    too_dear = replace(too_dear, price=Money(amount=Decimal("9000000"), currency="AED"))
    lead = reminded_lead(offered_property_ids=(shown_before.property_id,))
    message = campaign_message(
        lead, TENANT, FollowupStep.CAMPAIGN_1, [shown_before, fits, too_dear]
    )
    assert [p.property_id for p in message.shown] == [fits.property_id]
    [card] = message.outbound
    greeting = t("followup.greeting", Language.EN, name="Sara", agency="Demo Realty")
    assert card.text.startswith(f"{greeting} {t('followup.offer.listings', Language.EN)}")
    assert "Marina Tower 2" in card.text and card.choices


def test_what_we_offer_without_a_fitting_listing_says_what_the_agency_does() -> None:
    message = campaign_message(
        reminded_lead(language=Language.RU), TENANT, FollowupStep.CAMPAIGN_1, []
    )
    assert message.shown == ()
    [only] = message.outbound
    greeting = t("followup.greeting", Language.RU, name="Sara", agency="Demo Realty")
    assert only.text == f"{greeting} {t('followup.offer.services', Language.RU)}"
    assert not only.choices


def test_time_sensitive_only_from_a_real_count_of_units() -> None:
    plenty, scarce = listing(1, units_available=10), listing(2, units_available=2)
    message = campaign_message(reminded_lead(), TENANT, FollowupStep.CAMPAIGN_2, [plenty, scarce])
    assert [p.property_id for p in message.shown] == [scarce.property_id]
    [card] = message.outbound
    assert t("followup.urgent.scarce", Language.EN) in card.text
    assert t("listing.scarcity.many", Language.EN, count=2) in card.text

    # Plenty of units everywhere (or an archived listing with few): a plain reminder.
    archived = listing(3, units_available=1, status=ListingStatus.ARCHIVED)
    plain = campaign_message(reminded_lead(), TENANT, FollowupStep.CAMPAIGN_2, [plenty, archived])
    assert plain.shown == ()
    [only] = plain.outbound
    assert only.text.endswith(t("followup.reminder", Language.EN))
    assert "Only" not in only.text


def test_the_agencys_wording_replaces_the_words_never_the_cards() -> None:
    own = FollowupTemplate(
        step=FollowupStep.CAMPAIGN_1, language=Language.RU, text="{name}, новинки от {agency}:"
    )
    tenant = replace(TENANT, followup_templates=(own,))
    lead = reminded_lead(language=Language.RU)
    message = campaign_message(lead, tenant, FollowupStep.CAMPAIGN_1, [listing(1)])
    [card] = message.outbound
    assert card.text.startswith("Sara, новинки от Demo Realty:\n\n🏠 Marina Tower 1")
    english = campaign_message(reminded_lead(), tenant, FollowupStep.CAMPAIGN_1, [listing(1)])
    assert english.outbound[0].text.startswith(
        t("followup.greeting", Language.EN, name="Sara", agency="Demo Realty")
    )


def test_later_steps_remind_and_a_nameless_lead_is_greeted_without_a_name() -> None:
    message = campaign_message(
        reminded_lead(name=""), TENANT, FollowupStep.CAMPAIGN_3, [listing(1)]
    )
    [only] = message.outbound
    assert only.text == (
        f"{t('followup.greeting.no_name', Language.EN, agency='Demo Realty')} "
        f"{t('followup.reminder', Language.EN)}"
    )


def test_a_lead_that_asked_for_nothing_is_shown_no_listing_as_fitting() -> None:
    blank = reminded_lead(goal=None, budget=None, property_type=None, location=" ", bedrooms=None)
    offer = campaign_message(blank, TENANT, FollowupStep.CAMPAIGN_1, [listing(1)])
    assert offer.shown == () and not offer.outbound[0].choices
    urgent = campaign_message(
        blank, TENANT, FollowupStep.CAMPAIGN_2, [listing(1, units_available=1)]
    )
    assert urgent.shown == () and urgent.outbound[0].text.endswith(
        t("followup.reminder", Language.EN)
    )


# -- new listings held in the lead's quiet hours ----------------------------------------------


def test_a_listing_held_overnight_is_due_at_the_end_of_the_night_before_a_later_step() -> None:
    night = dubai_time(22, 30)  # the listing came in at 22:30 in Dubai
    morning = after_quiet_hours(night, DUBAI, TENANT)
    assert morning == dubai_time(9) + timedelta(days=1)
    lead = hold_listing(reminded_lead(), "L1", morning)
    assert (lead.held_property_ids, lead.held_until) == (("L1",), morning)
    pending = next_followup(lead, TENANT, DUBAI)
    assert pending is not None and (pending.step, pending.due_at) == (Held.MATCHES, morning)
    # Another one the same night joins it, once, and keeps the earliest time.
    later = hold_listing(hold_listing(lead, "L2", morning + timedelta(days=1)), "L1", morning)
    assert (later.held_property_ids, later.held_until) == (("L1", "L2"), morning)


def test_a_step_due_first_goes_first_and_the_held_listings_after() -> None:
    step_day = REMINDED + timedelta(days=3)  # campaign_1, 10:00 in Dubai
    lead = hold_listing(reminded_lead(), "L1", step_day + timedelta(days=1))
    pending = next_followup(lead, TENANT, DUBAI)
    assert pending is not None and pending.step is FollowupStep.CAMPAIGN_1
    sooner = hold_listing(reminded_lead(), "L1", step_day - timedelta(hours=1))
    pending = next_followup(sooner, TENANT, DUBAI)
    assert pending is not None and pending.step is Held.MATCHES


@pytest.mark.parametrize(
    "changes",
    [
        {"held_claimed_at": REMINDED},
        {"opted_out": True},
        {"unreachable": True},
        {"bot_paused": True},
        {"status": LeadStatus.WON},
    ],
)
def test_held_listings_wait_while_the_bot_may_not_write_or_a_sweep_has_them(
    changes: dict[str, Any],
) -> None:
    lead = hold_listing(reminded_lead(campaign_steps_sent=2), "L1", REMINDED)
    assert next_followup(lead, TENANT, DUBAI) is not None
    assert next_followup(replace(lead, **changes), TENANT, DUBAI) is None
