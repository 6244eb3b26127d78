"""Campaign steps and quiet hours through the sweep, over real tables with the functions' clock
moved as a person would move it on the local stack: each step goes once on its day, a reply or
a handoff ends the campaign, nothing goes out at night on the lead's clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from leadbot.domain import Channel, FollowupStep, Language, Lead
from leadbot.i18n import t
from leadbot.services import followups
from leadbot.services.followups import GhostOutcome, SweepReport, unpaced
from leadbot.store.repositories import index_time
from tests.support import ADMIN, InProcessStack, Updates, api_call, move_clock_to, text_of

TWO_HOURS = timedelta(hours=2)
GREETING = t("followup.greeting", Language.EN, name="Sara", agency="Demo Realty")


def sweep(stack: InProcessStack, now: datetime) -> SweepReport:
    return followups.ghost_sweep(stack.repos, now, pacer=unpaced())


def lead_of(stack: InProcessStack, chat: int) -> Lead:
    repos = stack.repos
    lead_id = repos.identities.lead_id(repos.identities.key("demo", Channel.TELEGRAM, str(chat)))
    assert lead_id is not None
    return repos.leads.get("demo", lead_id)


def due_key(stack: InProcessStack, lead: Lead) -> str | None:
    item = stack.repos.tables.leads.get("demo", lead.lead_id, consistent_read=True)
    due: str | None = item.followup_due_at
    return due


def texts(stack: InProcessStack, chat: int) -> list[str]:
    return [text_of(m) for m in stack.sent(chat)]


def checked_in(stack: InProcessStack, chat: int, at: datetime) -> Lead:
    """A lead qualified at `at` (a Dubai phone), quiet since, that got its ghost check-in."""
    move_clock_to(at)
    stack.qualify(Updates(chat))
    lead = lead_of(stack, chat)
    assert lead.last_inbound_at is not None
    assert sweep(stack, lead.last_inbound_at + TWO_HOURS).outcomes[GhostOutcome.SENT] == 1
    stack.fake.clear()
    return lead_of(stack, chat)


def campaign_entries(stack: InProcessStack, lead: Lead) -> list[tuple[str, str]]:
    return [
        (e.detail["followup"], e.detail["status"])
        for e in stack.repos.timeline.history("demo", lead.lead_id)
        if e.text.startswith("followup_") and e.detail["followup"].startswith("campaign")
    ]


def test_day_3_and_day_6_each_once_then_nothing(stack: InProcessStack, daytime: datetime) -> None:
    lead = checked_in(stack, 7301, daytime)
    reminded = lead.ghost_reminded_at
    assert reminded is not None
    assert due_key(stack, lead) == f"{index_time(reminded + timedelta(days=3))}#campaign_1"
    assert sweep(stack, reminded + timedelta(days=3) - timedelta(seconds=1)).due == 0

    first = sweep(stack, reminded + timedelta(days=3))
    assert (first.due, first.items_read, first.outcomes[GhostOutcome.SENT]) == (1, 1, 1)
    # The listings that fit were all shown while qualifying: what the agency does instead.
    assert texts(stack, 7301) == [f"{GREETING} {t('followup.offer.services', Language.EN)}"]
    after_first = lead_of(stack, 7301)
    assert (after_first.campaign_steps_sent, after_first.campaign_claimed_at) == (1, None)
    assert due_key(stack, lead) == f"{index_time(reminded + timedelta(days=6))}#campaign_2"

    stack.fake.clear()
    second = sweep(stack, reminded + timedelta(days=6))
    assert second.outcomes[GhostOutcome.SENT] == 1
    # Marina Residences has 3 units left, the demo agency's threshold: said, as it is.
    [card] = stack.sent(7301)
    text = text_of(card)
    assert text.startswith(f"{GREETING} {t('followup.urgent.scarce', Language.EN)}")
    assert "Marina Residences" in text
    assert t("listing.scarcity.many", Language.EN, count=3) in text
    assert card["payload"]["reply_markup"]["inline_keyboard"]
    done = lead_of(stack, 7301)
    assert done.campaign_steps_sent == 2 and done.fomo_messages_sent > lead.fomo_messages_sent
    assert due_key(stack, done) is None
    assert sweep(stack, reminded + timedelta(days=60)).due == 0
    assert campaign_entries(stack, lead) == [("campaign_1", "sent"), ("campaign_2", "sent")]


def test_any_reply_ends_the_campaign(stack: InProcessStack, daytime: datetime) -> None:
    lead = checked_in(stack, 7302, daytime)
    assert lead.ghost_reminded_at is not None
    move_clock_to(lead.ghost_reminded_at + timedelta(days=1))
    stack.post(Updates(7302).text("Not now, thanks"))
    assert due_key(stack, lead) is None
    stack.fake.clear()
    assert sweep(stack, lead.ghost_reminded_at + timedelta(days=7)).due == 0
    assert not stack.sent(7302)


def test_a_handoff_or_a_viewing_ends_it(stack: InProcessStack, daytime: datetime) -> None:
    handed = checked_in(stack, 7303, daytime)
    status, _ = api_call(
        "PATCH", f"/api/leads/{handed.lead_id}", ADMIN, {"status": "broker_requested"}
    )
    assert status == 200 and due_key(stack, handed) is None

    # (A viewing asked for from a card comes with a press, a reply: the unit tests hold that
    # one apart.)
    viewing = checked_in(stack, 7304, daytime)
    status, _ = api_call(
        "PATCH", f"/api/leads/{viewing.lead_id}", ADMIN, {"status": "viewing_scheduled"}
    )
    assert status == 200 and due_key(stack, viewing) is None
    stack.fake.clear()
    assert sweep(stack, daytime + timedelta(days=10)).due == 0
    assert not stack.sent()


def test_a_step_in_quiet_hours_waits_for_the_morning_unread(
    stack: InProcessStack, daytime: datetime
) -> None:
    # Qualified at 16:30 UTC (20:30 in Dubai): the check-in falls due at 22:30 there.
    evening = daytime.replace(hour=16, minute=30)
    move_clock_to(evening)
    stack.qualify(Updates(7305))
    lead = lead_of(stack, 7305)
    assert lead.last_inbound_at is not None
    morning = (lead.last_inbound_at + timedelta(days=1)).replace(
        hour=5, minute=0, second=0, microsecond=0
    )  # 09:00 in Dubai
    assert due_key(stack, lead) == index_time(morning)
    stack.fake.clear()
    night = sweep(stack, lead.last_inbound_at + TWO_HOURS)
    assert (night.due, night.items_read) == (0, 0)  # neither read nor claimed
    assert not stack.sent(7305)
    assert sweep(stack, morning).outcomes[GhostOutcome.SENT] == 1
    assert len(stack.sent(7305)) == 1


def test_a_sweep_that_reaches_a_lead_after_21_gives_it_back_until_9(
    stack: InProcessStack, daytime: datetime
) -> None:
    # Due at 20:50 in Dubai; the sweep comes at 21:10 (it runs every 30 minutes).
    move_clock_to(daytime.replace(hour=14, minute=50))
    stack.qualify(Updates(7306))
    lead = lead_of(stack, 7306)
    assert lead.last_inbound_at is not None
    stack.fake.clear()
    late = lead.last_inbound_at + TWO_HOURS + timedelta(minutes=20)
    report = sweep(stack, late)
    assert (report.outcomes[GhostOutcome.SKIPPED], report.released) == (1, 1)
    assert not stack.sent(7306)
    morning = (late + timedelta(days=1)).replace(hour=5, minute=0, second=0, microsecond=0)
    stored = lead_of(stack, 7306)
    assert stored.followup_not_before == morning and stored.ghost_claimed_at is None
    assert due_key(stack, stored) == index_time(morning)
    assert sweep(stack, late + timedelta(minutes=30)).due == 0  # not back every half hour
    assert sweep(stack, morning).outcomes[GhostOutcome.SENT] == 1
    events = [
        e.detail.get("reason")
        for e in stack.repos.timeline.history("demo", lead.lead_id)
        if e.text == "followup_skipped"
    ]
    assert events == ["quiet_hours"]


def test_a_step_the_channel_refuses_for_good_is_passed_not_retried(
    stack: InProcessStack, daytime: datetime
) -> None:
    lead = checked_in(stack, 7307, daytime)
    assert lead.ghost_reminded_at is not None
    stack.fake.fail_next("7307", 400, "Bad Request: chat not found")
    first = sweep(stack, lead.ghost_reminded_at + timedelta(days=3))
    assert (first.outcomes[GhostOutcome.FAILED], first.released) == (1, 0)
    stored = lead_of(stack, 7307)
    assert stored.campaign_steps_sent == 1
    assert due_key(stack, stored) == (
        f"{index_time(lead.ghost_reminded_at + timedelta(days=6))}#campaign_2"
    )


def _whatsapp_fields(message: dict[str, Any]) -> tuple[str, str]:
    template = message["payload"]["template"]
    return template["name"], template["language"]["code"]


def test_campaign_steps_outside_whatsapps_window_go_as_the_approved_template(
    stack: InProcessStack, daytime: datetime
) -> None:
    from dataclasses import replace

    from tests.whatsapp_support import WhatsAppLead, use_fake_whatsapp

    for wa in use_fake_whatsapp(stack):
        person = WhatsAppLead()
        wa.post(person.body(person.text("Hi")))
        repos = stack.repos
        lead_id = repos.identities.lead_id(
            repos.identities.key("demo", Channel.WHATSAPP, person.wa_id)
        )
        assert lead_id is not None
        lead = repos.leads.get("demo", lead_id)
        lead = repos.leads.save(lead, replace(lead, phone="+" + person.wa_id))
        assert lead.last_inbound_at is not None
        assert sweep(stack, lead.last_inbound_at + TWO_HOURS).outcomes[GhostOutcome.SENT] == 1
        reminded = repos.leads.get("demo", lead_id).ghost_reminded_at
        assert reminded is not None
        wa.fake.clear()
        # Three days on, the 24-hour window is long closed: only the approved template may go.
        assert sweep(stack, reminded + timedelta(days=3)).outcomes[GhostOutcome.SENT] == 1
        [message] = wa.sent(lead.external_id)
        assert message["payload"]["type"] == "template"
        assert _whatsapp_fields(message) == ("leadbot_checkin", "en_US")
        stored = repos.leads.get("demo", lead_id)
        assert stored.campaign_steps_sent == 1 and stored.offered_property_ids == ()
        entries = [
            e
            for e in repos.timeline.history("demo", lead_id)
            if e.detail.get("followup") == FollowupStep.CAMPAIGN_1.value and e.text == ""
        ]
        assert [e.detail["template"] for e in entries] == ["leadbot_checkin"]


def test_campaign_outcomes_count_in_the_dashboards_stats(
    stack: InProcessStack, daytime: datetime
) -> None:
    from tests.support import LeadsStream

    lead = checked_in(stack, 7308, daytime)
    assert lead.ghost_reminded_at is not None
    sweep(stack, lead.ghost_reminded_at + timedelta(days=3))
    LeadsStream().score_changes()
    status, figures = api_call("GET", "/api/stats", ADMIN)
    assert status == 200 and figures["followups"] == {"sent": 2}
