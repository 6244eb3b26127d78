"""New-listing matches over real tables: a listing added reaches, through the Properties
stream and the function, the leads it matches and may write to, once each, at most 500 of
them, paced at Telegram's 25 a second (measured on an injected clock, never by waiting)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from ulid import ULID

from leadbot import clock
from leadbot.domain import (
    Bedrooms,
    Channel,
    Goal,
    Language,
    Lead,
    LeadStatus,
    Money,
    PropertyType,
    Stage,
    TimelineKind,
)
from leadbot.domain.listings import Property, Transaction
from leadbot.i18n import t
from leadbot.services import matches
from leadbot.services.followups import GhostOutcome, Pacer, deliver
from leadbot.services.matches import MATCH_CAP, announce_listing
from local.gateway import lambda_context, load_handler
from local.template import load_template, stream_sources
from tests.support import ADMIN, REPO, InProcessStack, api_call, move_clock_to, text_of

pytestmark = pytest.mark.usefixtures("daytime")

MATCH_WORDS = t("followup.match", Language.EN)


def a_lead(n: int, **changes: Any) -> Lead:
    """A lead that asked for a 2-bedroom apartment to buy in Dubai Marina, up to 2.5M AED."""
    now = clock.now()
    lead = Lead(
        tenant_id="demo",
        lead_id=str(ULID()),
        channel=Channel.TELEGRAM,
        external_id=str(610_000 + n),
        name="Sara",
        language=Language.EN,
        stage=Stage.ENGAGEMENT,
        status=LeadStatus.QUALIFIED,
        goal=Goal.BUY,
        budget=Money(amount=Decimal("2500000"), currency="AED"),
        property_type=PropertyType.APARTMENT,
        location="  dubai   MARINA ",
        bedrooms=Bedrooms.TWO,
        phone=f"+9715{n:08d}",
        created_at=now - timedelta(days=2),
        updated_at=now - timedelta(days=1),
        last_inbound_at=now - timedelta(days=1, minutes=n),
    )
    return replace(lead, **changes)


def new_listing(stack: InProcessStack, **changes: Any) -> Property:
    now = clock.now()
    listing = Property(
        tenant_id="demo",
        property_id=str(ULID.from_datetime(now)),
        title="Marina Vista, 2 bedrooms",
        location="Dubai Marina",
        property_type=PropertyType.APARTMENT,
        transaction=Transaction.SALE,
        bedrooms=Bedrooms.TWO,
        price=Money(amount=Decimal("2300000.00"), currency="AED"),
        units_available=6,
        created_at=now,
        updated_at=now,
    )
    return stack.repos.properties.create(replace(listing, **changes))


def stream_record(listing: Property, name: str = "INSERT") -> dict[str, Any]:
    """The Properties stream's record (KEYS_ONLY) as Lambda delivers it."""
    keys = {"tenant_id": {"S": listing.tenant_id}, "property_id": {"S": listing.property_id}}
    return {
        "eventID": str(ULID()),
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "Keys": keys,
            "SequenceNumber": "100",
            "SizeBytes": 60,
            "StreamViewType": "KEYS_ONLY",
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/Properties/stream/1",
    }


def run_function(*records: dict[str, Any]) -> dict[str, Any]:
    [source] = [s for s in stream_sources(load_template()) if s.event_name == "NewListings"]
    assert (source.function_id, source.table_id) == ("GhostSweepFunction", "PropertiesTable")
    result: dict[str, Any] = load_handler(REPO, source)(
        {"Records": list(records)}, lambda_context("GhostSweepFunction")
    )
    return result


def told(stack: InProcessStack) -> dict[str, list[str]]:
    per_chat: dict[str, list[str]] = {}
    for message in stack.sent():
        per_chat.setdefault(str(message["payload"]["chat_id"]), []).append(text_of(message))
    return per_chat


def test_only_the_leads_it_matches_and_may_write_to_hear_of_it_once(
    stack: InProcessStack,
) -> None:
    create = stack.repos.leads.create
    match = create(a_lead(1))
    no_answers_beyond_goal = create(a_lead(2, budget=None))
    others = {
        "over budget": create(a_lead(3, budget=Money(amount=Decimal("2000000"), currency="AED"))),
        "a villa": create(a_lead(4, property_type=PropertyType.VILLA)),
        "elsewhere": create(a_lead(5, location="Palm Jumeirah")),
        "3 bedrooms": create(a_lead(6, bedrooms=Bedrooms.THREE)),
        "renting": create(a_lead(7, goal=Goal.RENT)),
        "dollars": create(a_lead(8, budget=Money(amount=Decimal("900000"), currency="USD"))),
        "opted out": create(a_lead(9, opted_out=True)),
        "unreachable": create(a_lead(10, unreachable=True)),
        "agent took over": create(a_lead(11, bot_paused=True)),
        "no chat": create(a_lead(12, channel=Channel.MANUAL)),
        "won": create(a_lead(13, status=LeadStatus.WON)),
    }
    also = create(a_lead(14, location=None, bedrooms=None))  # said less: still a match
    stack.fake.clear()

    # Adding it by the API sends nothing in the request: the stream brings it to the function.
    status, body = api_call(
        "POST",
        "/api/properties",
        ADMIN,
        body={
            "title": "Marina Vista, 2 bedrooms",
            "location": "Dubai Marina",
            "property_type": "apartment",
            "transaction": "sale",
            "bedrooms": "2",
            "price": {"amount": "2300000"},
            "units_available": 6,
        },
    )
    assert status == 201 and not stack.sent()
    listing = stack.repos.properties.get("demo", body["property_id"])

    result = run_function(stream_record(listing))
    assert result == {"batchItemFailures": []}
    messages = told(stack)
    assert set(messages) == {match.external_id, also.external_id}
    [text] = messages[match.external_id]
    greeting = t("followup.greeting", Language.EN, name="Sara", agency="Demo Realty")
    assert text.startswith(f"{greeting} {MATCH_WORDS}\n\n🏠 Marina Vista, 2 bedrooms")
    assert no_answers_beyond_goal.external_id not in messages
    for why, lead in others.items():
        assert lead.external_id not in messages, why

    stored = stack.repos.leads.get("demo", match.lead_id)
    assert stored.matched_property_ids == (listing.property_id,)
    assert listing.property_id in stored.offered_property_ids  # "Show more" goes past it
    [entry] = [
        e
        for e in stack.repos.timeline.history("demo", match.lead_id)
        if e.kind is TimelineKind.OUTBOUND
    ]
    assert entry.detail == {"followup": "match", "property_id": listing.property_id}

    # The stream delivers the record again (a retry, a replay): nobody hears twice.
    stack.fake.clear()
    assert run_function(stream_record(listing)) == {"batchItemFailures": []}
    assert not stack.sent()
    # A change to the listing is no new listing.
    assert run_function(stream_record(listing, "MODIFY")) == {"batchItemFailures": []}
    assert not stack.sent()


def test_at_most_the_cap_per_listing_the_most_recently_active_first(
    stack: InProcessStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert MATCH_CAP == 500
    cap = 20  # the same rule at 500 only takes moto longer
    monkeypatch.setattr(matches, "MATCH_CAP", cap)
    leads = [stack.repos.leads.create(a_lead(n)) for n in range(cap + 12)]
    listing = new_listing(stack)
    stack.fake.clear()
    report = announce_listing(
        stack.repos, "demo", listing.property_id, clock.now(), pacer=Pacer(per_second={})
    )
    assert (report.matching, report.capped, report.outcomes[GhostOutcome.SENT]) == (
        cap + 12,
        12,
        cap,
    )
    # Every lead of the agency was read once, from its partition (the seeded ones too).
    assert report.items_read >= cap + 12
    chats = set(told(stack))
    # a_lead(n) was last active n minutes before a_lead(0): the 12 quietest wait.
    assert chats == {lead.external_id for lead in leads[:cap]}
    again = announce_listing(
        stack.repos, "demo", listing.property_id, clock.now(), pacer=Pacer(per_second={})
    )
    assert (again.told_before, again.outcomes[GhostOutcome.SENT]) == (cap, 0)


def test_sends_are_paced_at_25_a_second_on_an_injected_clock(stack: InProcessStack) -> None:
    for n in range(60):
        stack.repos.leads.create(a_lead(n))
    listing = new_listing(stack)
    fake_time = [1000.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        fake_time[0] += seconds

    sent_at: list[float] = []

    def timed(*args: Any) -> Any:
        sent_at.append(fake_time[0])
        return deliver(*args)

    pacer = Pacer(per_second={Channel.TELEGRAM: 25.0}, monotonic=lambda: fake_time[0], sleep=sleep)
    report = announce_listing(
        stack.repos, "demo", listing.property_id, clock.now(), send=timed, pacer=pacer
    )
    assert report.outcomes[GhostOutcome.SENT] == 60 == len(sent_at)
    # No 26 sends within any second, and 60 sends span 59 intervals of 1/25 s.
    windows = [later - first for first, later in zip(sent_at, sent_at[25:], strict=False)]
    assert min(windows) == pytest.approx(1.0)
    assert sent_at[-1] - sent_at[0] == pytest.approx(59 / 25)
    assert slept and all(s > 0 for s in slept)


def test_a_send_that_may_pass_later_is_retried_by_the_stream_others_not_again(
    stack: InProcessStack,
) -> None:
    first = stack.repos.leads.create(a_lead(1))
    second = stack.repos.leads.create(a_lead(2))
    listing = new_listing(stack)
    stack.fake.clear()
    stack.fake.fail_next(first.external_id, 429, "Too Many Requests: retry after 60", 60)
    record = stream_record(listing)
    result = run_function(record)
    assert result == {"batchItemFailures": [{"itemIdentifier": "100"}]}
    assert stack.repos.leads.get("demo", first.lead_id).matched_property_ids == ()
    assert run_function(record) == {"batchItemFailures": []}
    delivered = [
        m for m in stack.fake.outbox() if m["method"] == "sendMessage" and m.get("status") == 200
    ]
    per_chat = [str(m["payload"]["chat_id"]) for m in delivered]
    assert sorted(per_chat) == sorted([first.external_id, second.external_id])


def test_a_lead_that_blocked_the_bot_is_marked_unreachable(stack: InProcessStack) -> None:
    lead = stack.repos.leads.create(a_lead(1))
    listing = new_listing(stack)
    stack.fake.fail_next(lead.external_id, 403, "Forbidden: bot was blocked by the user")
    report = announce_listing(
        stack.repos, "demo", listing.property_id, clock.now(), pacer=Pacer(per_second={})
    )
    assert report.outcomes[GhostOutcome.BLOCKED] == 1
    assert stack.repos.leads.get("demo", lead.lead_id).unreachable


def test_whatsapp_outside_its_window_gets_the_approved_template(
    stack: InProcessStack, daytime: datetime
) -> None:
    from tests.whatsapp_support import use_fake_whatsapp

    for wa in use_fake_whatsapp(stack):
        lead = stack.repos.leads.create(
            a_lead(1, channel=Channel.WHATSAPP, external_id="971501110001")
        )
        assert lead.last_inbound_at is not None and lead.last_inbound_at < daytime
        listing = new_listing(stack)
        report = announce_listing(
            stack.repos, "demo", listing.property_id, clock.now(), pacer=Pacer(per_second={})
        )
        assert report.outcomes[GhostOutcome.SENT] == 1
        [message] = wa.sent(lead.external_id)
        assert message["payload"]["type"] == "template"
        assert message["payload"]["template"]["name"] == "leadbot_checkin"
        stored = stack.repos.leads.get("demo", lead.lead_id)
        # Told (never again), but the card itself was not shown.
        assert stored.matched_property_ids == (listing.property_id,)
        assert listing.property_id not in stored.offered_property_ids


def sweep(stack: InProcessStack, fail: tuple[Any, ...] | None = None) -> dict[str, Any]:
    """The scheduled sweep at the functions' clock, as EventBridge runs it."""
    if fail is not None:
        stack.fake.fail_next(*fail)
    result: dict[str, Any] = load_handler(REPO, _schedule())(
        {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}},
        lambda_context("GhostSweepFunction"),
    )
    return result


def _schedule() -> Any:
    from local.template import schedules

    [schedule] = [
        s
        for s in schedules(load_template())
        if (s.function_id, s.event_name) == ("GhostSweepFunction", "Sweep")
    ]
    return schedule


def night_lead(stack: InProcessStack, n: int, **changes: Any) -> Lead:
    """A Dubai lead reminded yesterday: nothing else is pending for it tonight."""
    return stack.repos.leads.create(
        a_lead(n, ghost_reminded_at=clock.now() - timedelta(days=1), **changes)
    )


def test_a_listing_added_in_a_leads_night_is_told_when_its_morning_comes(
    stack: InProcessStack, daytime: datetime
) -> None:
    night = daytime.replace(hour=18, minute=30)  # 22:30 in Dubai, 18:30 in London
    move_clock_to(night)
    dubai = night_lead(stack, 1)
    london = night_lead(stack, 2, phone="+447911123456")
    listing = new_listing(stack)
    stack.fake.clear()

    assert run_function(stream_record(listing)) == {"batchItemFailures": []}
    assert set(told(stack)) == {london.external_id}  # still evening in London
    held = stack.repos.leads.get("demo", dubai.lead_id)
    morning = (daytime + timedelta(days=1)).replace(hour=5, minute=0)  # 09:00 in Dubai
    assert held.matched_property_ids == (listing.property_id,)  # a replay tells it no sooner
    assert (held.held_property_ids, held.held_until) == ((listing.property_id,), morning)
    [event] = [e for e in stack.repos.timeline.history("demo", dubai.lead_id) if e.detail]
    assert (event.text, event.detail["reason"]) == ("followup_skipped", "quiet_hours")
    assert event.detail["until"] == morning.isoformat()
    assert run_function(stream_record(listing)) == {"batchItemFailures": []}
    assert set(told(stack)) == {london.external_id}

    # The night's sweeps leave it be: it is not due before 09:00.
    move_clock_to(night + timedelta(hours=5))
    assert sweep(stack)["due"] == 0
    move_clock_to(morning + timedelta(minutes=10))
    stack.fake.clear()
    report = sweep(stack)
    assert (report["due"], report["sent"]) == (1, 1)
    [text] = told(stack)[dubai.external_id]
    assert MATCH_WORDS in text and "Marina Vista, 2 bedrooms" in text
    after = stack.repos.leads.get("demo", dubai.lead_id)
    assert (after.held_property_ids, after.held_until, after.held_claimed_at) == ((), None, None)
    assert listing.property_id in after.offered_property_ids
    stack.fake.clear()
    assert sweep(stack)["due"] == 0 and not stack.sent()


@pytest.mark.parametrize("overnight", ["sold out", "withdrawn", "opted out", "agent took over"])
def test_a_held_listing_is_not_told_when_the_night_changed_things(
    stack: InProcessStack, daytime: datetime, overnight: str
) -> None:
    from leadbot.domain.listings import ListingStatus

    night = daytime.replace(hour=18, minute=30)
    move_clock_to(night)
    lead = night_lead(stack, 1)
    listing = new_listing(stack)
    assert run_function(stream_record(listing)) == {"batchItemFailures": []}
    held = stack.repos.leads.get("demo", lead.lead_id)
    assert held.held_property_ids == (listing.property_id,)
    if overnight in ("sold out", "withdrawn"):
        change = {"units_available": 0} if overnight == "sold out" else {}
        if overnight == "withdrawn":
            change = {"status": ListingStatus.ARCHIVED}
        stack.repos.properties.save(replace(listing, **change))
    else:
        flag = "opted_out" if overnight == "opted out" else "bot_paused"
        stack.repos.leads.save(held, replace(held, **{flag: True}))

    move_clock_to((daytime + timedelta(days=1)).replace(hour=5, minute=10))
    stack.fake.clear()
    report = sweep(stack)
    assert report["sent"] == 0 and not stack.sent()
    after = stack.repos.leads.get("demo", lead.lead_id)
    if overnight in ("sold out", "withdrawn"):
        # Looked at and let go: nothing is left to tell.
        assert (report["due"], report["skipped"]) == (1, 1)
        assert after.held_property_ids == ()
    else:
        # Not due at all while the bot may not write (the hold waits, as follow-ups do).
        assert report["due"] == 0


def test_a_held_listing_whose_send_may_pass_later_goes_with_the_next_sweep(
    stack: InProcessStack, daytime: datetime
) -> None:
    night = daytime.replace(hour=18, minute=30)
    move_clock_to(night)
    lead = night_lead(stack, 1)
    first, second = new_listing(stack), new_listing(stack, title="Marina Gate, 2 bedrooms")
    for listing in (first, second):
        assert run_function(stream_record(listing)) == {"batchItemFailures": []}
    held = stack.repos.leads.get("demo", lead.lead_id)
    assert held.held_property_ids == (first.property_id, second.property_id)

    move_clock_to((daytime + timedelta(days=1)).replace(hour=5, minute=10))
    stack.fake.clear()
    report = sweep(stack, fail=(lead.external_id, 429, "Too Many Requests: retry after 60", 60))
    assert (report["failed"], report["released"], report["sent"]) == (1, 1, 0)
    assert stack.repos.leads.get("demo", lead.lead_id).held_property_ids == (
        first.property_id,
        second.property_id,
    )
    stack.fake.clear()
    assert sweep(stack)["sent"] == 1
    texts = told(stack)[lead.external_id]
    assert ["Marina Vista" in texts[0], "Marina Gate" in texts[1]] == [True, True]
    assert stack.repos.leads.get("demo", lead.lead_id).held_property_ids == ()


def test_a_lead_that_blocked_the_bot_overnight_drops_its_held_listings(
    stack: InProcessStack, daytime: datetime
) -> None:
    move_clock_to(daytime.replace(hour=18, minute=30))
    lead = night_lead(stack, 1)
    for listing in (new_listing(stack), new_listing(stack, title="Marina Gate")):
        assert run_function(stream_record(listing)) == {"batchItemFailures": []}
    move_clock_to((daytime + timedelta(days=1)).replace(hour=5, minute=10))
    stack.fake.clear()
    report = sweep(stack, fail=(lead.external_id, 403, "Forbidden: bot was blocked by the user"))
    assert report["blocked"] == 1
    after = stack.repos.leads.get("demo", lead.lead_id)
    assert after.unreachable and after.held_property_ids == ()
    assert len(stack.fake.outbox()) == 1  # the second listing was not tried
