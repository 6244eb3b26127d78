"""The conversation as a pure state machine: stages, validation, languages, opt-out, contact."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from leadbot.conversation import HANDOFF, NEXT_STAGE, QA_FIRST_NEXT_STAGE, Ctx, step
from leadbot.domain import (
    Catalog,
    Channel,
    Choice,
    Decision,
    EventKind,
    InboundEvent,
    Language,
    Lead,
    LeadStatus,
    Link,
    Money,
    Outbound,
    PhoneCaptured,
    Stage,
    Tenant,
)
from leadbot.domain.knowledge import KnowledgeGap
from leadbot.i18n import t

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TENANT = Tenant(tenant_id="demo", name="Demo Realty", currency="AED", phone_region="AE")
CTX = Ctx(tenant=TENANT, now=NOW)
_ids = iter(range(1, 10_000))


def new_lead() -> Lead:
    return Lead(
        tenant_id="demo",
        lead_id="01LEAD",
        channel=Channel.TELEGRAM,
        external_id="42",
        created_at=NOW,
        updated_at=NOW,
    )


def event(kind: EventKind, text: str = "", **fields: object) -> InboundEvent:
    return InboundEvent(
        tenant_id="demo",
        channel=Channel.TELEGRAM,
        event_id=str(next(_ids)),
        external_id="42",
        kind=kind,
        at=NOW,
        text=text,
        name="Sara",
        **fields,  # type: ignore[arg-type]
    )


def text(value: str) -> InboundEvent:
    return event(EventKind.TEXT, value)


def press(value: str) -> InboundEvent:
    return event(EventKind.CHOICE, payload=value)


def run(lead: Lead, *events: InboundEvent) -> tuple[Lead, Decision]:
    decision = Decision(lead=lead)
    for inbound in events:
        decision = step(lead, inbound, CTX)
        lead = decision.lead
    return lead, decision


def at_stage(stage: Stage) -> Lead:
    return replace(new_lead(), stage=stage, language=Language.EN, status=LeadStatus.QUALIFYING)


# Given a new lead, when it answers every question by typing in its language,
# then it is qualified with parsed values and the phone event fires.
JOURNEYS = {
    Language.EN: [
        "Hello",
        "buy",
        "2.5M AED",
        "apartment",
        "Dubai Marina",
        "1",
        "2 bedrooms",
        "mortgage",
        "+971 50 123 4567",
    ],
    Language.FA: [
        "سلام وقت بخیر",
        "خرید",
        "۳ میلیارد تومان",
        "آپارتمان",
        "دبی مارینا",
        "۲",
        "۲ خوابه",
        "نقدی",
        "۰۵۰۱۲۳۴۵۶۷",
    ],
    Language.AR: [
        "مرحبا",
        "شراء",
        "2.5 مليون درهم",
        "فيلا",
        "نخلة جميرا",
        "الآن",
        "٣",
        "تقسيط",
        "٠٥٠١٢٣٤٥٦٧",
    ],
    Language.RU: [
        "Здравствуйте",
        "купить",
        "2,5 млн AED",
        "квартира",
        "Дубай Марина",
        "сейчас",
        "2",
        "ипотека",
        "+7 912 345-67-89",
    ],
}


@pytest.mark.parametrize("language", list(JOURNEYS))
def test_a_typed_journey_in_each_language_qualifies_the_lead(language: Language) -> None:
    lead, decision = run(new_lead(), *(text(answer) for answer in JOURNEYS[language]))
    assert lead.language is language
    assert lead.stage is Stage.ENGAGEMENT
    assert lead.status is LeadStatus.QUALIFIED
    assert lead.phone is not None and lead.phone.startswith("+")
    assert lead.goal == "buy"
    assert lead.budget is not None and lead.budget.amount >= Decimal("2500000")
    assert lead.invalid_answers == 0
    assert decision.events == (PhoneCaptured(lead_id="01LEAD"),)
    assert lead.messages_count == len(JOURNEYS[language])


def test_budgets_are_stored_as_amount_and_currency() -> None:
    lead, _ = run(at_stage(Stage.BUDGET), text("۳ میلیارد تومان"))
    assert lead.budget == Money(amount=Decimal("3000000000"), currency="IRT")
    lead, decision = run(at_stage(Stage.BUDGET), text("₹3 Cr"))
    assert lead.budget == Money(amount=Decimal("30000000"), currency="INR")
    assert "30,000,000 INR" in decision.outbound[0].text


def test_an_invalid_answer_is_reasked_with_a_hint() -> None:
    lead, decision = run(at_stage(Stage.BUDGET), text("not sure yet"))
    assert lead.stage is Stage.BUDGET
    assert lead.invalid_answers == 1
    assert "couldn't read that as a budget" in decision.outbound[0].text
    assert "What is your budget?" in decision.outbound[0].text


def test_buttons_and_typed_answers_both_work_and_stale_buttons_do_not() -> None:
    lead, _ = run(at_stage(Stage.GOAL), press("goal:rent"))
    assert (lead.goal, lead.stage) == ("rent", Stage.BUDGET)
    lead, _ = run(lead, press("goal:buy"))  # a button of the previous question
    assert (lead.goal, lead.stage) == ("rent", Stage.BUDGET)
    assert lead.invalid_answers == 1
    lead, _ = run(at_stage(Stage.TIMELINE), text("2"))  # the second option, by number
    assert lead.timeline == "3m"


def test_land_skips_the_bedrooms_question() -> None:
    lead, _ = run(at_stage(Stage.PROPERTY_TYPE), press("property_type:land"), text("Al Barsha"))
    lead, _ = run(lead, press("timeline:now"))
    assert lead.stage is Stage.PAYMENT
    assert lead.bedrooms is None


def test_first_contact_picks_the_language_from_telegram_or_the_script() -> None:
    lead, decision = run(new_lead(), event(EventKind.START, "/start", language_hint="ru-RU"))
    assert lead.language is Language.RU
    assert lead.stage is Stage.GOAL
    assert "Language" not in decision.outbound[0].text
    lead, _ = run(new_lead(), event(EventKind.TEXT, "سلام وقت بخیر", language_hint="en"))
    assert lead.language is Language.FA
    lead, _ = run(new_lead(), event(EventKind.START, "/start", language_hint="de"))
    assert lead.language is Language.EN


def test_the_language_can_be_changed_and_the_question_is_asked_again() -> None:
    lead, decision = run(at_stage(Stage.BUDGET), event(EventKind.LANGUAGE, "/language"))
    values = [choice.value for choice in decision.outbound[0].choices]
    assert values == ["lang:en", "lang:fa", "lang:ar", "lang:ru"]
    lead, decision = run(lead, press("lang:ar"))
    assert lead.language is Language.AR and lead.stage is Stage.BUDGET
    assert decision.outbound[0].text.startswith("✅")


def test_a_qr_deep_link_records_the_source_and_counts_each_scan() -> None:
    lead, _ = run(new_lead(), event(EventKind.START, "/start qr_expo", payload="qr_expo"))
    lead, _ = run(lead, event(EventKind.START, "/start qr_mall", payload="qr_mall"))
    assert (lead.source, lead.qr_scans, lead.stage) == ("expo", 2, Stage.GOAL)


def test_stop_opts_out_in_any_language_and_start_opts_back_in() -> None:
    for word in ("/stop", "STOP", "стоп", "توقف", "إيقاف"):
        kind = EventKind.STOP if word.startswith("/") else EventKind.TEXT
        lead, decision = run(at_stage(Stage.LOCATION), event(kind, word))
        assert lead.opted_out, word
        assert "/start" in decision.outbound[0].text
    lead, decision = run(lead, text("hello?"))
    assert lead.opted_out and lead.stage is Stage.LOCATION
    lead, decision = run(lead, event(EventKind.START, "/start"))
    assert not lead.opted_out
    assert "Which area" in decision.outbound[0].text


def test_only_the_senders_own_contact_is_taken() -> None:
    lead, decision = run(
        at_stage(Stage.CONTACT),
        event(EventKind.CONTACT, contact_phone="971501234567", contact_is_own=False),
    )
    assert lead.phone is None and decision.events == ()
    lead, decision = run(
        lead, event(EventKind.CONTACT, contact_phone="971501234567", contact_is_own=True)
    )
    assert lead.phone == "+971501234567"
    assert decision.outbound[0].remove_keyboard


def test_a_bad_phone_is_reasked_and_the_contact_button_is_offered() -> None:
    lead, decision = run(at_stage(Stage.CONTACT), text("call me tomorrow"))
    assert lead.phone is None and lead.invalid_answers == 1
    assert decision.outbound[0].request_contact == "📱 Share my phone number"


def test_voice_counts_and_asks_to_type() -> None:
    lead, decision = run(at_stage(Stage.GOAL), event(EventKind.VOICE))
    assert (lead.voice_count, lead.messages_count, lead.stage) == (1, 1, Stage.GOAL)
    assert "voice" in decision.outbound[0].text


def test_blocking_changes_reachability_without_counting_a_message() -> None:
    lead, decision = run(at_stage(Stage.GOAL), event(EventKind.BLOCKED))
    assert lead.unreachable and lead.messages_count == 0 and decision.outbound == ()
    lead, _ = run(lead, event(EventKind.UNBLOCKED))
    assert not lead.unreachable


def test_the_mermaid_diagram_matches_the_transition_table() -> None:
    diagram = (
        Path(__file__).parents[2] / "layers/shared/leadbot/conversation/stages.mmd"
    ).read_text()
    edges = set(re.findall(r"^\s*(\w+) --> (\w+)", diagram, flags=re.MULTILINE))
    tables = (*NEXT_STAGE.items(), *QA_FIRST_NEXT_STAGE.items())
    stage_edges = {(a, b) for a, b in edges if a in set(Stage) and b in set(Stage)}
    assert stage_edges == {(a.value, b.value) for a, b in tables} | {("timeline", "payment")}


@pytest.mark.parametrize(
    "inbound",
    [
        event(EventKind.VOICE),
        event(EventKind.LOCATION, "📍 25.1,55.2"),
        event(EventKind.UNSUPPORTED),
        event(EventKind.CONTACT, contact_phone="971501234567", contact_is_own=True),
        text("is there a pool?"),
        press("goal:buy"),
        press("lang:menu"),
        event(EventKind.LANGUAGE, "/language"),
    ],
)
@pytest.mark.parametrize("stage", list(Stage))
def test_every_kind_of_event_gets_an_answer_at_every_stage(
    stage: Stage, inbound: InboundEvent
) -> None:
    lead, decision = run(at_stage(stage), inbound)
    assert decision.outbound, (stage, inbound.kind)
    assert all(o.text.strip() for o in decision.outbound)
    assert lead.messages_count == 1


# Catalog links: offered after the phone and on request, only when the tenant has catalogs and
# the service can make links; the engine never sees a key, only the URL maker it is given.
CATALOGS = (
    Catalog(catalog_id="marina", title="Marina brochure", url="https://x.example/m.pdf"),
    Catalog(catalog_id="prices", title="Price list", url="https://x.example/p.pdf"),
)


def _url(lead_id: str, catalog_id: str) -> str:
    return f"https://links.example/c/{lead_id}-{catalog_id}"


CATALOG_CTX = Ctx(tenant=replace(TENANT, catalogs=CATALOGS), now=NOW, catalog_url=_url)


def test_after_the_phone_the_catalogs_follow_the_thanks_as_links() -> None:
    decision = step(at_stage(Stage.CONTACT), text("+971 50 123 4567"), CATALOG_CTX)
    thanks, offer = decision.outbound
    assert thanks.remove_keyboard and thanks.links == ()
    assert offer.text == f"{t('catalog.offer', Language.EN)}\n\n{t('handoff.offer', Language.EN)}"
    assert offer.choices == (Choice(label=t("handoff.button", Language.EN), value=HANDOFF),)
    assert offer.links == (
        Link(label="Marina brochure", url="https://links.example/c/01LEAD-marina"),
        Link(label="Price list", url="https://links.example/c/01LEAD-prices"),
    )
    assert decision.events == (PhoneCaptured(lead_id="01LEAD"),)


@pytest.mark.parametrize(
    "ctx",
    [
        CTX,  # no catalogs, no URL maker
        Ctx(tenant=TENANT, now=NOW, catalog_url=_url),  # no catalogs
        Ctx(tenant=replace(TENANT, catalogs=CATALOGS), now=NOW),  # no way to make links
    ],
    ids=["neither", "no-catalogs", "no-url-maker"],
)
def test_without_catalogs_or_a_url_maker_no_links_are_offered(ctx: Ctx) -> None:
    decision = step(at_stage(Stage.CONTACT), text("+971 50 123 4567"), ctx)
    thanks, offer = decision.outbound
    assert thanks.links == () and offer.links == ()
    assert offer.text == t("handoff.offer", Language.EN) and offer.choices
    decision = step(at_stage(Stage.ENGAGEMENT), text("send me the brochure"), ctx)
    assert decision.outbound == (Outbound(text=t("catalog.unavailable", Language.EN)),)


@pytest.mark.parametrize(
    ("language", "message"),
    [
        (Language.EN, "Could you send me the brochure?"),
        (Language.EN, "catalogue pls"),
        (Language.FA, "کاتالوگ دارید؟"),
        (Language.AR, "أرسل لي الكتالوج من فضلك"),
        (Language.RU, "Пришлите, пожалуйста, брошюру"),
    ],
)
def test_asking_for_the_catalog_in_engagement_offers_the_links(
    language: Language, message: str
) -> None:
    lead = replace(at_stage(Stage.ENGAGEMENT), language=language)
    decision = step(lead, text(message), CATALOG_CTX)
    (offer,) = decision.outbound
    assert offer.text == t("catalog.offer", language)
    assert [link.label for link in offer.links] == ["Marina brochure", "Price list"]
    assert decision.lead.messages_count == 1


def test_other_messages_in_engagement_get_the_usual_answer_without_links() -> None:
    lead = at_stage(Stage.ENGAGEMENT)
    (reply,) = step(lead, text("thank you"), CATALOG_CTX).outbound
    connect = (Choice(label=t("handoff.button", Language.EN), value=HANDOFF),)
    assert reply == Outbound(text=t("engagement.ack", Language.EN), choices=connect)
    (reply,) = step(lead, text("is there a pool?"), CATALOG_CTX).outbound
    assert reply == Outbound(text=t("answer.unknown_agent", Language.EN))
    (reply,) = step(lead, event(EventKind.VOICE), CATALOG_CTX).outbound
    assert reply == Outbound(text=t("voice.unsupported", Language.EN))


def test_a_catalog_request_before_qualifying_is_just_an_invalid_answer() -> None:
    lead, decision = run(at_stage(Stage.BUDGET), text("brochure"))
    assert lead.stage is Stage.BUDGET and lead.invalid_answers == 1
    assert all(o.links == () for o in decision.outbound)


def test_while_an_agent_has_taken_over_the_bot_counts_but_says_nothing() -> None:
    paused = replace(new_lead(), stage=Stage.BUDGET, language=Language.EN, bot_paused=True)
    decision = step(paused, event(EventKind.TEXT, "around 2M"), CTX)
    assert decision.outbound == ()
    assert decision.lead.messages_count == paused.messages_count + 1
    assert (decision.lead.stage, decision.lead.budget) == (Stage.BUDGET, None)
    stopped = step(paused, event(EventKind.TEXT, "STOP"), CTX)
    assert stopped.lead.opted_out  # opting out is honoured even then


@pytest.mark.parametrize(
    ("language", "question"),
    [
        (Language.EN, "Is there a payment plan?"),
        (Language.EN, "Thanks. When is the handover"),
        (Language.FA, "قیمت هر متر چقدر است"),
        (Language.AR, "هل يوجد موقف سيارات"),
        (Language.RU, "Сколько стоит парковка"),
    ],
)
def test_a_question_in_engagement_is_a_knowledge_gap(language: Language, question: str) -> None:
    """Nothing known to answer from: the lead hears so and that an agent will answer, the
    agency hears what was asked."""
    lead = replace(at_stage(Stage.ENGAGEMENT), language=language)
    decision = step(lead, text(f"  {question} "), CATALOG_CTX)
    assert decision.outbound == (Outbound(text=t("answer.unknown_agent", language)),)
    assert decision.events == (KnowledgeGap(question=question, language=language),)


@pytest.mark.parametrize(
    "message", ["ok thanks", "I'll wait for the agent", "send me the brochure please?"]
)
def test_statements_and_catalog_requests_are_no_knowledge_gap(message: str) -> None:
    decision = step(at_stage(Stage.ENGAGEMENT), text(message), CATALOG_CTX)
    assert decision.events == ()


def test_questions_while_paused_are_no_knowledge_gap() -> None:
    """With an agent on the conversation, the agent answers."""
    paused = replace(at_stage(Stage.ENGAGEMENT), bot_paused=True)
    assert step(paused, text("what is the price?"), CTX).events == ()
