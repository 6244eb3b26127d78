"""Listings in the conversation: matching, cards with honest urgency, the card buttons, questions
answered mid-qualification, and the qa_first flow."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from leadbot.conversation import Ctx, needs, step
from leadbot.conversation.matching import matches, next_matches, same_area
from leadbot.conversation.progress import urgency_score
from leadbot.domain import (
    Bedrooms,
    Channel,
    Decision,
    EventKind,
    FlowMode,
    Goal,
    InboundEvent,
    Language,
    Lead,
    LeadStatus,
    Money,
    Outbound,
    PropertyType,
    Stage,
    Tenant,
    Timeline,
)
from leadbot.domain.knowledge import Answer, Citation, KnowledgeGap
from leadbot.domain.listings import (
    ListingInterest,
    ListingStatus,
    Property,
    Transaction,
    ViewingRequested,
)
from leadbot.i18n import t

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TENANT = Tenant(tenant_id="demo", name="Demo Realty", currency="AED", phone_region="AE")
_ids = iter(range(1, 10_000))


def listing(n: int, **fields: object) -> Property:
    values: dict[str, object] = {
        "tenant_id": "demo",
        "property_id": f"01KE6P4YM0VS0000000000{n:04d}",
        "title": f"Listing {n}",
        "location": "Dubai Marina",
        "property_type": PropertyType.APARTMENT,
        "transaction": Transaction.SALE,
        "bedrooms": Bedrooms.TWO,
        "price": Money(amount=Decimal("2000000"), currency="AED"),
        "size_sqft": Decimal("1250"),
        "units_available": 10,
        "created_at": NOW,
        "updated_at": NOW,
        **fields,
    }
    return Property(**values)  # type: ignore[arg-type]


def lead_at(stage: Stage, **fields: object) -> Lead:
    values: dict[str, object] = {
        "tenant_id": "demo",
        "lead_id": "01LEAD",
        "channel": Channel.TELEGRAM,
        "external_id": "42",
        "language": Language.EN,
        "stage": stage,
        "status": LeadStatus.QUALIFYING,
        "goal": Goal.BUY,
        "budget": Money(amount=Decimal("2500000"), currency="AED"),
        "property_type": PropertyType.APARTMENT,
        "location": "Dubai Marina",
        "timeline": Timeline.MONTHS_3,
        "bedrooms": Bedrooms.TWO,
        "created_at": NOW,
        "updated_at": NOW,
        **fields,
    }
    return Lead(**values)  # type: ignore[arg-type]


def event(kind: EventKind, text: str = "", payload: str = "") -> InboundEvent:
    return InboundEvent(
        tenant_id="demo",
        channel=Channel.TELEGRAM,
        event_id=str(next(_ids)),
        external_id="42",
        kind=kind,
        at=NOW,
        text=text,
        payload=payload,
    )


def text(value: str) -> InboundEvent:
    return event(EventKind.TEXT, value)


def press(value: str) -> InboundEvent:
    return event(EventKind.CHOICE, payload=value)


def ctx(*listings: Property, tenant: Tenant = TENANT, answer: Answer | None = None) -> Ctx:
    return Ctx(tenant=tenant, now=NOW, listings=listings, answer=answer)


def cards(decision: Decision) -> list[Outbound]:
    return [o for o in decision.outbound if any(c.value.startswith("prop:") for c in o.choices)]


# -- matching --------------------------------------------------------------------------------


def test_only_active_listings_with_units_that_fit_the_transaction_budget_and_type_match() -> None:
    lead = lead_at(Stage.PAYMENT)
    fitting = listing(1)
    others = [
        listing(2, units_available=0),  # sold out: never offered
        listing(3, status=ListingStatus.ARCHIVED),
        listing(4, transaction=Transaction.RENT),  # a buyer looks for a sale
        listing(5, price=Money(amount=Decimal("2500000.01"), currency="AED")),  # over budget
        listing(6, property_type=PropertyType.VILLA),
    ]
    assert matches(lead, [fitting, *others]) == [fitting]
    renter = replace(lead, goal=Goal.RENT)
    assert matches(renter, [fitting, *others]) == [others[2]]
    investor = replace(lead, goal=Goal.INVEST)
    assert matches(investor, [fitting, *others]) == [fitting]


def test_a_budget_in_another_currency_is_not_converted_nor_held_against_a_listing() -> None:
    lead = lead_at(Stage.PAYMENT, budget=Money(amount=Decimal("3000000000"), currency="IRT"))
    pricey = listing(1, price=Money(amount=Decimal("12500000"), currency="AED"))
    assert matches(lead, [pricey]) == [pricey]


def test_area_then_bedrooms_then_the_price_nearest_the_budget_rank_the_matches() -> None:
    lead = lead_at(Stage.PAYMENT, location="  dubai   MARINA ")
    elsewhere = listing(1, location="Downtown Dubai")
    marina_3br = listing(2, bedrooms=Bedrooms.THREE)
    marina_2br_cheap = listing(3, price=Money(amount=Decimal("1000000"), currency="AED"))
    marina_2br = listing(4, price=Money(amount=Decimal("2400000"), currency="AED"))
    ranked = matches(lead, [elsewhere, marina_3br, marina_2br_cheap, marina_2br])
    assert ranked == [marina_2br, marina_2br_cheap, marina_3br, elsewhere]
    assert next_matches(lead, ranked) == ranked[:3]


@pytest.mark.parametrize(
    ("wanted", "listed", "fits"),
    [
        ("Marina", "Dubai Marina", True),
        ("Dubai  Marina, JBR", "dubai marina", True),
        ("palm", "Palm Jumeirah", True),
        ("Downtown", "Dubai Marina", False),
        ("", "Dubai Marina", False),
    ],
)
def test_areas_match_either_way_round_whatever_the_case_and_spacing(
    wanted: str, listed: str, fits: bool
) -> None:
    assert same_area(wanted, listed) is fits


def test_urgency_comes_from_the_timeline_and_the_scarcity_shown() -> None:
    assert urgency_score(None, 0) == 0
    assert urgency_score(Timeline.LATER, 0) == 0
    assert urgency_score(Timeline.NOW, 0) == 5
    assert urgency_score(Timeline.MONTHS_3, 1) == 5
    assert urgency_score(Timeline.MONTHS_6, 2) == 5
    assert urgency_score(Timeline.NOW, 9) == 10


# -- the value proposition --------------------------------------------------------------------


@pytest.mark.parametrize(("units", "shown"), [(3, True), (4, False), (1, True)])
def test_scarcity_is_shown_only_when_true_and_with_the_real_count(units: int, shown: bool) -> None:
    scarce = listing(1, units_available=units, title="Marina Residences")
    decision = step(lead_at(Stage.PAYMENT), press("payment:cash"), ctx(scarce))
    (card,) = cards(decision)
    key = "listing.scarcity.one" if units == 1 else "listing.scarcity.many"
    assert (t(key, Language.EN, count=units) in card.text) is shown
    assert ("left at this price" in card.text) is shown
    assert decision.lead.fomo_messages_sent == int(shown)
    assert decision.lead.urgency_score == 3 + 2 * shown  # 1-3 months, plus what was shown


def test_the_threshold_is_the_agencys() -> None:
    tenant = replace(TENANT, scarcity_threshold=5)
    decision = step(lead_at(Stage.PAYMENT), press("payment:cash"), ctx(listing(1), tenant=tenant))
    assert "left at this price" not in cards(decision)[0].text  # 10 units: plenty
    five = listing(1, units_available=5)
    decision = step(lead_at(Stage.PAYMENT), press("payment:cash"), ctx(five, tenant=tenant))
    assert t("listing.scarcity.many", Language.EN, count=5) in cards(decision)[0].text


def test_after_the_payment_answer_up_to_three_cards_come_before_the_contact_question() -> None:
    found = [listing(n, title=f"Marina {n}") for n in range(1, 6)]
    decision = step(lead_at(Stage.PAYMENT), press("payment:mortgage"), ctx(*found))
    *shown, contact = decision.outbound
    assert len(shown) == 3 and cards(decision) == shown
    assert shown[0].text.startswith(t("value.intro", Language.EN))
    assert contact.request_contact and t("contact.ask", Language.EN) in contact.text
    assert decision.lead.stage is Stage.CONTACT
    assert decision.lead.offered_property_ids == tuple(
        p.property_id for p in next_matches(lead_at(Stage.PAYMENT), found)
    )
    card = shown[1]
    assert "🏠 Marina" in card.text and "📍 Dubai Marina" in card.text
    assert "💰 2,000,000 AED" in card.text and "📐 1,250 sq.ft" in card.text
    assert "🛏 2 bedrooms" in card.text
    assert card.image is None  # the listing has no photo: none is invented
    actions = [c.value.rsplit(":", 1)[1] for c in card.choices]
    assert actions == ["interested", "more", "viewing", "ask"]
    labels = [c.label for c in card.choices]
    assert labels == ["👍 Interested", "➕ Show more", "📅 Book a viewing", "❓ Ask a question"]
    assert all(len(c.value.encode()) <= 64 for c in card.choices)


def test_a_card_carries_the_photo_of_its_listing_and_only_its_own() -> None:
    photo = "https://demo-agency.example/photos/marina-1.jpg"
    found = [listing(1, image_url=photo, units_available=2), listing(2), listing(3)]
    shown = cards(step(lead_at(Stage.PAYMENT), press("payment:cash"), ctx(*found)))
    by_id = {c.choices[0].value.split(":")[1]: c for c in shown}
    with_photo = by_id[found[0].property_id]
    assert with_photo.image == photo
    assert [by_id[p.property_id].image for p in found[1:]] == [None, None]
    # The same card otherwise: text (intro, scarcity) and the four buttons.
    assert t("listing.scarcity.many", Language.EN, count=2) in with_photo.text
    assert len(with_photo.choices) == 4
    # Shown again by "Show more", a card with a photo still carries it.
    lead = step(lead_at(Stage.PAYMENT), press("payment:cash"), ctx(found[1])).lead
    more = cards(step(lead, press(f"prop:{found[1].property_id}:more"), ctx(*found)))
    assert {c.choices[0].value.split(":")[1]: c.image for c in more} == {
        found[0].property_id: photo,
        found[2].property_id: None,
    }


def test_a_rental_card_prices_by_the_year_and_omits_what_the_listing_does_not_say() -> None:
    rental = listing(1, transaction=Transaction.RENT, size_sqft=None, bedrooms=None)
    renter = lead_at(Stage.PAYMENT, goal=Goal.RENT, bedrooms=None)
    (card,) = cards(step(renter, press("payment:cash"), ctx(rental)))
    assert t("listing.card.rent", Language.EN, price="2,000,000 AED") in card.text
    assert "sq.ft" not in card.text and "🛏" not in card.text


def test_with_no_match_the_market_message_comes_and_no_card() -> None:
    villa = listing(1, property_type=PropertyType.VILLA)
    decision = step(lead_at(Stage.PAYMENT), press("payment:cash"), ctx(villa))
    market, contact = decision.outbound
    assert market == Outbound(text=t("value.none", Language.EN))
    assert contact.request_contact
    assert decision.lead.offered_property_ids == () and decision.lead.fomo_messages_sent == 0
    # Without listings loaded at all, the same honest message.
    decision = step(lead_at(Stage.PAYMENT), press("payment:cash"), Ctx(tenant=TENANT, now=NOW))
    assert decision.outbound[0] == Outbound(text=t("value.none", Language.EN))


# -- the card buttons --------------------------------------------------------------------------


def _offered(*found: Property) -> Lead:
    return step(lead_at(Stage.PAYMENT), press("payment:cash"), ctx(*found)).lead


def test_show_more_offers_the_next_matches_and_asks_the_pending_question_again() -> None:
    found = [listing(n) for n in range(1, 6)]
    lead = _offered(*found)
    first = lead.offered_property_ids
    decision = step(lead, press(f"prop:{first[0]}:more"), ctx(*found))
    more = cards(decision)
    assert len(more) == 2
    assert not set(first) & {c.choices[0].value.split(":")[1] for c in more}
    assert not more[0].text.startswith(t("value.intro", Language.EN))
    assert decision.outbound[-1].request_contact  # the contact question again
    lead = decision.lead
    assert len(lead.offered_property_ids) == 5
    decision = step(lead, press(f"prop:{first[0]}:more"), ctx(*found))
    assert decision.outbound[0] == Outbound(text=t("listing.no_more", Language.EN))
    assert cards(decision) == []


def test_booking_a_viewing_is_recorded_and_the_status_is_left_to_the_agent() -> None:
    marina = listing(1, title="Marina Residences")
    lead = _offered(marina)
    decision = step(lead, press(f"prop:{marina.property_id}:viewing"), ctx(marina))
    assert decision.lead.viewing_requested_at == NOW
    assert decision.lead.viewing_property_id == marina.property_id
    assert decision.lead.status is LeadStatus.QUALIFYING
    assert decision.events == (
        ViewingRequested(property_id=marina.property_id, title="Marina Residences"),
    )
    reply, contact = decision.outbound
    assert reply.text == t("listing.viewing", Language.EN, title="Marina Residences")
    assert contact.request_contact


def test_interest_is_noted_and_ask_invites_the_question() -> None:
    marina = listing(1, title="Marina Residences")
    engaged = replace(_offered(marina), stage=Stage.ENGAGEMENT, phone="+971501234567")
    decision = step(engaged, press(f"prop:{marina.property_id}:interested"), ctx(marina))
    assert decision.events == (
        ListingInterest(property_id=marina.property_id, title="Marina Residences"),
    )
    assert decision.outbound == (
        Outbound(text=t("listing.interested", Language.EN, title="Marina Residences")),
    )
    decision = step(engaged, press(f"prop:{marina.property_id}:ask"), ctx(marina))
    assert decision.outbound == (
        Outbound(text=t("listing.ask", Language.EN, title="Marina Residences")),
    )


def test_a_card_of_a_listing_gone_since_says_so() -> None:
    lead = _offered(listing(1))
    decision = step(lead, press(f"prop:{listing(1).property_id}:viewing"), ctx())
    assert decision.outbound[0] == Outbound(text=t("listing.gone", Language.EN))
    assert decision.lead.viewing_requested_at is None and decision.events == ()
    decision = step(lead, press("prop:nonsense"), ctx(listing(1)))
    assert decision.outbound[0] == Outbound(text=t("listing.gone", Language.EN))


def test_a_card_button_mid_qualification_asks_the_pending_question_again() -> None:
    marina = listing(1)
    lead = lead_at(Stage.TIMELINE, offered_property_ids=(marina.property_id,))
    decision = step(lead, press(f"prop:{marina.property_id}:interested"), ctx(marina))
    assert decision.outbound[-1].text == t("timeline.ask", Language.EN)
    assert decision.lead.stage is Stage.TIMELINE and decision.lead.invalid_answers == 0


# -- questions in the middle ------------------------------------------------------------------

ANSWER = Answer(
    text="The price is AED 1,850 per sq.ft.",
    citations=(
        Citation(source_id="01BROCHURE", title="Marina Residences brochure", page=8),
        Citation(source_id="01LISTING", title="Marina Residences"),
    ),
)


def test_an_interrupted_qualification_answers_and_resumes() -> None:
    lead = lead_at(Stage.LOCATION, location=None)
    question = text("What is the price per sq.ft?")
    decision = step(lead, question, ctx(answer=ANSWER))
    answer, pending = decision.outbound
    assert answer.text == (
        "The price is AED 1,850 per sq.ft.\n\n📄 Marina Residences brochure, p. 8\n"
        "🏠 Marina Residences"
    )
    assert pending.text == t("location.ask", Language.EN)
    assert decision.lead.stage is Stage.LOCATION and decision.lead.location is None
    assert decision.lead.invalid_answers == 0 and decision.events == ()
    decision = step(decision.lead, text("Dubai Marina"), ctx())
    assert decision.lead.location == "Dubai Marina" and decision.lead.stage is Stage.TIMELINE


def test_an_unanswered_question_says_so_records_a_gap_and_resumes() -> None:
    lead = lead_at(Stage.BUDGET, budget=None)
    decision = step(lead, text("is there a payment plan?"), ctx())
    assert decision.outbound[0] == Outbound(text=t("answer.unknown", Language.EN))
    assert decision.outbound[1].text == t("budget.ask", Language.EN)
    assert decision.events == (
        KnowledgeGap(question="is there a payment plan?", language=Language.EN),
    )


def test_a_valid_answer_ending_with_a_question_mark_is_taken_as_the_answer() -> None:
    lead = lead_at(Stage.BEDROOMS, bedrooms=None)
    decision = step(lead, text("2 bedrooms?"), ctx(answer=ANSWER))
    assert decision.lead.bedrooms is Bedrooms.TWO and decision.lead.stage is Stage.PAYMENT
    assert needs(lead, text("2 bedrooms?"), TENANT).question is None
    # Worded as a question, it is one, even though it names a number of bedrooms.
    asked = text("How much is a 2 bedroom?")
    assert needs(lead, asked, TENANT).question == "How much is a 2 bedroom?"
    decision = step(lead, asked, ctx(answer=ANSWER))
    assert decision.lead.bedrooms is None and decision.outbound[0].text.startswith("The price")
    # An area is any words, but a question is no area.
    lead = lead_at(Stage.LOCATION, location=None)
    assert step(lead, text("what is the price"), ctx()).lead.location is None
    assert step(lead, text("JVC?"), ctx()).lead.location == "JVC?"


def test_a_question_at_the_contact_stage_is_answered_and_the_number_asked_again() -> None:
    lead = lead_at(Stage.CONTACT)
    decision = step(lead, text("Is there a gym?"), ctx(answer=ANSWER))
    assert decision.outbound[0].text.startswith("The price")
    assert decision.outbound[1].request_contact
    assert step(lead, text("+971 50 123 4567"), ctx()).lead.phone == "+971501234567"


def test_after_qualifying_an_answer_comes_without_a_gap() -> None:
    lead = lead_at(Stage.ENGAGEMENT, phone="+971501234567")
    decision = step(lead, text("When is the handover?"), ctx(answer=ANSWER))
    assert decision.outbound[0].text.startswith("The price") and decision.events == ()


# -- what the service must look up ------------------------------------------------------------


def test_listings_are_needed_only_where_cards_may_be_shown_or_a_card_was_pressed() -> None:
    assert needs(lead_at(Stage.PAYMENT), press("payment:cash"), TENANT).listings
    assert not needs(lead_at(Stage.PAYMENT), text("not sure"), TENANT).listings  # re-asked
    assert not needs(lead_at(Stage.PAYMENT), text("is there a plan?"), TENANT).listings
    assert needs(lead_at(Stage.ENGAGEMENT), press("prop:01X:more"), TENANT).listings
    assert needs(lead_at(Stage.CONTACT), press("prop:01X:viewing"), TENANT).listings
    for stage in (Stage.GOAL, Stage.BUDGET, Stage.BEDROOMS, Stage.CONTACT, Stage.ENGAGEMENT):
        assert not needs(lead_at(stage), text("ok"), TENANT).listings, stage
    qa_first = replace(TENANT, flow_mode=FlowMode.QA_FIRST)
    assert needs(lead_at(Stage.UNIT), text("villa"), qa_first).listings
    # A lead left at payment when the agency switched flows still gets its cards.
    assert needs(lead_at(Stage.PAYMENT), text("cash"), qa_first).listings


def test_a_question_is_looked_up_only_where_the_step_answers_it() -> None:
    question = text("Is there a payment plan?")
    assert needs(lead_at(Stage.BUDGET), question, TENANT).question == "Is there a payment plan?"
    assert needs(lead_at(Stage.ENGAGEMENT), text("ok thanks"), TENANT).question is None
    paused = replace(lead_at(Stage.ENGAGEMENT), bot_paused=True)
    assert needs(paused, question, TENANT).question is None
    first = replace(lead_at(Stage.LANGUAGE), language=None)
    assert needs(first, question, TENANT).question is None  # guided: greeted, not answered
    fa = needs(first, text("قیمت چقدر است؟"), replace(TENANT, flow_mode=FlowMode.QA_FIRST))
    assert (fa.question, fa.language) == ("قیمت چقدر است؟", Language.FA)


# -- qa_first ----------------------------------------------------------------------------------

QA_FIRST = replace(TENANT, flow_mode=FlowMode.QA_FIRST, qa_first_after=2)


def _new() -> Lead:
    return Lead(
        tenant_id="demo",
        lead_id="01LEAD",
        channel=Channel.TELEGRAM,
        external_id="42",
        created_at=NOW,
        updated_at=NOW,
    )


def test_qa_first_answers_first_and_starts_the_four_questions_after_n_messages() -> None:
    qa = Ctx(tenant=QA_FIRST, now=NOW, answer=ANSWER)
    decision = step(_new(), event(EventKind.START, "/start"), qa)
    assert decision.lead.stage is Stage.QA
    assert decision.outbound[0].text == t("qa.welcome", Language.EN, agency="Demo Realty")
    decision = step(decision.lead, text("What is the price per sq.ft?"), qa)
    answer, start = decision.outbound
    assert answer.text.startswith("The price")
    assert start.text == f"{t('qa.start', Language.EN)}\n\n{t('budget.ask', Language.EN)}"
    assert decision.lead.stage is Stage.BUDGET


def test_qa_first_waits_for_the_agencys_number_of_messages() -> None:
    tenant = replace(QA_FIRST, qa_first_after=3)
    lead = step(_new(), text("Hi, what's the price of Marina Residences?"), ctx(tenant=tenant)).lead
    assert lead.stage is Stage.QA
    decision = step(lead, text("thanks"), ctx(tenant=tenant))
    assert decision.outbound == (Outbound(text=t("qa.prompt", Language.EN)),)
    decision = step(decision.lead, text("Is there a gym?"), ctx(tenant=tenant))
    assert decision.lead.stage is Stage.BUDGET and decision.lead.messages_count == 3
    assert decision.events == (KnowledgeGap(question="Is there a gym?", language=Language.EN),)


def test_qa_first_qualifies_with_four_questions_then_offers_cards_and_asks_the_phone() -> None:
    marina = listing(1, units_available=2)
    lead = replace(_new(), stage=Stage.BUDGET, language=Language.EN, messages_count=2)
    scores = []
    for answer in ("2.5M", "Dubai Marina", "within a month"):
        lead = step(lead, text(answer), ctx(tenant=QA_FIRST)).lead
        scores.append(lead.qualification_score)
    assert lead.stage is Stage.UNIT and not lead.is_qualified
    decision = step(lead, text("2 bedroom apartment"), ctx(marina, tenant=QA_FIRST))
    lead = decision.lead
    assert [*scores, lead.qualification_score] == [1, 2, 3, 4]
    assert (lead.property_type, lead.bedrooms) == (PropertyType.APARTMENT, Bedrooms.TWO)
    assert lead.is_qualified and lead.qualified_at == NOW
    assert lead.stage is Stage.CONTACT and lead.goal is None and lead.payment_method is None
    assert len(cards(decision)) == 1 and decision.outbound[-1].request_contact
    assert lead.urgency_score == 5 + 2  # within a month, one scarcity line
    later = step(lead, text("+971 50 123 4567"), Ctx(tenant=QA_FIRST, now=NOW + timedelta(1)))
    assert later.lead.qualified_at == NOW  # stays when first qualified


@pytest.mark.parametrize(
    ("answer", "fields"),
    [
        ("villa", {"property_type": PropertyType.VILLA, "bedrooms": None}),
        ("3", {"property_type": None, "bedrooms": Bedrooms.THREE}),
        ("studio", {"property_type": PropertyType.APARTMENT, "bedrooms": Bedrooms.STUDIO}),
        ("شقة 2 غرف نوم", {"property_type": PropertyType.APARTMENT, "bedrooms": Bedrooms.TWO}),
        ("4+ bedrooms", {"property_type": None, "bedrooms": Bedrooms.FOUR_PLUS}),
    ],
)
def test_the_unit_question_reads_a_type_and_or_bedrooms(
    answer: str, fields: dict[str, object]
) -> None:
    lead = lead_at(Stage.UNIT, property_type=None, bedrooms=None)
    got = step(lead, text(answer), ctx(tenant=QA_FIRST)).lead
    assert {"property_type": got.property_type, "bedrooms": got.bedrooms} == fields
    pressed = step(lead, press("unit:townhouse"), ctx(tenant=QA_FIRST)).lead
    assert pressed.property_type is PropertyType.TOWNHOUSE


def test_the_unit_question_rejects_what_names_neither() -> None:
    lead = lead_at(Stage.UNIT, property_type=None, bedrooms=None)
    decision = step(lead, text("something nice"), ctx(tenant=QA_FIRST))
    assert decision.lead.stage is Stage.UNIT and decision.lead.invalid_answers == 1
    assert t("unit.hint", Language.EN) in decision.outbound[0].text
