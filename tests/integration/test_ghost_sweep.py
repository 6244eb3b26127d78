"""The ghost sweep over real tables (moto and DynamoDB Local) with an injected clock: leads
written by the webhooks and the API land in the followups_due index and leave it; each due
lead is claimed, sent one check-in and marked; failures release or mark unreachable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leadbot import clock
from leadbot.domain import Channel, DeliveryStatus, Language, Lead, TimelineKind
from leadbot.i18n import t
from leadbot.services import followups
from leadbot.services.followups import GhostOutcome, SweepReport, unpaced
from local.gateway import lambda_context, load_handler
from local.template import load_template, schedules
from tests.support import (
    ADMIN,
    REPO,
    InProcessStack,
    LeadsStream,
    Updates,
    api_call,
    move_clock_to,
)
from tests.whatsapp_support import WhatsAppLead, WhatsAppStack, use_fake_whatsapp

# The functions' clock at 10:00 in Dubai (the leads' phones): clear of quiet hours.
pytestmark = pytest.mark.usefixtures("daytime")

TWO_HOURS = timedelta(hours=2)
CHECK_IN = t("followup.ghost", Language.EN, name="Sara", agency="Demo Realty")


def sweep(stack: InProcessStack, now: datetime) -> SweepReport:
    return followups.ghost_sweep(stack.repos, now, pacer=unpaced())


def lead_of(stack: InProcessStack, channel: Channel, external_id: str | int) -> Lead:
    repos = stack.repos
    lead_id = repos.identities.lead_id(repos.identities.key("demo", channel, str(external_id)))
    assert lead_id is not None
    return repos.leads.get("demo", lead_id)


def index_of(stack: InProcessStack, lead: Lead) -> tuple[str | None, str | None]:
    item = stack.repos.tables.leads.get("demo", lead.lead_id, consistent_read=True)
    return item.followup_shard, item.followup_due_at


def qualified(stack: InProcessStack, chat: int) -> Lead:
    """A Telegram lead who answered everything and left a phone number, then went quiet."""
    stack.qualify(Updates(chat))
    stack.fake.clear()
    return lead_of(stack, Channel.TELEGRAM, chat)


def followup_entries(stack: InProcessStack, lead: Lead) -> list[Any]:
    """The follow-up messages on the lead's Timeline (each also has an outcome event)."""
    return [
        e
        for e in stack.repos.timeline.history("demo", lead.lead_id)
        if e.detail.get("followup") == "ghost" and e.kind is TimelineKind.OUTBOUND
    ]


def outcome_events(stack: InProcessStack, lead: Lead) -> list[str]:
    return [
        e.detail["status"]
        for e in stack.repos.timeline.history("demo", lead.lead_id)
        if e.kind is TimelineKind.EVENT and e.text.startswith("followup_")
    ]


def test_a_lead_becomes_due_when_it_leaves_a_phone_and_each_message_moves_it(
    stack: InProcessStack,
) -> None:
    chat = 7001
    updates = Updates(chat)
    for update in updates.qualification()[:-1]:
        stack.post(update)
    before_phone = lead_of(stack, Channel.TELEGRAM, chat)
    assert before_phone.phone is None
    assert index_of(stack, before_phone) == (None, None)  # no phone: never due

    stack.post(updates.qualification()[-1])
    lead = lead_of(stack, Channel.TELEGRAM, chat)
    assert lead.phone and lead.last_inbound_at
    shard, due_at = index_of(stack, lead)
    assert shard is not None
    assert due_at == (lead.last_inbound_at + TWO_HOURS).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    stack.post(updates.text("Is there parking?"))
    later = lead_of(stack, Channel.TELEGRAM, chat)
    assert later.last_inbound_at and later.last_inbound_at > lead.last_inbound_at
    assert index_of(stack, later) == (
        shard,
        (later.last_inbound_at + TWO_HOURS).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    )


def test_due_at_two_hours_sent_once_marked_and_recorded(stack: InProcessStack) -> None:
    lead = qualified(stack, 7002)
    assert lead.last_inbound_at is not None
    due = lead.last_inbound_at + TWO_HOURS

    early = sweep(stack, due - timedelta(seconds=1))
    assert early.due == 0 and early.items_read == 0 and not stack.sent(7002)

    report = sweep(stack, due)
    assert (report.due, report.items_read, report.outcomes[GhostOutcome.SENT]) == (1, 1, 1)
    assert [m["payload"]["text"] for m in stack.sent(7002)] == [CHECK_IN]
    stored = stack.repos.leads.get("demo", lead.lead_id)
    assert stored.ghost_reminded_at == due and stored.ghost_claimed_at == due
    # Back in the index for the campaign's first step, on its day after the check-in.
    day_3 = (due + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert index_of(stack, stored)[1] == f"{day_3}#campaign_1"
    [entry] = followup_entries(stack, lead)
    assert entry.kind is TimelineKind.OUTBOUND and entry.status is DeliveryStatus.SENT
    assert entry.text == CHECK_IN and entry.channel is Channel.TELEGRAM and entry.message_id
    assert outcome_events(stack, lead) == ["sent"]
    LeadsStream().score_changes()  # the board and its stats cover scored leads
    status, figures = api_call("GET", "/api/stats", ADMIN)
    assert status == 200 and figures["followups"] == {"sent": 1}

    # Never again, however long the lead stays quiet or however often it writes and goes quiet
    # (what waits now is the campaign's first step, on its day).
    assert sweep(stack, due + timedelta(days=3) - timedelta(seconds=1)).due == 0
    move_clock_to(due + timedelta(hours=1))
    stack.post(Updates(7002).text("Thanks, still thinking"))
    assert index_of(stack, lead_of(stack, Channel.TELEGRAM, 7002)) == (None, None)
    assert sweep(stack, due + timedelta(days=6)).due == 0
    assert len(stack.sent(7002)) == 2  # the check-in, then the reply to that message


def test_opting_out_and_a_scheduled_viewing_take_a_lead_out_of_the_index(
    stack: InProcessStack,
) -> None:
    stopped = qualified(stack, 7003)
    stack.post(Updates(7003).text("/stop"))
    assert index_of(stack, stopped) == (None, None)

    viewing = qualified(stack, 7004)
    assert index_of(stack, viewing)[1] is not None
    status, _ = api_call(
        "PATCH", f"/api/leads/{viewing.lead_id}", ADMIN, {"status": "viewing_scheduled"}
    )
    assert status == 200
    assert index_of(stack, viewing) == (None, None)

    stack.fake.clear()
    assert sweep(stack, datetime.now(tz=UTC) + timedelta(days=1)).due == 0
    assert not stack.sent()


def test_a_lead_that_blocked_the_bot_is_marked_unreachable(stack: InProcessStack) -> None:
    lead = qualified(stack, 7005)
    assert lead.last_inbound_at is not None
    stack.fake.fail_next("7005", 403, "Forbidden: bot was blocked by the user")
    report = sweep(stack, lead.last_inbound_at + TWO_HOURS)
    assert report.outcomes[GhostOutcome.BLOCKED] == 1
    stored = stack.repos.leads.get("demo", lead.lead_id)
    assert stored.unreachable and stored.ghost_reminded_at is None
    assert index_of(stack, stored) == (None, None)
    history = stack.repos.timeline.history("demo", lead.lead_id)
    assert [e.status for e in followup_entries(stack, lead)] == [DeliveryStatus.BLOCKED]
    assert outcome_events(stack, lead) == ["blocked"]
    assert "unreachable" in [e.text for e in history]
    assert sweep(stack, lead.last_inbound_at + timedelta(days=1)).due == 0

    # Unblocking (any message) makes it reachable and due again, from that message.
    stack.post(Updates(7005).text("Sorry, I'm back"))
    back = stack.repos.leads.get("demo", lead.lead_id)
    assert not back.unreachable and back.last_inbound_at is not None
    assert sweep(stack, back.last_inbound_at + TWO_HOURS).outcomes[GhostOutcome.SENT] == 1


@pytest.mark.parametrize(
    ("code", "description", "retry_after"),
    [(429, "Too Many Requests: retry after 60", 60), (502, "Bad Gateway", None)],
)
def test_a_retryable_failure_releases_the_claim_for_the_next_sweep(
    stack: InProcessStack, code: int, description: str, retry_after: int | None
) -> None:
    lead = qualified(stack, 7006)
    assert lead.last_inbound_at is not None
    due = lead.last_inbound_at + TWO_HOURS
    stack.fake.fail_next("7006", code, description, retry_after=retry_after)
    first = sweep(stack, due)
    assert (first.outcomes[GhostOutcome.FAILED], first.released) == (1, 1)
    stored = stack.repos.leads.get("demo", lead.lead_id)
    assert stored.ghost_claimed_at is None and stored.ghost_reminded_at is None
    assert index_of(stack, stored)[1] is not None  # back in the index, still due

    second = sweep(stack, due + timedelta(minutes=30))
    assert second.outcomes[GhostOutcome.SENT] == 1
    statuses = [e.status for e in followup_entries(stack, lead)]
    assert statuses[-1] is DeliveryStatus.SENT and len(statuses) == 2
    texts = [m["payload"]["text"] for m in stack.sent(7006) if m.get("status") == 200]
    assert texts == [CHECK_IN]


def test_a_permanent_failure_is_recorded_and_never_retried(stack: InProcessStack) -> None:
    lead = qualified(stack, 7007)
    assert lead.last_inbound_at is not None
    stack.fake.fail_next("7007", 400, "Bad Request: chat not found")
    report = sweep(stack, lead.last_inbound_at + TWO_HOURS)
    assert (report.outcomes[GhostOutcome.FAILED], report.released) == (1, 0)
    [entry] = followup_entries(stack, lead)
    assert entry.status is DeliveryStatus.FAILED and entry.detail["retry"] == "no"
    assert sweep(stack, lead.last_inbound_at + timedelta(days=1)).due == 0


def test_a_longer_delay_set_meanwhile_defers_the_lead(stack: InProcessStack) -> None:
    lead = qualified(stack, 7008)
    assert lead.last_inbound_at is not None
    status, _ = api_call("PATCH", "/api/settings", ADMIN, {"ghost_after_minutes": 240})
    assert status == 200
    report = sweep(stack, lead.last_inbound_at + TWO_HOURS)
    assert (report.outcomes[GhostOutcome.SKIPPED], report.released) == (1, 1)
    assert not stack.sent(7008)
    assert index_of(stack, lead)[1] == (lead.last_inbound_at + timedelta(hours=4)).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ"
    )
    assert sweep(stack, lead.last_inbound_at + timedelta(hours=4)).outcomes[GhostOutcome.SENT] == 1


# -- WhatsApp: the channel decides what may go out -------------------------------------------


@pytest.fixture
def wa(stack: InProcessStack) -> Iterator[WhatsAppStack]:
    yield from use_fake_whatsapp(stack)


def _whatsapp_lead_with_phone(wa: WhatsAppStack) -> Lead:
    person = WhatsAppLead()
    wa.post(person.body(person.text("Hi")))
    lead = lead_of(wa.stack, Channel.WHATSAPP, person.wa_id)
    # The phone as the contact stage stores it once the lead consents to a call.
    saved = wa.stack.repos.leads.save(lead, replace(lead, phone="+" + person.wa_id))
    wa.fake.clear()
    return saved


def test_whatsapp_within_the_window_gets_the_text(wa: WhatsAppStack) -> None:
    lead = _whatsapp_lead_with_phone(wa)
    assert lead.last_inbound_at is not None
    report = sweep(wa.stack, lead.last_inbound_at + TWO_HOURS)
    assert report.outcomes[GhostOutcome.SENT] == 1
    [message] = wa.sent(lead.external_id)
    assert message["payload"]["type"] == "text"
    assert message["payload"]["text"]["body"] == t(
        "followup.ghost", Language.EN, name="Sara Ahmadi", agency="Demo Realty"
    )


def test_whatsapp_outside_24_hours_uses_the_approved_template(wa: WhatsAppStack) -> None:
    lead = _whatsapp_lead_with_phone(wa)
    assert lead.last_inbound_at is not None
    # The sweep was not running for more than a day: the window has closed.
    report = sweep(wa.stack, lead.last_inbound_at + timedelta(hours=30))
    assert report.outcomes[GhostOutcome.SENT] == 1
    [message] = wa.sent(lead.external_id)
    template = message["payload"]["template"]
    assert (template["name"], template["language"]["code"]) == ("leadbot_checkin", "en_US")
    [entry] = followup_entries(wa.stack, lead)
    assert entry.detail["template"] == "leadbot_checkin" and entry.status is DeliveryStatus.SENT
    assert wa.stack.repos.leads.get("demo", lead.lead_id).ghost_reminded_at is not None


def test_whatsapp_outside_24_hours_without_a_template_is_skipped_once(
    wa: WhatsAppStack,
) -> None:
    lead = _whatsapp_lead_with_phone(wa)
    assert lead.last_inbound_at is not None
    tenant = wa.stack.repos.tenants.get("demo")
    wa.stack.repos.tenants.put(replace(tenant, whatsapp_templates=()))
    report = sweep(wa.stack, lead.last_inbound_at + timedelta(hours=30))
    assert report.outcomes[GhostOutcome.SKIPPED] == 1 and not wa.sent()
    history = wa.stack.repos.timeline.history("demo", lead.lead_id)
    skipped = [e for e in history if e.text == "followup_skipped"]
    assert [(e.detail["reason"], e.detail["status"]) for e in skipped] == [
        ("OutsideWindow", "skipped")
    ]
    assert sweep(wa.stack, lead.last_inbound_at + timedelta(hours=34)).due == 0


# -- the function: metrics ---------------------------------------------------------------------


def test_the_scheduled_function_reports_each_outcome_as_a_metric(
    stack: InProcessStack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = qualified(stack, 7010)
    blocked = qualified(stack, 7011)
    assert sent.last_inbound_at is not None and blocked.last_inbound_at is not None
    stack.fake.fail_next("7011", 403, "Forbidden: bot was blocked by the user")
    later = max(sent.last_inbound_at, blocked.last_inbound_at) + TWO_HOURS
    monkeypatch.setattr(followups.clock, "now", lambda: later)
    [schedule] = [
        s
        for s in schedules(load_template())
        if (s.function_id, s.event_name) == ("GhostSweepFunction", "Sweep")
    ]
    assert schedule.expression == "rate(30 minutes)"
    capsys.readouterr()
    result = load_handler(REPO, schedule)({"source": "aws.events"}, lambda_context("GhostSweep"))
    assert (result["sent"], result["blocked"], result["due"]) == (1, 1, 2)
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    [metrics] = [m for m in emf if "GhostFollowupsSent" in m]
    assert metrics["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "LeadBot"
    # EMF lists a metric's values (Powertools writes even a single one as a list).
    values = {
        name: metrics[f"GhostFollowups{name}"] for name in ("Sent", "Blocked", "Failed", "Skipped")
    }
    assert values == {"Sent": [1.0], "Blocked": [1.0], "Failed": [0.0], "Skipped": [0.0]}


# -- two sweeps at once (DynamoDB Local: moto does not make conditional writes atomic) ------


@pytest.mark.ddblocal
def test_two_overlapping_sweeps_send_each_of_1000_due_leads_exactly_once(
    ddblocal_stack: InProcessStack,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from ulid import ULID

    from leadbot.domain import LeadStatus, Stage

    repos = ddblocal_stack.repos
    quiet_since = clock.now() - timedelta(hours=3)

    def create(n: int) -> None:
        repos.leads.create(
            Lead(
                tenant_id="demo",
                lead_id=str(ULID()),
                channel=Channel.TELEGRAM,
                external_id=str(800_000 + n),
                name=f"Lead {n}",
                language=Language.EN,
                stage=Stage.ENGAGEMENT,
                status=LeadStatus.QUALIFIED,
                phone=f"+9715{n:08d}",
                created_at=quiet_since,
                updated_at=quiet_since,
                last_inbound_at=quiet_since,
            )
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, range(1000)))

    now = clock.now()
    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda _: sweep(ddblocal_stack, now), range(2)))

    sent = [m for m in ddblocal_stack.fake.outbox() if m["method"] == "sendMessage"]
    per_chat: dict[str, int] = {}
    for message in sent:
        per_chat[message["chat_id"]] = per_chat.get(message["chat_id"], 0) + 1
    assert len(per_chat) == 1000 and set(per_chat.values()) == {1}
    assert sum(r.outcomes[GhostOutcome.SENT] for r in reports) == 1000
    # Each lead was seen by both sweeps at most; the one that lost the claim sent nothing.
    assert sum(r.lost for r in reports) == sum(r.due for r in reports) - 1000
    assert sweep(ddblocal_stack, now + timedelta(days=1)).due == 0


def test_leads_stored_before_the_index_are_placed_in_it_by_reindex_followups(
    stack: InProcessStack, daytime: datetime, capsys: pytest.CaptureFixture[str]
) -> None:
    from leadbot.admin.__main__ import main as admin

    quiet = [qualified(stack, chat) for chat in (7201, 7202)]
    stale = qualified(stack, 7203)
    model = stack.repos.tables.leads
    # As stored before the index existed: no index attributes, whatever the lead waits for;
    # and one indexed under settings since changed (a time its tenant no longer says).
    for lead in quiet:
        model._get_connection().update_item(
            "demo",
            lead.lead_id,
            actions=[model.followup_shard.remove(), model.followup_due_at.remove()],
        )
    model._get_connection().update_item(
        "demo", stale.lead_id, actions=[model.followup_due_at.set("2099-01-01T00:00:00.000000Z")]
    )
    later = daytime + TWO_HOURS + timedelta(minutes=1)
    assert sweep(stack, later).due == 0  # all three are due, and the sweep cannot see them
    assert stack.sent() == []

    assert admin(["reindex-followups", "--tenant", "demo"]) == 0
    first = capsys.readouterr()
    assert "demo  [" in first.err and "100%" in first.err
    report = json.loads(first.out.splitlines()[-1])
    assert (report["indexed"], report["moved"], report["removed"]) == (2, 1, 0)
    assert report["leads"] == 3 + report["unchanged"]
    assert report["queries"] == 1

    done = sweep(stack, later)
    assert done.outcomes[GhostOutcome.SENT] == 3
    assert {str(m["payload"]["chat_id"]) for m in stack.sent()} == {"7201", "7202", "7203"}
    assert admin(["reindex-followups", "--all"]) == 0
    again = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert again["leads"] == again["unchanged"]
    assert admin(["reindex-followups", "--tenant", "nobody"]) == 2
    assert "no tenant 'nobody'" in capsys.readouterr().err
