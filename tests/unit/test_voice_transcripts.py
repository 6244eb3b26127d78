"""A voice note's transcript in the conversation: answered as typed, counted as a voice note."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from leadbot.conversation import Ctx, step
from leadbot.domain import Channel, EventKind, InboundEvent, Lead, Stage, Tenant

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
CTX = Ctx(tenant=Tenant(tenant_id="demo", name="Demo Realty"), now=NOW)


def _lead(stage: Stage) -> Lead:
    return Lead(
        tenant_id="demo",
        lead_id="01LEAD",
        channel=Channel.TELEGRAM,
        external_id="42",
        stage=stage,
        created_at=NOW,
        updated_at=NOW,
    )


def _text(text: str) -> InboundEvent:
    return InboundEvent(
        tenant_id="demo",
        channel=Channel.TELEGRAM,
        event_id="1",
        external_id="42",
        kind=EventKind.TEXT,
        at=NOW,
        text=text,
    )


def test_a_transcript_is_answered_as_typed_and_counts_as_a_voice_note() -> None:
    typed = _text("My budget is 2.5M AED")
    heard = step(_lead(Stage.BUDGET), replace(typed, voice=True), CTX)
    read = step(_lead(Stage.BUDGET), typed, CTX)
    assert heard.outbound == read.outbound
    assert heard.lead.budget == read.lead.budget is not None
    assert heard.lead.stage is read.lead.stage is Stage.PROPERTY_TYPE
    assert (heard.lead.voice_count, read.lead.voice_count) == (1, 0)
    assert heard.lead.messages_count == read.lead.messages_count == 1


def test_a_transcribed_stop_word_opts_out_as_typed() -> None:
    decision = step(_lead(Stage.GOAL), replace(_text("stop"), voice=True), CTX)
    assert decision.lead.opted_out and decision.lead.voice_count == 1
