"""The guard stage's rate limit: a flood gets one "slow down", is not counted, and lets up."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from leadbot.conversation import Ctx, step
from leadbot.conversation.guard import BURST, REFILL_PER_S, WARN_AGAIN_AFTER, admit
from leadbot.domain import Decision, EventKind, Language, Lead, SlowedDown, Stage
from leadbot.i18n import t
from tests.unit.test_conversation import CTX, NOW, event, new_lead, press, text

SLOW_DOWN = t("guard.slow_down", Language.EN)


def english_lead() -> Lead:
    return replace(new_lead(), language=Language.EN, stage=Stage.GOAL)


def flood(lead: Lead, count: int, ctx: Ctx = CTX) -> tuple[Lead, list[Decision]]:
    decisions = []
    for i in range(count):
        decision = step(lead, text(f"spam {i}"), ctx)
        decisions.append(decision)
        lead = decision.lead
    return lead, decisions


def test_a_full_bucket_lets_a_burst_through_then_refuses_until_it_refills() -> None:
    tokens, since = None, None
    for _ in range(int(BURST)):
        admission = admit(tokens, since, NOW)
        assert admission.allowed
        tokens, since = admission.tokens, NOW
    assert tokens == 0
    assert not admit(tokens, since, NOW).allowed
    # One token comes back every 1 / REFILL_PER_S seconds.
    assert not admit(tokens, since, NOW + timedelta(seconds=0.9 / REFILL_PER_S)).allowed
    assert admit(tokens, since, NOW + timedelta(seconds=1 / REFILL_PER_S)).allowed
    # A long quiet spell fills the bucket, never past its size.
    assert admit(0.0, NOW, NOW + timedelta(days=1)).tokens == BURST - 1


def test_a_clock_that_goes_back_gives_nothing_back() -> None:
    assert not admit(0.0, NOW, NOW - timedelta(minutes=5)).allowed


def test_a_flood_hears_one_slow_down_and_is_neither_answered_nor_counted() -> None:
    lead, decisions = flood(english_lead(), int(BURST) + 15)
    answered = decisions[: int(BURST)]
    over = decisions[int(BURST) :]
    assert all(d.outbound for d in answered)
    assert all(SLOW_DOWN not in o.text for d in answered for o in d.outbound)
    assert [o.text for o in over[0].outbound] == [SLOW_DOWN]
    assert [type(e) for e in over[0].events] == [SlowedDown]
    assert all(d.outbound == () and d.events == () for d in over[1:])
    assert lead.messages_count == BURST  # engagement is what got through
    assert lead.invalid_answers == BURST  # "spam" was re-asked only while answered
    assert lead.stage is Stage.GOAL
    assert lead.slowed_down_at == NOW
    assert lead.last_inbound_at == NOW


def test_after_a_pause_the_lead_is_answered_again_without_another_warning() -> None:
    lead, _ = flood(english_lead(), int(BURST) + 3)
    later = replace(CTX, now=NOW + timedelta(seconds=10))
    decision = step(lead, press("goal:buy"), later)
    assert decision.lead.stage is Stage.BUDGET
    assert SLOW_DOWN not in [o.text for o in decision.outbound]
    # Ten seconds gave back five tokens, one of them taken by that answer; the flood that
    # goes on runs dry again, silently: it was told minutes ago.
    lead, decisions = flood(decision.lead, 6, later)
    assert all(d.outbound for d in decisions[:4])
    assert decisions[4].outbound == () and decisions[5].outbound == ()


def test_a_flood_that_keeps_going_hears_one_warning_and_an_answer_every_two_seconds() -> None:
    lead, decisions = flood(english_lead(), int(BURST) + 1)
    replies = [o.text for d in decisions for o in d.outbound]
    for second in range(2, 62, 2):  # a message every second for a minute
        for offset in (second - 1, second):
            ctx = replace(CTX, now=NOW + timedelta(seconds=offset))
            decision = step(lead, text(f"more {offset}"), ctx)
            replies += [o.text for o in decision.outbound]
            lead = decision.lead
    assert replies.count(SLOW_DOWN) == 1
    assert lead.messages_count == BURST + 30  # one every 2 s got through


def test_a_new_flood_ten_minutes_later_is_warned_again() -> None:
    lead, _ = flood(english_lead(), int(BURST) + 1)
    later = replace(CTX, now=NOW + WARN_AGAIN_AFTER)
    lead, decisions = flood(lead, int(BURST) + 1, later)
    assert [o.text for o in decisions[-1].outbound] == [SLOW_DOWN]
    assert lead.slowed_down_at == later.now


def test_stop_always_gets_through_a_flood() -> None:
    lead, _ = flood(english_lead(), int(BURST) + 2)
    decision = step(lead, event(EventKind.STOP), CTX)
    assert decision.lead.opted_out
    assert decision.outbound[0].text.startswith(t("stop.confirm", Language.EN, start="/start")[:20])
    decision = step(lead, text("stop"), CTX)
    assert decision.lead.opted_out


@pytest.mark.parametrize("field", ["opted_out", "bot_paused"])
def test_a_lead_the_bot_does_not_talk_to_is_not_told_to_slow_down(field: str) -> None:
    lead = replace(english_lead(), rate_tokens=0.0, last_inbound_at=NOW, **{field: True})
    decision = step(lead, text("again"), CTX)
    assert decision.outbound == ()
    assert decision.lead.slowed_down_at is None
    assert decision.lead.messages_count == 0


def test_the_slow_down_is_in_the_leads_language() -> None:
    lead = replace(english_lead(), language=Language.FA, rate_tokens=0.0, last_inbound_at=NOW)
    decision = step(lead, text("سلام"), CTX)
    assert [o.text for o in decision.outbound] == [t("guard.slow_down", Language.FA)]
