"""Listings in the conversation over the Telegram webhook on moto: the demo agency's cards with
honest urgency, the card buttons on the Timeline, questions answered through the service's
answerer, qa_first, and what all this costs in DynamoDB requests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from leadbot.domain import (
    Channel,
    EventKind,
    FlowMode,
    InboundEvent,
    Language,
    Lead,
    LeadStatus,
    Stage,
    Tenant,
)
from leadbot.domain.knowledge import Answer, Citation
from leadbot.i18n import t
from leadbot.services import telegram
from leadbot.services.inbound import handle_event
from tests.support import AGENT, InProcessStack, Updates, api_call, dynamodb_requests, text_of

MARINA_RESIDENCES = "01KE6P4YM0VS00000000000001"  # 3 units: the demo threshold is 3
MARINA_GATE = "01KE6P4YM0VS00000000000004"  # 8 units
PHOTOS = "https://demo-agency.example/photos/"


def _lead(stack: InProcessStack, chat_id: int) -> Lead:
    key = stack.repos.identities.key("demo", Channel.TELEGRAM, str(chat_id))
    lead_id = stack.repos.identities.lead_id(key)
    assert lead_id is not None
    return stack.repos.leads.get("demo", lead_id)


def _buttons(call: dict[str, Any]) -> list[str]:
    markup = call["payload"].get("reply_markup", {})
    return [b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row]


def _up_to_payment(stack: InProcessStack, lead: Updates) -> None:
    for update in lead.qualification()[:-2]:
        assert stack.post(update)["statusCode"] == 200


def test_the_payment_answer_brings_cards_with_real_scarcity_before_the_phone(
    stack: InProcessStack,
) -> None:
    sara = Updates(760_000_001, first_name="Sara")
    _up_to_payment(stack, sara)
    before = len(stack.sent(760_000_001))
    stack.post(sara.press("payment:cash"))
    *cards, contact = stack.sent(760_000_001)[before:]
    assert [_buttons(c)[0] for c in cards] == [
        f"prop:{MARINA_RESIDENCES}:interested",
        f"prop:{MARINA_GATE}:interested",
    ]
    # Each card is one photo of its listing, captioned with the card and carrying its buttons.
    assert [(c["method"], c["payload"]["photo"]) for c in cards] == [
        ("sendPhoto", f"{PHOTOS}marina-residences.jpg"),
        ("sendPhoto", f"{PHOTOS}marina-gate-1br.jpg"),
    ]
    assert [len(_buttons(c)) for c in cards] == [4, 4]
    assert all(c["status"] == 200 for c in cards)  # the fake refuses what Telegram refuses
    residences, gate = (text_of(c) for c in cards)
    assert residences.startswith(t("value.intro", Language.EN))
    assert t("listing.scarcity.many", Language.EN, count=3) in residences
    assert "left at this price" not in gate  # 8 units: nothing to say
    assert contact["payload"]["reply_markup"]["keyboard"][0][0]["request_contact"]

    saved = _lead(stack, 760_000_001)
    assert saved.offered_property_ids == (MARINA_RESIDENCES, MARINA_GATE)
    assert (saved.fomo_messages_sent, saved.urgency_score) == (1, 5)  # 1-3 months + 1 shown
    assert saved.stage is Stage.CONTACT


def test_card_buttons_after_the_phone_land_on_the_timeline(stack: InProcessStack) -> None:
    sara = Updates(760_000_002, first_name="Sara")
    stack.qualify(sara)
    stack.post(sara.press(f"prop:{MARINA_GATE}:interested"))
    stack.post(sara.press(f"prop:{MARINA_RESIDENCES}:viewing"))
    assert stack.last_text(760_000_002) == t(
        "listing.viewing", Language.EN, title="Marina Residences, 2 bedrooms with sea view"
    )
    saved = _lead(stack, 760_000_002)
    assert saved.viewing_property_id == MARINA_RESIDENCES
    assert saved.viewing_requested_at is not None
    assert saved.status is LeadStatus.QUALIFIED  # viewing_scheduled is the agent's to set

    history = stack.repos.timeline.history("demo", saved.lead_id)
    events = [(e.text, e.detail.get("property_id")) for e in history if e.kind == "event"]
    assert ("listing_interest", MARINA_GATE) in events
    assert ("viewing_requested", MARINA_RESIDENCES) in events
    status, detail = api_call("GET", f"/api/leads/{saved.lead_id}", AGENT)
    assert status == 200
    assert detail["viewing_property_id"] == MARINA_RESIDENCES
    assert detail["offered_property_ids"] == [MARINA_RESIDENCES, MARINA_GATE]
    assert (detail["qualification_score"], detail["is_qualified"]) == (4, True)

    # Show more: the demo agency has no third Marina apartment for sale within 2.5M.
    stack.post(sara.press(f"prop:{MARINA_GATE}:more"))
    assert stack.last_text(760_000_002) == t("listing.no_more", Language.EN)


def test_with_nothing_listed_to_fit_the_market_message_comes(stack: InProcessStack) -> None:
    omid = Updates(760_000_003, first_name="Omid")
    for update in (
        omid.text("/start"),
        omid.press("goal:rent"),
        omid.text("15k AED"),
        omid.press("property_type:apartment"),
        omid.text("Downtown"),
        omid.press("timeline:later"),
        omid.press("bedrooms:studio"),
    ):
        stack.post(update)
    stack.post(omid.press("payment:cash"))
    market, _contact = (text_of(c) for c in stack.sent(760_000_003)[-2:])
    assert market == t("value.none", Language.EN)
    assert _lead(stack, 760_000_003).offered_property_ids == ()


def test_ordinary_messages_read_no_listings_and_cards_read_them_once_a_minute(
    stack: InProcessStack,
) -> None:
    first, second = Updates(760_000_004), Updates(760_000_005)
    _up_to_payment(stack, first)
    _up_to_payment(stack, second)
    with dynamodb_requests() as calls:
        stack.post(first.text("not sure yet"))  # an ordinary (invalid) answer
    assert calls["Query"] == 0 and calls["Scan"] == 0
    with dynamodb_requests() as calls:
        stack.post(first.press("payment:cash"))
    assert calls["Query"] == 1 and calls["Scan"] == 0  # the demo agency's listings
    with dynamodb_requests() as calls:
        stack.post(second.press("payment:cash"))
        stack.post(second.press(f"prop:{MARINA_GATE}:interested"))
    assert calls["Query"] == 0  # this warm Lambda remembers them


def _event(text: str, chat: str = "760000006") -> InboundEvent:
    return InboundEvent(
        tenant_id="demo",
        channel=Channel.TELEGRAM,
        event_id=text,
        external_id=chat,
        kind=EventKind.TEXT,
        at=datetime.now(UTC),
        text=text,
        language_hint="en",
    )


def test_the_service_asks_its_answerer_and_the_qualification_resumes(
    stack: InProcessStack,
) -> None:
    asked: list[tuple[str, str, Language]] = []

    def answerer(tenant: Tenant, question: str, language: Language) -> Answer | None:
        asked.append((tenant.tenant_id, question, language))
        if "sq.ft" not in question:
            return None
        cited = Citation(source_id="01B", title="Marina Residences brochure", page=8)
        return Answer(text="AED 1,960 per sq.ft.", citations=(cited,))

    repos = stack.repos
    tenant = repos.tenants.get("demo")
    messenger = telegram.telegram_client(tenant)
    for text in ("/start", "buy", "What is the price per sq.ft?", "Is there a gym?", "3M"):
        handle_event(_event(text), tenant, repos, messenger, answerer=answerer)
    assert asked == [
        ("demo", "What is the price per sq.ft?", Language.EN),
        ("demo", "Is there a gym?", Language.EN),
    ]
    texts = [text_of(c) for c in stack.sent(760_000_006)]
    assert texts[2] == "AED 1,960 per sq.ft.\n\n📄 Marina Residences brochure, p. 8"
    assert texts[3] == t("budget.ask", Language.EN)  # the pending question again
    assert texts[4] == t("answer.unknown", Language.EN)
    lead = _lead(stack, 760_000_006)
    assert lead.stage is Stage.PROPERTY_TYPE and lead.budget is not None
    _, gaps = api_call("GET", "/api/knowledge/gaps", AGENT)
    assert [g["question"] for g in gaps["items"]] == ["Is there a gym?"]


def test_a_failing_answerer_is_an_unknown_answer_not_a_failed_update(
    stack: InProcessStack,
) -> None:
    def broken(tenant: Tenant, question: str, language: Language) -> Answer | None:
        raise TimeoutError("the model is slow today")

    tenant = stack.repos.tenants.get("demo")
    messenger = telegram.telegram_client(tenant)
    for text in ("/start", "Is there a payment plan?"):
        handle_event(_event(text, "760000007"), tenant, stack.repos, messenger, answerer=broken)
    assert stack.last_text(760_000_007) == t("goal.ask", Language.EN)
    assert t("answer.unknown", Language.EN) in [text_of(c) for c in stack.sent(760_000_007)]


def test_qa_first_starts_qualifying_after_the_agencys_number_of_messages(
    stack: InProcessStack,
) -> None:
    repos = stack.repos
    repos.tenants.put(replace(repos.tenants.get("demo"), flow_mode=FlowMode.QA_FIRST))
    lina = Updates(760_000_008, first_name="Lina")
    stack.post(lina.text("/start"))
    assert text_of(stack.sent(760_000_008)[0]) == t("qa.welcome", Language.EN, agency="Demo Realty")
    assert _lead(stack, 760_000_008).stage is Stage.QA
    stack.post(lina.text("Do you have a payment plan?"))
    assert stack.last_text(760_000_008).endswith(t("budget.ask", Language.EN))
    for update in (lina.text("2.5M"), lina.text("Dubai Marina"), lina.press("timeline:now")):
        stack.post(update)
    stack.post(lina.press("unit:2"))
    lead = _lead(stack, 760_000_008)
    assert (lead.qualification_score, lead.is_qualified, lead.stage) == (4, True, Stage.CONTACT)
    assert lead.qualified_at is not None
    # No goal asked: sale and rent may both show, budget and area decide.
    assert MARINA_RESIDENCES in lead.offered_property_ids
