"""The score formula of DESIGN.md §7, its edges, and properties that must hold for any lead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadbot.domain import Channel, Goal, Grade, Lead, Money, PaymentMethod, PropertyType
from leadbot.domain import Temperature as T
from leadbot.scoring import Breakdown, Part, ScoreInputs, score, score_lead, temperature

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
QUALIFIED = {
    "phone": "+971501234567",
    "budget": Money(amount=Decimal("2500000"), currency="AED"),
    "transaction_type": Goal.BUY,
    "property_type": PropertyType.APARTMENT,
    "location": "Dubai Marina",
    "payment_method": PaymentMethod.CASH,
}


def points(**inputs: object) -> int:
    return score(ScoreInputs(**inputs), NOW).value  # type: ignore[arg-type]


def test_the_worked_case_scores_67_hot() -> None:
    """1 QR scan, 1 catalog view, 2 messages, a voice message, phone, budget, transaction type,
    property type and location, last active 10 minutes ago: 3+2+2+5 + 10+10+5+5+5 + 20."""
    inputs = ScoreInputs(
        qr_scans=1,
        catalog_views=1,
        messages=2,
        voice_messages=1,
        phone="+971501234567",
        budget=Money(amount=Decimal("2000000"), currency="AED"),
        transaction_type=Goal.BUY,
        property_type=PropertyType.VILLA,
        location="Palm Jumeirah",
        last_interaction_at=NOW - timedelta(minutes=10),
    )
    result = score(inputs, NOW)
    assert result.value == 67
    assert (result.temperature, result.grade) == (T.HOT, Grade.B)
    assert (result.breakdown.engagement, result.breakdown.qualification) == (12, 35)
    assert result.breakdown.recency == 20
    fired = {(r.part, r.rule): r.points for r in result.breakdown.rules}
    assert fired == {
        (Part.ENGAGEMENT, "qr_scans"): 3,
        (Part.ENGAGEMENT, "catalog_views"): 2,
        (Part.ENGAGEMENT, "messages"): 2,
        (Part.ENGAGEMENT, "voice"): 5,
        (Part.QUALIFICATION, "phone"): 10,
        (Part.QUALIFICATION, "budget"): 10,
        (Part.QUALIFICATION, "transaction_type"): 5,
        (Part.QUALIFICATION, "property_type"): 5,
        (Part.QUALIFICATION, "location"): 5,
        (Part.RECENCY, "within_1h"): 20,
    }
    assert result.rescore_at == NOW - timedelta(minutes=10) + timedelta(hours=1)


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({}, 0),
        ({"qr_scans": 1}, 3),
        ({"qr_scans": 5}, 15),
        ({"qr_scans": 6}, 15),  # capped
        ({"qr_scans": 100}, 15),
        ({"catalog_views": 4}, 8),
        ({"catalog_views": 5}, 10),
        ({"catalog_views": 9}, 10),  # capped
        ({"messages": 9}, 9),
        ({"messages": 10}, 10),
        ({"messages": 250}, 10),  # capped
        ({"voice_messages": 1}, 5),
        ({"voice_messages": 7}, 5),  # once, however many
        ({"qr_scans": 9, "catalog_views": 9, "messages": 99, "voice_messages": 3}, 40),
        ({"qr_scans": -2}, 0),  # a corrupt counter never takes points away
    ],
)
def test_engagement(inputs: dict[str, int], expected: int) -> None:
    assert points(**inputs) == expected


@pytest.mark.parametrize(
    ("answer", "value", "expected"),
    [
        ("phone", "+971501234567", 10),
        ("budget", Money(amount=Decimal("1"), currency="AED"), 10),
        ("budget", "2.5M AED", 10),
        ("transaction_type", Goal.RENT, 5),
        ("property_type", PropertyType.LAND, 5),
        ("location", "JVC", 5),
        ("payment_method", PaymentMethod.MORTGAGE, 5),
    ]
    + [
        (answer, blank, 0)
        for answer in QUALIFIED
        for blank in (None, "", " ", "\t\n", "\u3000")  # the last: an ideographic space
    ],
)
def test_qualification_counts_answers_and_never_blanks(
    answer: str, value: object, expected: int
) -> None:
    assert points(**{answer: value}) == expected


def test_all_answers_make_40() -> None:
    assert points(**QUALIFIED) == 40


@pytest.mark.parametrize(
    ("age", "expected", "drops_in"),
    [
        (timedelta(0), 20, timedelta(hours=1)),
        (timedelta(minutes=59, seconds=59), 20, timedelta(seconds=1)),
        (timedelta(hours=1), 15, timedelta(hours=5)),
        (timedelta(hours=5, minutes=59), 15, timedelta(minutes=1)),
        (timedelta(hours=6), 10, timedelta(hours=18)),
        (timedelta(hours=23, minutes=59), 10, timedelta(minutes=1)),
        (timedelta(hours=24), 5, timedelta(hours=48)),
        (timedelta(hours=71, minutes=59), 5, timedelta(minutes=1)),
        (timedelta(hours=72), 0, None),
        (timedelta(days=400), 0, None),
        (-timedelta(minutes=3), 20, timedelta(hours=1, minutes=3)),  # a clock slightly ahead
    ],
)
def test_recency_and_when_it_next_drops(
    age: timedelta, expected: int, drops_in: timedelta | None
) -> None:
    result = score(ScoreInputs(last_interaction_at=NOW - age), NOW)
    assert result.breakdown.recency == expected
    assert result.rescore_at == (NOW + drops_in if drops_in is not None else None)


def test_no_interaction_means_no_recency_and_nothing_to_rescore() -> None:
    result = score(ScoreInputs(), NOW)
    assert (result.value, result.rescore_at, result.breakdown.rules) == (0, None, ())


PHONE_BUDGET_AREA = {k: QUALIFIED[k] for k in ("phone", "budget", "location")}
JUST_NOW, TWO_HOURS = NOW - timedelta(minutes=1), NOW - timedelta(hours=2)
MAXED = {"qr_scans": 5, "catalog_views": 5, "messages": 10, "voice_messages": 1}


@pytest.mark.parametrize(
    ("inputs", "value", "band", "letter"),
    [
        ({}, 0, T.COLD, Grade.D),
        (
            {"phone": "+971501234567", "budget": QUALIFIED["budget"], "messages": 4},
            24,
            T.COLD,
            Grade.D,
        ),
        (PHONE_BUDGET_AREA, 25, T.WARM, Grade.C),
        (
            {**PHONE_BUDGET_AREA, "messages": 9, "last_interaction_at": TWO_HOURS},
            49,
            T.WARM,
            Grade.C,
        ),
        (
            {**PHONE_BUDGET_AREA, "messages": 10, "last_interaction_at": TWO_HOURS},
            50,
            T.HOT,
            Grade.B,
        ),
        ({**QUALIFIED, "messages": 9, "last_interaction_at": JUST_NOW}, 69, T.HOT, Grade.B),
        ({**QUALIFIED, "messages": 10, "last_interaction_at": JUST_NOW}, 70, T.BURNING, Grade.A),
        ({**QUALIFIED, **MAXED, "last_interaction_at": JUST_NOW}, 100, T.BURNING, Grade.A),
    ],
)
def test_temperature_edges(inputs: dict[str, object], value: int, band: T, letter: Grade) -> None:
    result = score(ScoreInputs(**inputs), NOW)  # type: ignore[arg-type]
    assert (result.value, result.temperature, result.grade) == (value, band, letter)
    assert temperature(value) is band


def test_a_lead_is_scored_from_its_fields() -> None:
    lead = Lead(
        tenant_id="demo",
        lead_id="01JD0000000000000000000000",
        channel=Channel.TELEGRAM,
        external_id="42",
        goal=Goal.INVEST,
        location="  ",
        qr_scans=2,
        messages_count=3,
        voice_count=0,
        created_at=NOW - timedelta(days=1),
        updated_at=NOW,
        last_inbound_at=NOW - timedelta(hours=30),
        last_catalog_view_at=NOW - timedelta(hours=2),  # the later of the two counts
    )
    result = score_lead(lead, NOW)
    assert result.value == 6 + 3 + 5 + 15
    assert result.rescore_at == NOW + timedelta(hours=4)


def test_the_breakdown_survives_storage() -> None:
    result = score(ScoreInputs(qr_scans=2, last_interaction_at=NOW, **QUALIFIED), NOW)
    assert Breakdown.from_dict(result.breakdown.as_dict()) == result.breakdown


# -- properties -----------------------------------------------------------------------------------

answers = st.one_of(st.none(), st.text(max_size=5), st.sampled_from(list(QUALIFIED.values())))
counts = st.integers(min_value=0, max_value=10_000)
ages = st.one_of(st.none(), st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)))


@st.composite
def leads(draw: st.DrawFn) -> ScoreInputs:
    age = draw(ages)
    return ScoreInputs(
        qr_scans=draw(counts),
        catalog_views=draw(counts),
        messages=draw(counts),
        voice_messages=draw(counts),
        last_interaction_at=NOW - age if age is not None else None,
        **{name: draw(answers) for name in QUALIFIED},  # type: ignore[arg-type]
    )


@given(leads())
def test_the_score_is_always_within_0_and_100_and_adds_up(inputs: ScoreInputs) -> None:
    result = score(inputs, NOW)
    parts = result.breakdown
    assert 0 <= result.value <= 100
    assert result.value == parts.engagement + parts.qualification + parts.recency
    assert 0 <= parts.engagement <= 40 and 0 <= parts.qualification <= 40
    assert 0 <= parts.recency <= 20
    assert result.temperature is temperature(result.value)


@given(
    leads(),
    st.sampled_from(["qr_scans", "catalog_views", "messages", "voice_messages"]),
    st.integers(min_value=1, max_value=50),
)
def test_more_engagement_never_lowers_the_score(
    inputs: ScoreInputs, counter: str, more: int
) -> None:
    from dataclasses import replace

    grown = replace(inputs, **{counter: getattr(inputs, counter) + more})
    assert score(grown, NOW).value >= score(inputs, NOW).value


@given(leads(), st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=5)))
def test_the_score_only_decays_with_time_and_rescore_at_marks_the_next_change(
    inputs: ScoreInputs, later: timedelta
) -> None:
    now, then = score(inputs, NOW), score(inputs, NOW + later)
    assert then.value <= now.value
    if now.rescore_at is None or NOW + later < now.rescore_at:
        assert then.value == now.value
    else:
        assert then.value < now.value


def test_past_a_cap_more_of_the_same_changes_nothing_not_even_the_breakdown() -> None:
    capped = score(ScoreInputs(messages=10, qr_scans=5, voice_messages=1), NOW)
    more = score(ScoreInputs(messages=250, qr_scans=9, voice_messages=4), NOW)
    assert more == capped
    assert {r.rule: r.count for r in capped.breakdown.rules} == {
        "qr_scans": 5,
        "messages": 10,
        "voice": None,
    }
