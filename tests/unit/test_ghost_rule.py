"""The ghost protocol's rule, its index attributes and its wording: pure, with `now` passed in."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leadbot.domain import (
    Channel,
    FollowupStep,
    FollowupTemplate,
    Language,
    Lead,
    LeadStatus,
    Tenant,
)
from leadbot.domain.followups import ghost_due_at, ghost_followup_due
from leadbot.followups import ghost_message, pending_followup
from leadbot.i18n import t
from leadbot.store.repositories import FOLLOWUP_SHARDS, followup_index

LAST = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
TENANT = Tenant(tenant_id="demo", name="Demo Realty")


def quiet_lead(**changes: Any) -> Lead:
    """A qualified Telegram lead with a phone, whose last message was at LAST."""
    lead = Lead(
        tenant_id="demo",
        lead_id="01KE6P4YM0VS00000000000001",
        channel=Channel.TELEGRAM,
        external_id="424242",
        name="Sara",
        language=Language.EN,
        status=LeadStatus.QUALIFIED,
        phone="+971501234567",
        created_at=LAST - timedelta(minutes=5),
        updated_at=LAST,
        last_inbound_at=LAST,
    )
    return replace(lead, **changes)


def test_due_at_two_hours_of_silence_and_not_a_second_before() -> None:
    lead = quiet_lead()
    assert not ghost_followup_due(lead, LAST + timedelta(hours=2) - timedelta(seconds=1), TENANT)
    assert ghost_followup_due(lead, LAST + timedelta(hours=2), TENANT)
    assert ghost_followup_due(lead, LAST + timedelta(days=3), TENANT)


def test_the_delay_is_the_tenants() -> None:
    quick = replace(TENANT, ghost_after_minutes=30)
    lead = quiet_lead()
    assert not ghost_followup_due(lead, LAST + timedelta(minutes=29), quick)
    assert ghost_followup_due(lead, LAST + timedelta(minutes=30), quick)


def test_inactive_counts_from_the_leads_own_last_message() -> None:
    # A later catalog view or an agent's note is not the lead writing.
    lead = quiet_lead(
        last_catalog_view_at=LAST + timedelta(hours=1), updated_at=LAST + timedelta(hours=1)
    )
    assert ghost_due_at(lead, timedelta(hours=2)) == LAST + timedelta(hours=2)


@pytest.mark.parametrize(
    ("why", "changes"),
    [
        ("no phone", {"phone": None}),
        ("a blank phone", {"phone": "  "}),
        ("viewing scheduled", {"status": LeadStatus.VIEWING_SCHEDULED}),
        ("opted out", {"opted_out": True}),
        ("unreachable", {"unreachable": True}),
        ("already reminded", {"ghost_reminded_at": LAST + timedelta(hours=2)}),
        ("claimed by a sweep", {"ghost_claimed_at": LAST + timedelta(hours=2)}),
        ("an agent took over", {"bot_paused": True}),
        ("no chat with the bot", {"channel": Channel.MANUAL}),
        ("never wrote", {"last_inbound_at": None}),
    ],
)
def test_exclusions(why: str, changes: dict[str, Any]) -> None:
    lead = quiet_lead(**changes)
    assert ghost_due_at(lead, timedelta(hours=2)) is None, why
    assert not ghost_followup_due(lead, LAST + timedelta(days=30), TENANT), why
    # Nothing pending, or (once reminded) the campaign's step on its day: never a ghost again.
    pending = pending_followup(lead, TENANT)
    assert pending is None or pending.step is not FollowupStep.GHOST, why


def test_other_statuses_and_whatsapp_leads_stay_eligible() -> None:
    for status in set(LeadStatus) - {LeadStatus.VIEWING_SCHEDULED}:
        assert ghost_followup_due(quiet_lead(status=status), LAST + timedelta(hours=2), TENANT)
    whatsapp = quiet_lead(channel=Channel.WHATSAPP, external_id="971501234567")
    assert ghost_followup_due(whatsapp, LAST + timedelta(hours=2), TENANT)


def test_index_attributes_are_derived_from_the_lead() -> None:
    lead = quiet_lead()
    index = followup_index(lead, pending_followup(lead, TENANT))
    assert index["followup_due_at"] == "2026-11-21T12:00:00.000000Z"
    assert index["followup_shard"] in {str(n) for n in range(FOLLOWUP_SHARDS)}
    # A new message moves it; the same lead always lands in the same shard.
    later = followup_index(replace(lead, last_inbound_at=LAST + timedelta(minutes=45)), None)
    assert later == {"followup_shard": None, "followup_due_at": None}  # no tenant, no follow-up
    quieter = replace(lead, last_inbound_at=LAST + timedelta(minutes=45))
    moved = followup_index(quieter, pending_followup(quieter, TENANT))
    assert moved == {
        "followup_shard": index["followup_shard"],
        "followup_due_at": "2026-11-21T12:45:00.000000Z",
    }


@pytest.mark.parametrize("language", list(Language))
def test_the_check_in_is_in_the_leads_language_with_its_name(language: Language) -> None:
    message = ghost_message(quiet_lead(language=language, name="Sara"), TENANT)
    assert message.text == t("followup.ghost", language, name="Sara", agency="Demo Realty")
    assert "Sara" in message.text and "Demo Realty" in message.text
    assert not message.choices and not message.links and message.image is None


def test_a_lead_without_a_language_hears_the_agencys_default() -> None:
    tenant = replace(TENANT, default_language=Language.AR)
    message = ghost_message(quiet_lead(language=None), tenant)
    assert message.text == t("followup.ghost", Language.AR, name="Sara", agency="Demo Realty")


def test_the_agencys_own_wording_wins_in_its_language_only() -> None:
    own = FollowupTemplate(
        step=FollowupStep.GHOST, language=Language.RU, text="{name}, это {agency}. Есть вопросы?"
    )
    tenant = replace(TENANT, followup_templates=(own,))
    assert ghost_message(quiet_lead(language=Language.RU), tenant).text == (
        "Sara, это Demo Realty. Есть вопросы?"
    )
    english = ghost_message(quiet_lead(language=Language.EN), tenant).text
    assert english == t("followup.ghost", Language.EN, name="Sara", agency="Demo Realty")


def test_a_nameless_lead_is_never_greeted_with_an_empty_name() -> None:
    own = FollowupTemplate(step=FollowupStep.GHOST, language=Language.EN, text="Hi {name}!")
    tenant = replace(TENANT, followup_templates=(own,))
    text = ghost_message(quiet_lead(name=" "), tenant).text
    assert text == t("followup.ghost.no_name", Language.EN, agency="Demo Realty")
    nameless_own = replace(own, text="Hello from {agency}")
    plain = replace(TENANT, followup_templates=(nameless_own,))
    assert ghost_message(quiet_lead(name=""), plain).text == "Hello from Demo Realty"
