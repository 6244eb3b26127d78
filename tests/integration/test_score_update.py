"""score_update called in-process with Lambda-shaped stream records, on moto and DynamoDB Local."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leadbot.admin.__main__ import main as admin
from leadbot.domain import Channel, Temperature
from leadbot.services import scores
from leadbot.services.telegram import telegram_client
from local.gateway import lambda_context
from local.seed import DEMO_ADMIN_CHAT
from tests.support import InProcessStack, LeadsStream, Updates, score_update_handler

JOURNEY = (
    ("text", "/start qr_expo2026"),
    ("press", "goal:buy"),
    ("text", "2.5M AED"),
    ("press", "property_type:apartment"),
    ("text", "Dubai Marina"),
    ("press", "timeline:3m"),
    ("text", "2 bedrooms"),
    ("press", "payment:mortgage"),
)
# Score after each step of JOURNEY, then after the phone (see DESIGN.md §7):
# qr 3 + one point a message + 5/10 an answer + 20 for being active now.
SCORES = (24, 30, 41, 47, 53, 54, 55, 61, 72)


def _run(records: list[dict[str, Any]]) -> dict[str, Any]:
    if not records:  # Lambda never invokes with an empty batch
        return {"batchItemFailures": []}
    response: dict[str, Any] = score_update_handler()(
        {"Records": records}, lambda_context("ScoreUpdateFunction")
    )
    return response


def _lead_id(stack: InProcessStack, chat: int) -> str:
    key = stack.repos.identities.key("demo", Channel.TELEGRAM, str(chat))
    lead_id = stack.repos.identities.lead_id(key)
    assert lead_id is not None
    return lead_id


def _send(stack: InProcessStack, lead: Updates, kind: str, value: str) -> None:
    update = lead.text(value) if kind == "text" else lead.press(value)
    assert stack.post(update)["statusCode"] == 200


def test_each_message_moves_the_score_and_the_score_write_ends_there(
    stack: InProcessStack,
) -> None:
    stream = LeadsStream()
    lead = Updates(710_000_001, first_name="Sara")
    seen = []
    for (kind, value), expected in zip(JOURNEY, SCORES, strict=False):
        _send(stack, lead, kind, value)
        records = stream.changed()
        assert [r["eventName"] for r in records] == ["MODIFY" if seen else "INSERT"]
        assert _run(records) == {"batchItemFailures": []}
        item = stream.item(_lead_id(stack, 710_000_001))
        seen.append(int(item["score"]["N"]))
        assert int(item["score"]["N"]) == expected
        # The score write is itself a change on the stream; it changes no input, so it
        # writes nothing more and the item stays as it is.
        own = stream.changed()
        assert len(own) == 1 and _run(own) == {"batchItemFailures": []}
        assert stream.item(_lead_id(stack, 710_000_001)) == item
        assert stream.changed() == []
    assert seen == list(SCORES[:-1])

    stored = stream.item(_lead_id(stack, 710_000_001))
    assert stored["temperature"]["S"] == "hot" and stored["grade"]["S"] == "B"
    assert stored["score_key"]["S"].startswith("061#")
    breakdown = json.loads(stored["score_breakdown"]["S"])
    assert (breakdown["engagement"], breakdown["qualification"], breakdown["recency"]) == (
        11,
        30,
        20,
    )
    assert {"part": "recency", "rule": "within_1h", "points": 20} in breakdown["rules"]
    last = datetime.fromisoformat(stored["last_inbound_at"]["S"])
    due = datetime.fromisoformat(stored["rescore_due_at"]["S"])
    assert due - last == timedelta(hours=1)
    history = stack.repos.timeline.history("demo", _lead_id(stack, 710_000_001))
    changes = [
        (e.detail["from"], e.detail["to"]) for e in history if e.text == "temperature_changed"
    ]
    assert changes == [("cold", "warm"), ("warm", "hot")]


def test_a_lead_turning_burning_alerts_the_admins_once(stack: InProcessStack) -> None:
    stream = LeadsStream()
    lead = Updates(710_000_002, first_name="Omid")
    for kind, value in JOURNEY:
        _send(stack, lead, kind, value)
        _run(stream.changed())
        _run(stream.changed())
    assert stack.post(lead.contact("+971 50 765 4321"))["statusCode"] == 200
    before = len(stack.sent(DEMO_ADMIN_CHAT))  # the phone's hot lead alert
    _run(stream.changed())
    lead_id = _lead_id(stack, 710_000_002)
    item = stream.item(lead_id)
    assert (item["score"]["N"], item["temperature"]["S"]) == ("72", "burning")
    alerts = stack.sent(DEMO_ADMIN_CHAT)[before:]
    assert len(alerts) == 1
    text = alerts[0]["payload"]["text"]
    for expected in ("72/100", "Omid", "+971507654321", f"/leads/{lead_id}"):
        assert expected in text

    # More messages keep it burning: no second alert.
    for word in ("hello", "any news?"):
        _send(stack, lead, "text", word)
        _run(stream.changed())
        _run(stream.changed())
    assert len(stack.sent(DEMO_ADMIN_CHAT)) == before + 1
    events = [e.text for e in stack.repos.timeline.history("demo", lead_id) if e.kind == "event"]
    assert events.count("burning_alert") == 1
    assert events.count("temperature_changed") == 3  # cold→warm→hot→burning


def test_a_lead_first_scored_burning_is_alerted_but_not_when_a_backfill_finds_it(
    stack: InProcessStack, capsys: pytest.CaptureFixture[str]
) -> None:
    stream = LeadsStream()
    for chat in (710_000_004, 710_000_005):
        lead = Updates(chat, first_name="Quick")
        for kind, value in JOURNEY:
            _send(stack, lead, kind, value)
        stack.post(lead.contact("+971 50 222 3344"))
    alerts = len(stack.sent(DEMO_ADMIN_CHAT))  # the two phones' hot lead alerts

    # The stream: its whole journey arrived in one batch, scored once, straight to burning.
    first, other = _lead_id(stack, 710_000_004), _lead_id(stack, 710_000_005)
    _run([stream.record(None, stream.item(first))])
    assert stream.item(first)["temperature"]["S"] == "burning"
    assert len(stack.sent(DEMO_ADMIN_CHAT)) == alerts + 1
    events = stack.repos.timeline.history("demo", first)
    [change] = [e.detail for e in events if e.text == "temperature_changed"]
    assert (change["from"], change["to"], change["score"]) == ("", "burning", "72")

    # A backfill scoring an existing lead for the first time announces nothing.
    assert admin(["rescore", "--tenant", "demo"]) == 0
    capsys.readouterr()
    assert stream.item(other)["temperature"]["S"] == "burning"
    assert len(stack.sent(DEMO_ADMIN_CHAT)) == alerts + 1
    assert not [
        e
        for e in stack.repos.timeline.history("demo", other)
        if e.text.startswith(("temperature", "burning"))
    ]


def test_burning_again_within_a_day_is_not_alerted_again_but_after_a_day_it_is(
    stack: InProcessStack,
) -> None:
    stream = LeadsStream()
    lead = Updates(710_000_003, first_name="Lena")
    for kind, value in JOURNEY:
        _send(stack, lead, kind, value)
        _run(stream.changed())
    stack.post(lead.contact("+971 50 111 2233"))
    _run(stream.changed())
    repos, lead_id = stack.repos, _lead_id(stack, 710_000_003)
    alerts = len(stack.sent(DEMO_ADMIN_CHAT))
    burning_at = repos.scores.get("demo", lead_id)
    assert burning_at is not None and burning_at.state.temperature is Temperature.BURNING
    alerted_at = burning_at.state.burning_alerted_at
    assert alerted_at is not None

    def rescore_at(at: datetime) -> scores.Rescored:
        seen = repos.scores.get("demo", lead_id)
        assert seen is not None
        return scores.rescore(seen, repos, telegram_client, at, reschedule=True)

    # An hour later recency drops (72 → 67, hot); a new message makes it burning again.
    assert rescore_at(alerted_at + timedelta(hours=1, minutes=1)).temperature is Temperature.HOT
    seen = repos.scores.get("demo", lead_id)
    assert seen is not None
    active = replace(seen, lead=replace(seen.lead, last_inbound_at=alerted_at + timedelta(hours=2)))
    again = scores.rescore(
        active, repos, telegram_client, alerted_at + timedelta(hours=2), reschedule=True
    )
    assert again.temperature is Temperature.BURNING and again.alerts_sent == 0
    assert len(stack.sent(DEMO_ADMIN_CHAT)) == alerts

    later = alerted_at + timedelta(hours=26)
    assert rescore_at(later).temperature is Temperature.HOT  # recency 20 → 10
    seen = repos.scores.get("demo", lead_id)
    assert seen is not None
    active = replace(seen, lead=replace(seen.lead, last_inbound_at=later))
    third = scores.rescore(active, repos, telegram_client, later, reschedule=True)
    assert third.temperature is Temperature.BURNING and third.alerts_sent == 1
    assert len(stack.sent(DEMO_ADMIN_CHAT)) == alerts + 1


def test_a_poison_record_fails_alone(stack: InProcessStack) -> None:
    stream = LeadsStream()
    for chat in (710_000_011, 710_000_012):
        stack.post(Updates(chat).text("/start"))
    good = stream.changed()
    assert len(good) == 2
    poison = stream.record(None, {"tenant_id": {"S": "demo"}, "lead_id": {"S": "01BROKEN"}})
    response = _run([good[0], poison, good[1]])
    assert response == {
        "batchItemFailures": [{"itemIdentifier": poison["dynamodb"]["SequenceNumber"]}]
    }
    for chat in (710_000_011, 710_000_012):
        assert stream.item(_lead_id(stack, chat))["score"]["N"] == "21"  # one message, active now


def test_a_redelivered_or_outdated_record_writes_nothing(stack: InProcessStack) -> None:
    stream = LeadsStream()
    lead = Updates(710_000_021)
    stack.post(lead.text("/start"))
    first = stream.changed()
    stack.post(lead.press("goal:rent"))
    second = stream.changed()
    # The newer change is scored first; the older one (version behind) then writes nothing,
    # and neither does the newer one delivered again.
    assert _run(second) == {"batchItemFailures": []}
    scored = stream.item(_lead_id(stack, 710_000_021))
    assert scored["score"]["N"] == "27"  # 2 messages, rent, active now
    assert _run(first) == {"batchItemFailures": []}
    assert _run(second) == {"batchItemFailures": []}
    assert stream.item(_lead_id(stack, 710_000_021)) == scored


def test_an_outdated_record_that_would_change_the_temperature_writes_nothing(
    stack: InProcessStack,
) -> None:
    stream = LeadsStream()
    lead = Updates(710_000_022)
    stack.post(lead.text("/start"))
    _run(stream.changed())
    _run(stream.changed())
    stack.post(lead.press("goal:rent"))  # cold → warm
    crossing = stream.changed()
    stack.post(lead.text("not a budget"))
    latest = stream.changed()
    assert _run(latest) == {"batchItemFailures": []}
    scored = stream.item(_lead_id(stack, 710_000_022))
    assert (scored["score"]["N"], scored["temperature"]["S"]) == ("28", "warm")
    assert _run(crossing) == {"batchItemFailures": []}  # stale: nothing written, no error
    assert stream.item(_lead_id(stack, 710_000_022)) == scored
    history = stack.repos.timeline.history("demo", _lead_id(stack, 710_000_022))
    assert [e.text for e in history if e.kind == "event"] == ["temperature_changed"]


def test_a_change_behind_a_score_written_in_the_same_batch_is_still_scored(
    stack: InProcessStack,
) -> None:
    stream = LeadsStream()
    lead = Updates(710_000_023)
    stack.post(lead.text("/start"))
    created = stream.changed()
    stack.post(lead.press("goal:invest"))
    answered = stream.changed()
    # Scoring the first record writes a score the second record's image has not seen.
    assert _run(created + answered) == {"batchItemFailures": []}
    assert stream.item(_lead_id(stack, 710_000_023))["score"]["N"] == "27"


def test_no_write_when_the_score_does_not_change(stack: InProcessStack) -> None:
    stream = LeadsStream()
    lead = Updates(710_000_031)
    stack.post(lead.text("/start"))
    _run(stream.changed())
    for n in range(12):  # invalid budget answers: messages count, capped at 10 points
        stack.post(lead.text(f"no idea {n}"))
        _run(stream.changed())
        _run(stream.changed())
    item = stream.item(_lead_id(stack, 710_000_031))
    assert item["score"]["N"] == "30"  # 10 messages + 20 recency
    stack.post(lead.text("still no idea"))
    records = stream.changed()
    assert (
        len(records) == 1 and int(records[0]["dynamodb"]["NewImage"]["messages_count"]["N"]) == 14
    )
    _run(records)
    assert stream.item(_lead_id(stack, 710_000_031))["scored_at"] == item["scored_at"]


def test_the_decay_run_reads_only_the_due_leads_and_drops_their_recency(
    stack: InProcessStack,
) -> None:
    stream = LeadsStream()
    chats = range(710_000_041, 710_000_046)
    for chat in chats:
        stack.post(Updates(chat).text("/start"))
    _run(stream.changed())
    repos = stack.repos
    now = datetime.now(UTC)
    quiet = scores.decay(repos, telegram_client, now)
    assert (quiet.leads, quiet.items_read) == (0, 0)  # nothing is due yet

    # Two leads last wrote two hours ago and were scored then: their drop is an hour overdue.
    two_hours_ago = now - timedelta(hours=2)
    for chat in (710_000_041, 710_000_042):
        lead = repos.leads.get("demo", _lead_id(stack, chat))
        repos.leads.save(lead, replace(lead, last_inbound_at=two_hours_ago))
        seen = repos.scores.get("demo", lead.lead_id)
        assert seen is not None
        then = scores.rescore(seen, repos, telegram_client, two_hours_ago, reschedule=True)
        assert (then.outcome, then.score) == (scores.Outcome.WRITTEN, 21)

    # A run out of time leaves them due for the next one.
    stopped = scores.decay(repos, telegram_client, now, out_of_time=lambda: True)
    assert stopped.leads == 0
    report = scores.decay(repos, telegram_client, now)
    assert (report.leads, report.items_read) == (2, 2)
    assert report.outcomes == {scores.Outcome.WRITTEN: 2}
    for chat in chats:
        item = stream.item(_lead_id(stack, chat))
        older = chat in (710_000_041, 710_000_042)
        assert item["score"]["N"] == ("16" if older else "21")  # recency 20 → 15
        due = datetime.fromisoformat(item["rescore_due_at"]["S"])
        assert due > now
        if older:
            assert due == two_hours_ago + timedelta(hours=6)
    again = scores.decay(repos, telegram_client, now)
    assert (again.leads, again.items_read) == (0, 0)

    # Three days after the last message recency is gone: the lead leaves the index.
    gone = scores.decay(repos, telegram_client, now + timedelta(days=3))
    assert gone.leads == 5 and gone.items_read == 5
    assert all("rescore_due_at" not in stream.item(_lead_id(stack, c)) for c in chats)
    assert all(stream.item(_lead_id(stack, c))["score"]["N"] == "1" for c in chats)


def test_backfill_scores_every_lead_with_progress_and_is_safe_to_run_twice(
    stack: InProcessStack, capsys: pytest.CaptureFixture[str]
) -> None:
    for chat in range(710_000_051, 710_000_054):
        stack.post(Updates(chat).text("/start qr_fair"))
    assert admin(["rescore", "--tenant", "demo"]) == 0
    first = capsys.readouterr()
    assert "demo  [" in first.err and "3/3" in first.err and "100%" in first.err
    assert json.loads(first.out.splitlines()[-1])["outcomes"] == {"written": 3}
    stream = LeadsStream()
    for chat in range(710_000_051, 710_000_054):
        assert stream.item(_lead_id(stack, chat))["score"]["N"] == "24"

    assert admin(["rescore", "--all"]) == 0
    second = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert second["outcomes"] == {"unchanged": 3}

    assert admin(["rescore", "--tenant", "nobody"]) == 2
    assert "no tenant 'nobody'" in capsys.readouterr().err


def test_the_hourly_schedule_runs_the_decay(stack: InProcessStack) -> None:
    scheduled = {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:000000000000:rule/leadbot-HourlyDecay"],
        "detail": {},
    }
    report = score_update_handler()(scheduled, lambda_context("ScoreUpdateFunction"))
    assert report == {"leads": 0, "items_read": 0, "queries": 8, "outcomes": {}, "alerts_sent": 0}
