"""The Airtable adapter through the real pyairtable client, over HTTP to the fake Airtable in the
local gateway: the schema created once, leads upserted by Lead ID in calls of 10 (replays add
nothing), the rate limit kept, 429s retried, an outage and refusals as typed errors.

The pacer, the backoff and the fake's rate limit share one virtual clock: nothing really sleeps,
and the fake still sees every request at the time the client would have sent it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from leadbot.domain import Channel, Lead, LeadStatus, Money, ScoreState, Temperature
from leadbot.integrations.airtable import (
    ACTIVITY,
    ACTIVITY_TABLE,
    LEAD_ID,
    LEADS,
    LEADS_TABLE,
    SCHEMA,
    AirtableCrm,
    Pacer,
    RetryPolicy,
    activity_fields,
    lead_fields,
)
from leadbot.integrations.crm import (
    CrmRejected,
    CrmUnauthorized,
    CrmUnavailable,
    FieldSpec,
    TableSpec,
)
from local.fake_airtable import FakeAirtable, airtable_endpoint
from local.fake_telegram import FakeTelegram
from local.gateway import LocalGateway

BASE = "appAbCdEf0123456X"
TOKEN = "patTestToken.0001"
AT = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


class VirtualClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def fake(clock: VirtualClock) -> FakeAirtable:
    fake = FakeAirtable(clock=clock)
    fake.add_base(BASE, TOKEN)
    return fake


@pytest.fixture
def endpoint_url(fake: FakeAirtable, tmp_path: Path) -> Iterator[str]:
    with LocalGateway(
        [], tmp_path, FakeTelegram(), endpoints={"airtable": airtable_endpoint(fake)}
    ) as gateway:
        yield f"{gateway.url}/_local/airtable"


def _crm(endpoint_url: str, clock: VirtualClock, token: str = TOKEN) -> AirtableCrm:
    return AirtableCrm(
        BASE,
        lambda: token,
        endpoint_url=endpoint_url,
        retry=RetryPolicy(retries=3, base_s=1.0, max_s=8.0),
        pacer=Pacer(clock=clock, sleep=clock.sleep),
        sleep=clock.sleep,
    )


@pytest.fixture
def crm(endpoint_url: str, clock: VirtualClock, fake: FakeAirtable) -> AirtableCrm:
    crm = _crm(endpoint_url, clock)
    crm.ensure_schema(SCHEMA)
    clock.now += 1.0
    fake.clear()
    clock.slept.clear()
    return crm


def _lead(n: int, **changes: Any) -> Lead:
    values: dict[str, Any] = {
        "tenant_id": "demo",
        "lead_id": f"01KJ00000000000000000000{n:02d}",
        "channel": Channel.TELEGRAM,
        "external_id": str(9000 + n),
        "name": f"Lead {n}",
        "status": LeadStatus.QUALIFIED,
        "budget": Money(amount=Decimal("1850000.75"), currency="AED"),
        "created_at": AT,
        "updated_at": AT + timedelta(minutes=n),
        "qualified_at": AT,
    }
    return Lead(**{**values, **changes})


def _records(leads: list[Lead]) -> list[dict[str, Any]]:
    score = ScoreState(value=61, temperature=Temperature.HOT)
    return [
        lead_fields(lead, "Omar", f"https://dash.example/leads/{lead.lead_id}", score=score)
        for lead in leads
    ]


def _writes(fake: FakeAirtable, method: str = "PATCH") -> list[dict[str, Any]]:
    return [r for r in fake.requests() if r["method"] == method]


def test_the_schema_is_created_once(
    endpoint_url: str, clock: VirtualClock, fake: FakeAirtable
) -> None:
    crm = _crm(endpoint_url, clock)

    first = crm.ensure_schema(SCHEMA)
    second = crm.ensure_schema(SCHEMA)

    assert first.tables_created == ("Qualified Leads", "Deals", "Brokers", "Activity Log")
    assert second.nothing_created and second.type_mismatches == ()
    assert fake.tables(BASE) == {t.name: [f.name for f in t.fields] for t in SCHEMA}
    creates = [r for r in fake.requests() if r["method"] == "POST"]
    assert len(creates) == 4
    assert all(r["status"] == 200 for r in fake.requests())


def test_missing_fields_are_added_and_a_retyped_one_is_left_alone(
    endpoint_url: str, clock: VirtualClock, fake: FakeAirtable
) -> None:
    crm = _crm(endpoint_url, clock)
    older = TableSpec(
        ACTIVITY,
        (ACTIVITY_TABLE.fields[0], FieldSpec("Kind", "multilineText")),
        merge_key=ACTIVITY_TABLE.merge_key,
    )
    crm.ensure_schema([older])

    changes = crm.ensure_schema(SCHEMA)

    assert changes.tables_created == ("Qualified Leads", "Deals", "Brokers")
    assert changes.fields_created == (
        (ACTIVITY, "Time"),
        (ACTIVITY, "Lead ID"),
        (ACTIVITY, "Detail"),
    )
    assert changes.type_mismatches == ((ACTIVITY, "Kind", "multilineText", "singleLineText"),)
    assert fake.tables(BASE)[ACTIVITY] == ["Activity ID", "Kind", "Time", "Lead ID", "Detail"]


def test_leads_are_upserted_in_calls_of_ten_and_a_replay_adds_nothing(
    crm: AirtableCrm, fake: FakeAirtable
) -> None:
    records = _records([_lead(n) for n in range(23)])

    first = crm.upsert(LEADS, records, [LEAD_ID])
    replay = crm.upsert(LEADS, records, [LEAD_ID])

    assert len(first.created) == 23 and first.updated == ()
    assert replay.created == () and replay.updated == first.created
    writes = _writes(fake)
    assert [len(w["body"]["records"]) for w in writes] == [10, 10, 3, 10, 10, 3]
    assert all(w["body"]["performUpsert"] == {"fieldsToMergeOn": ["Lead ID"]} for w in writes)
    stored = fake.records(BASE, LEADS)
    assert len(stored) == 23
    assert stored[4]["fields"] == {
        "Lead ID": "01KJ0000000000000000000004",
        "Name": "Lead 4",
        "Status": "qualified",
        "Temperature": "hot",
        "Score": 61,
        "Budget": 1850000.75,
        "Currency": "AED",
        "Broker": "Omar",
        "Qualified At": "2026-03-01T10:00:00.000Z",
        "Updated At": "2026-03-01T10:04:00.000Z",
        "Dashboard Link": "https://dash.example/leads/01KJ0000000000000000000004",
    }


def test_a_later_change_updates_the_one_record_and_clears_what_the_lead_lost(
    crm: AirtableCrm, fake: FakeAirtable
) -> None:
    crm.upsert(LEADS, _records([_lead(1), _lead(2)]), [LEAD_ID])

    moved = _lead(2, status=LeadStatus.ASSIGNED)
    result = crm.upsert(LEADS, [lead_fields(moved, None, "")], [LEAD_ID])

    (record_id,) = result.updated
    stored = {r["id"]: r["fields"] for r in fake.records(BASE, LEADS)}
    assert len(stored) == 2
    assert stored[record_id]["Status"] == "assigned"
    assert "Broker" not in stored[record_id] and "Score" not in stored[record_id]


def test_the_client_keeps_to_five_requests_a_second(
    crm: AirtableCrm, fake: FakeAirtable, clock: VirtualClock
) -> None:
    records = _records([_lead(n) for n in range(60)])  # 6 calls, then 6 more

    crm.upsert(LEADS, records, [LEAD_ID])
    crm.upsert(LEADS, records, [LEAD_ID])

    assert {r["status"] for r in fake.requests()} == {200}
    assert len(fake.requests()) == 12
    assert clock.slept and all(0 < s <= 1.0 for s in clock.slept)


def test_a_429_is_retried_with_backoff(
    crm: AirtableCrm, fake: FakeAirtable, clock: VirtualClock
) -> None:
    fake.fail_next(429, times=2)

    result = crm.upsert(LEADS, _records([_lead(1)]), [LEAD_ID])

    assert len(result.created) == 1
    assert [r["status"] for r in fake.requests()] == [429, 429, 200]
    assert clock.slept == [1.0, 2.0]


def test_an_outage_is_retryable_and_writes_nothing(
    crm: AirtableCrm, fake: FakeAirtable, clock: VirtualClock
) -> None:
    fake.fail_next(503, times=10)

    with pytest.raises(CrmUnavailable) as raised:
        crm.upsert(LEADS, _records([_lead(1)]), [LEAD_ID])

    assert raised.value.status == 503
    assert [r["status"] for r in fake.requests()] == [503, 503, 503, 503]
    assert clock.slept == [1.0, 2.0, 4.0]
    assert fake.records(BASE, LEADS) == []


def test_a_rate_limit_that_outlasts_the_retries_is_retryable_too(
    crm: AirtableCrm, fake: FakeAirtable
) -> None:
    fake.fail_next(429, times=4)
    with pytest.raises(CrmUnavailable) as raised:
        crm.upsert(LEADS, _records([_lead(1)]), [LEAD_ID])
    assert raised.value.status == 429


def test_an_unknown_field_is_refused_at_once_and_not_retried(
    crm: AirtableCrm, fake: FakeAirtable
) -> None:
    record = {**_records([_lead(1)])[0], "Nickname": "Sara"}

    with pytest.raises(CrmRejected) as raised:
        crm.upsert(LEADS, [record], [LEAD_ID])

    assert not isinstance(raised.value, CrmUnavailable)
    assert (raised.value.status, raised.value.error_type) == (422, "UNKNOWN_FIELD_NAME")
    assert len(fake.requests()) == 1
    assert fake.records(BASE, LEADS) == []


def test_a_record_without_its_merge_key_is_refused_before_any_request(
    crm: AirtableCrm, fake: FakeAirtable
) -> None:
    with pytest.raises(CrmRejected, match="Lead ID"):
        crm.upsert(LEADS, [{"Name": "no id"}], [LEAD_ID])
    assert fake.requests() == []


def test_a_refused_token_is_unauthorized(
    endpoint_url: str, clock: VirtualClock, fake: FakeAirtable
) -> None:
    fake.add_base("appOtherBase00001", "patOther.0002")
    for token in ("patWrong", "patOther.0002"):
        with pytest.raises(CrmUnauthorized):
            _crm(endpoint_url, clock, token).ensure_schema(SCHEMA)
    assert [r["status"] for r in fake.requests()] == [401, 403]


def test_activities_are_appended_in_calls_of_ten(crm: AirtableCrm, fake: FakeAirtable) -> None:
    activities = [
        activity_fields(f"act-{i}", AT + timedelta(seconds=i), "L1", "status_changed", "x → y")
        for i in range(12)
    ]

    ids = crm.create(ACTIVITY, activities)

    assert len(ids) == 12 and len(set(ids)) == 12
    assert [len(w["body"]["records"]) for w in _writes(fake, "POST")] == [10, 2]
    assert [r["fields"]["Activity ID"] for r in fake.records(BASE, ACTIVITY)] == [
        f"act-{i}" for i in range(12)
    ]
    # Replays of activities go through upsert on their id, and add nothing.
    replay = crm.upsert(ACTIVITY, activities, [ACTIVITY_TABLE.merge_key])
    assert replay.created == () and len(replay.updated) == 12


def test_every_lead_column_is_one_the_schema_creates() -> None:
    assert set(lead_fields(_lead(1), "Omar", "https://x.example")) == {
        f.name for f in LEADS_TABLE.fields
    }


def test_a_leads_records_are_found_by_lead_id_and_deleted_ten_a_call_even_if_some_went_first(
    crm: AirtableCrm, fake: FakeAirtable
) -> None:
    crm.upsert(LEADS, _records([_lead(n) for n in range(1, 4)]), [LEAD_ID])
    target = _lead(2).lead_id
    lines = [
        activity_fields(f"{target}:status:{n}", AT, target, "status_changed", "") for n in range(12)
    ]
    lines.append(activity_fields("other:1", AT, _lead(3).lead_id, "status_changed", ""))
    crm.create(ACTIVITY, lines)
    fake.clear()

    [row] = crm.records_where(LEADS, LEAD_ID, target)
    found = crm.records_where(ACTIVITY, LEAD_ID, target)

    assert len(found) == 12
    listing = fake.requests()[0]
    assert listing["method"] == "GET" and listing["query"]["filterByFormula"] == [
        f"{{Lead ID}}='{target}'"
    ]
    # One line is deleted by someone else meanwhile: the rest still go, and it counts as gone.
    requests_before = len(fake.requests())
    crm.delete(ACTIVITY, [found[0]])
    assert crm.delete(ACTIVITY, found) == 12
    assert crm.delete(LEADS, [row]) == 1
    deletes = [r for r in fake.requests()[requests_before:] if r["method"] == "DELETE"]
    assert all(r["status"] in (200, 404) for r in deletes)
    assert [r["fields"]["Lead ID"] for r in fake.records(BASE, LEADS)] == [
        _lead(1).lead_id,
        _lead(3).lead_id,
    ]
    assert [r["fields"]["Activity ID"] for r in fake.records(BASE, ACTIVITY)] == ["other:1"]
    assert crm.records_where(LEADS, LEAD_ID, "it's \\ quoted") == ()
