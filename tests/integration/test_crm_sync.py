"""The Airtable CRM sync consumer (functions/crm_sync) over real tables (moto and DynamoDB Local):
leads qualifying through the webhook, the handoff, deals from the API, fed as the Leads and Deals
streams' records to the function, which writes through the real pyairtable client over HTTP to
the fake Airtable; refused records parked in the DLQ (served as SQS by the local gateway) and
replayed with `python -m leadbot.admin crm-replay`.

The adapter's pacer and backoff and the fake's rate limit share one virtual clock: nothing waits.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest

from leadbot.admin.__main__ import main as admin
from leadbot.domain import Channel, LeadStatus
from leadbot.integrations.airtable import (
    ACTIVITY,
    BROKERS,
    DEALS,
    LEADS,
    SCHEMA,
    AirtableCrm,
    Pacer,
    RetryPolicy,
)
from leadbot.integrations.crm import TableSpec
from leadbot.services import runtime
from leadbot.services.airtable import connect, init_base
from local.fake_airtable import FakeAirtable, airtable_endpoint
from local.fake_sqs import queue_url, sqs_endpoint
from local.fake_telegram import FakeTelegram
from local.gateway import LocalGateway, lambda_context, load_handler
from local.seed import DEMO_AIRTABLE_BASE_ID, DEMO_AIRTABLE_TOKEN, DEMO_BROKERS
from local.streams import DeadLetters, Streams
from local.template import load_template, stream_sources
from tests.support import (
    ADMIN,
    REPO,
    DealsStream,
    InProcessStack,
    LeadsStream,
    Updates,
    api_call,
    score_update_handler,
)

BASE = DEMO_AIRTABLE_BASE_ID
TOKEN_PARAM = "/leadbot/local/tenants/demo/airtable_token"
OMAR = DEMO_BROKERS[0]
OK: dict[str, Any] = {"batchItemFailures": []}


class VirtualClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


@dataclass
class Crm:
    """The fake Airtable and the DLQ behind the function, and the stack in front of it."""

    stack: InProcessStack
    fake: FakeAirtable
    clock: VirtualClock
    dead_letters: DeadLetters

    def connect(self, schema: tuple[TableSpec, ...] = SCHEMA) -> None:
        """The demo agency's base connected, with our tables (or those given) in it."""
        repos = self.stack.repos
        connect(repos, "demo", base_id=BASE, token_param=TOKEN_PARAM)
        if schema == SCHEMA:
            init_base(repos, "demo")
        else:
            crm = runtime.crm(repos.tenants.get("demo", consistent=True))
            assert crm is not None
            crm.ensure_schema(schema)
        runtime.repositories().tenants.get("demo", consistent=True)
        runtime.reset()  # the tenant cache forgets the agency without a base
        self.fake.clear()

    def rows(self, table: str) -> list[dict[str, Any]]:
        return [r["fields"] for r in self.fake.records(BASE, table)]

    def writes(self, table: str) -> list[dict[str, Any]]:
        return [r for r in self.fake.requests(BASE) if r["table"] == table]

    def parked(self) -> list[Any]:
        return self.dead_letters.snapshot().get("CrmSyncDLQ", [])


@pytest.fixture
def crm(stack: InProcessStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Crm]:
    yield from _crm(stack, monkeypatch)


@pytest.fixture
def ddb_crm(ddblocal_stack: InProcessStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Crm]:
    yield from _crm(ddblocal_stack, monkeypatch)


def _crm(stack: InProcessStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Crm]:
    clock = VirtualClock()
    fake = FakeAirtable(clock=clock)
    fake.add_base(BASE, DEMO_AIRTABLE_TOKEN)
    dead_letters = DeadLetters()
    endpoints = {
        "airtable": airtable_endpoint(fake),
        "sqs": sqs_endpoint(dead_letters, ["CrmSyncDLQ"]),
    }
    with LocalGateway([], REPO, FakeTelegram(), endpoints=endpoints) as gateway:
        sqs = f"{gateway.url}/_local/sqs"
        monkeypatch.setenv("AIRTABLE_API_BASE", f"{gateway.url}/_local/airtable")
        monkeypatch.setenv("SQS_ENDPOINT", sqs)
        monkeypatch.setenv("CRM_SYNC_DLQ_URL", queue_url(sqs, "CrmSyncDLQ"))

        @cache
        def airtable(base_id: str, token_param: str) -> AirtableCrm:
            # As runtime builds it, on the virtual clock.
            return AirtableCrm(
                base_id,
                lambda: runtime.secret(token_param),
                endpoint_url=f"{gateway.url}/_local/airtable",
                retry=RetryPolicy(retries=3),
                pacer=Pacer(clock=clock, sleep=clock.sleep),
                sleep=clock.sleep,
            )

        monkeypatch.setattr(runtime, "_airtable", airtable)
        runtime.reset()
        yield Crm(stack, fake, clock, dead_letters)


def crm_sync(records: list[dict[str, Any]], event: str = "LeadsStream") -> dict[str, Any]:
    """The function as Lambda invokes it for a batch of one of its streams."""
    if not records:  # Lambda never invokes with an empty batch
        return OK
    [source] = [
        s
        for s in stream_sources(load_template())
        if (s.function_id, s.event_name) == ("CrmSyncFunction", event)
    ]
    result: dict[str, Any] = load_handler(REPO, source)(
        {"Records": records}, lambda_context("CrmSyncFunction")
    )
    return result


def score(records: list[dict[str, Any]]) -> dict[str, Any]:
    if not records:
        return OK
    result: dict[str, Any] = score_update_handler()(
        {"Records": records}, lambda_context("ScoreUpdateFunction")
    )
    return result


def settle(stream: LeadsStream) -> list[dict[str, Any]]:
    """Both consumers of the Leads stream get each change, until nothing changes (scoring writes
    its own); every record delivered, in order."""
    delivered: list[dict[str, Any]] = []
    for _ in range(4):
        records = stream.changed()
        if not records:
            break
        delivered += records
        assert score(records) == OK
        assert crm_sync(records) == OK
    return delivered


def post_all(crm: Crm, stream: LeadsStream, updates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    delivered: list[dict[str, Any]] = []
    for update in updates:
        assert crm.stack.post(update)["statusCode"] == 200
        delivered += settle(stream)
    return delivered


def lead_id_of(stack: InProcessStack, chat: int) -> str:
    key = stack.repos.identities.key("demo", Channel.TELEGRAM, str(chat))
    lead_id = stack.repos.identities.lead_id(key)
    assert lead_id is not None
    return lead_id


def test_a_lead_qualifying_through_the_webhook_is_upserted_once_with_its_fields(
    crm: Crm,
) -> None:
    crm.connect()
    stream, lead = LeadsStream(), Updates(740_000_001, first_name="Sara")
    *questions, phone = lead.qualification()

    post_all(crm, stream, questions)
    assert crm.fake.requests() == []  # still qualifying: nothing for the CRM
    post_all(crm, stream, [phone])

    lead_id = lead_id_of(crm.stack, 740_000_001)
    item = stream.item(lead_id)
    [row] = crm.rows(LEADS)
    assert row == {
        "Lead ID": lead_id,
        "Name": "Sara",
        "Phone": "+971501234567",
        "Language": "en",
        "Status": "qualified",
        "Temperature": item["temperature"]["S"],
        "Score": row["Score"],
        "Goal": "buy",
        "Budget": 2500000,
        "Currency": "AED",
        "Property Type": "apartment",
        "Location": "Dubai Marina",
        "Bedrooms": "2",
        "Timeline": "1-3 months",
        "Payment Method": "cash",
        "Qualified At": row["Qualified At"],
        "Updated At": row["Updated At"],
        "Dashboard Link": f"https://dashboard.example.test/leads/{lead_id}",
    }
    assert row["Qualified At"].endswith("Z") and row["Updated At"].endswith("Z")
    # The score as of the last write: a move within the temperature is not worth a request.
    assert row["Temperature"] == "hot" and 50 <= row["Score"] <= int(item["score"]["N"])
    # Upserted on Lead ID: once as it qualified, once more for the temperature it then got.
    upserts = crm.writes(LEADS)
    assert 1 <= len(upserts) <= 2
    for request in upserts:
        assert request["method"] == "PATCH" and request["status"] == 200
        assert request["body"]["performUpsert"] == {"fieldsToMergeOn": ["Lead ID"]}
    [line] = crm.rows(ACTIVITY)
    assert (line["Kind"], line["Detail"], line["Lead ID"]) == (
        "status_changed",
        "qualifying → qualified",
        lead_id,
    )


def test_a_handoff_updates_the_same_row_and_logs_its_lines_once_when_delivered_twice(
    crm: Crm,
) -> None:
    crm.connect()
    stream, lead = LeadsStream(), Updates(740_000_002)
    post_all(crm, stream, lead.qualification())
    [before] = crm.fake.records(BASE, LEADS)

    handoff = post_all(crm, stream, [lead.text("yes")])
    # Lambda delivers records at least once: the same ones again change nothing.
    assert handoff and crm_sync(handoff) == OK and crm_sync(handoff) == OK

    [after] = crm.fake.records(BASE, LEADS)
    assert after["id"] == before["id"]  # the same Airtable record, updated
    assert (after["fields"]["Status"], after["fields"]["Broker"]) == ("assigned", OMAR.name)
    lines = crm.rows(ACTIVITY)
    assert sorted(line["Kind"] for line in lines) == [
        "assigned",
        "broker_requested",
        "status_changed",
    ]
    [assigned] = [line for line in lines if line["Kind"] == "assigned"]
    assert assigned["Detail"] == OMAR.name
    [broker] = crm.rows(BROKERS)
    assert (broker["Broker ID"], broker["Name"], broker["Active"]) == (
        OMAR.broker_id,
        OMAR.name,
        True,
    )

    # Later changes an agent makes: status, then broker, each on the same row.
    lead_id = lead_id_of(crm.stack, 740_000_002)
    elena = DEMO_BROKERS[1]
    for change in ({"status": "contacted"}, {"broker_id": elena.broker_id}):
        status, _ = api_call("PATCH", f"/api/leads/{lead_id}", ADMIN, body=change)
        assert status == 200
        settle(stream)
    [final] = crm.fake.records(BASE, LEADS)
    assert final["id"] == before["id"]
    assert (final["fields"]["Status"], final["fields"]["Broker"]) == ("contacted", elena.name)
    assert {b["Name"] for b in crm.rows(BROKERS)} == {OMAR.name, elena.name}
    kinds = sorted(line["Kind"] for line in crm.rows(ACTIVITY))
    assert kinds == ["assigned", "assigned", "broker_requested", "status_changed", "status_changed"]


def test_a_deal_is_written_with_both_commissions_and_its_lines(crm: Crm) -> None:
    crm.connect()
    stream, deals = LeadsStream(), DealsStream()
    post_all(crm, stream, Updates(740_000_003).qualification())
    lead_id = lead_id_of(crm.stack, 740_000_003)
    body = {"lead_id": lead_id, "value": "2500000.00", "broker_id": OMAR.broker_id}
    status, deal = api_call("POST", "/api/deals", ADMIN, body=body)
    assert status == 201
    assert crm_sync(deals.changed(), "DealsStream") == OK
    status, _ = api_call("PATCH", f"/api/deals/{deal['deal_id']}", ADMIN, body={"status": "won"})
    assert status == 200
    won = deals.changed()
    assert crm_sync(won, "DealsStream") == OK and crm_sync(won, "DealsStream") == OK

    [row] = crm.rows(DEALS)
    assert {k: v for k, v in row.items() if k not in ("Created At", "Closed At")} == {
        "Deal ID": deal["deal_id"],
        "Lead ID": lead_id,
        "Broker": OMAR.name,
        "Value": 2500000,
        "Currency": "AED",
        "Broker Commission Rate": 0.02,
        "Broker Commission": 50000,
        "Platform Commission Rate": 0.25,
        "Platform Commission": 12500,
        "Status": "won",
    }
    assert row["Closed At"].endswith("Z")
    deal_lines = [line for line in crm.rows(ACTIVITY) if line["Kind"].startswith("deal_")]
    assert sorted(line["Kind"] for line in deal_lines) == ["deal_created", "deal_won"]
    assert {line["Lead ID"] for line in deal_lines} == {lead_id}
    assert [b["Broker ID"] for b in crm.rows(BROKERS)] == [OMAR.broker_id]


def test_a_429_is_retried_by_the_adapter_and_the_records_succeed(crm: Crm) -> None:
    crm.connect()
    stream, lead = LeadsStream(), Updates(740_000_004)
    *questions, phone = lead.qualification()
    post_all(crm, stream, questions)
    crm.fake.fail_next(429, times=2)

    post_all(crm, stream, [phone])

    statuses = [r["status"] for r in crm.fake.requests(BASE)]
    assert statuses[:3] == [429, 429, 200]
    assert crm.clock.slept[:2] == [1.0, 2.0]  # the adapter's backoff, on the virtual clock
    assert len(crm.rows(LEADS)) == 1
    assert crm.parked() == []


def test_an_outage_fails_the_records_without_delaying_scoring_and_they_pass_later(
    crm: Crm,
) -> None:
    crm.connect()
    stream, lead = LeadsStream(), Updates(740_000_005)
    *questions, phone = lead.qualification()
    post_all(crm, stream, questions)
    lead_id = lead_id_of(crm.stack, 740_000_005)
    scored = int(stream.item(lead_id)["score"]["N"])
    crm.fake.fail_next(503, times=1000)
    assert crm.stack.post(phone)["statusCode"] == 200

    records = stream.changed()
    assert score(records) == OK  # scoring, the other consumer of the stream, goes on
    failed = crm_sync(records)

    assert failed == {
        "batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in records]
    }
    # The phone's 10 points and one more message's 1, scored while Airtable is down.
    assert int(stream.item(lead_id)["score"]["N"]) == scored + 11
    assert crm.fake.records(BASE, LEADS) == [] and crm.parked() == []
    # Airtable is back: Lambda's retry of the same records writes them.
    crm.fake.clear()
    assert crm_sync(records) == OK
    assert [row["Status"] for row in crm.rows(LEADS)] == ["qualified"]


def test_an_agency_without_airtable_sends_nothing_and_fails_nothing(crm: Crm) -> None:
    stream = LeadsStream()
    post_all(crm, stream, Updates(740_000_006).qualification())  # asserts every batch OK
    post_all(crm, stream, [Updates(740_000_006).text("yes")])
    assert crm.fake.requests() == []
    assert crm.parked() == []


def test_a_refused_record_is_parked_with_its_keys_and_replayed_once_the_base_is_fixed(
    crm: Crm, capsys: pytest.CaptureFixture[str]
) -> None:
    # A base whose Qualified Leads table lacks a column we write: Airtable refuses the rows.
    leads = SCHEMA[0]
    crippled = TableSpec(leads.name, leads.fields[:-1], merge_key=leads.merge_key)
    crm.connect((crippled, *SCHEMA[1:]))
    stream, lead = LeadsStream(), Updates(740_000_007)
    capsys.readouterr()

    post_all(crm, stream, lead.qualification())  # asserts the records do not block the shard

    lead_id = lead_id_of(crm.stack, 740_000_007)
    assert crm.rows(LEADS) == []
    refused = [r for r in crm.writes(LEADS) if r["status"] == 422]
    assert refused and refused[0]["method"] == "PATCH"
    parked = crm.parked()
    assert parked and {p["keys"]["lead_id"]["S"] for p in parked} == {lead_id}
    assert {p["error_type"] for p in parked} == {"UNKNOWN_FIELD_NAME"}
    assert all(p["source"] == "CrmSyncFunction" and p["table"] == "leads" for p in parked)
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    assert sum(m["CrmSyncRejected"][0] for m in metrics if "CrmSyncRejected" in m) == len(parked)

    # Someone fixes the base; the replay writes the lead as it is now, and drains the queue.
    base = runtime.crm(crm.stack.repos.tenants.get("demo", consistent=True))
    assert base is not None and base.ensure_schema(SCHEMA).fields_created
    assert admin(["crm-replay"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary == {"replayed": len(parked), "failed": 0, "unreplayable": 0, "left": 0}
    assert crm.parked() == []
    [row] = crm.rows(LEADS)
    assert (row["Lead ID"], row["Status"], row["Phone"]) == (lead_id, "qualified", "+971501234567")
    assert [line["Kind"] for line in crm.rows(ACTIVITY)] == ["status_changed"]
    assert admin(["crm-replay"]) == 0  # nothing left: nothing done
    assert json.loads(capsys.readouterr().out.strip())["replayed"] == 0


def test_the_replay_keeps_what_airtable_still_cannot_take_and_says_so(
    crm: Crm, capsys: pytest.CaptureFixture[str]
) -> None:
    crm.connect()
    stream, lead = LeadsStream(), Updates(740_000_008)
    post_all(crm, stream, lead.qualification())
    lead_id = lead_id_of(crm.stack, 740_000_008)
    keys = {"tenant_id": {"S": "demo"}, "lead_id": {"S": lead_id}}
    dlq = runtime.crm_sync_dlq()
    assert dlq is not None
    dlq.send({"source": "CrmSyncFunction", "table": "leads", "keys": keys, "activities": []})
    dlq.send({"something": "else"})
    crm.fake.fail_next(503, times=1000)
    capsys.readouterr()

    assert admin(["crm-replay", "--limit", "5"]) == 1
    assert json.loads(capsys.readouterr().out.strip()) == {
        "replayed": 0,
        "failed": 1,
        "unreplayable": 1,
        "left": 2,
    }
    assert len(crm.parked()) == 2
    assert crm.stack.repos.leads.get("demo", lead_id).status is LeadStatus.QUALIFIED


# -- through the local stack's stream pollers (DynamoDB Local's real streams) -----------------


@pytest.fixture
def streams(ddb_crm: Crm) -> Iterator[Streams]:
    """Lambda's event source mappings of both consumers of the Leads stream, and of the Deals
    stream, parking in the DLQ the fake SQS serves."""
    sources = [
        s
        for s in stream_sources(load_template())
        if s.function_id in ("CrmSyncFunction", "ScoreUpdateFunction")
    ]
    assert {(s.function_id, s.table_id) for s in sources} == {
        ("ScoreUpdateFunction", "LeadsTable"),
        ("CrmSyncFunction", "LeadsTable"),
        ("CrmSyncFunction", "DealsTable"),
    }
    tables = {"LeadsTable": os.environ["LEADS_TABLE"], "DealsTable": os.environ["DEALS_TABLE"]}
    running = Streams(
        sources,
        tables,
        endpoint=os.environ["DYNAMODB_ENDPOINT"],
        repo_root=REPO,
        poll_interval=0.05,
        retry_backoff=0.001,
        max_backoff=0.005,
        dead_letters=ddb_crm.dead_letters,
    )
    running.start()
    try:
        yield running
    finally:
        running.stop()


def caught_up(streams: Streams) -> None:
    for _ in range(3):  # a change, what scoring wrote for it, and what that wrote
        assert streams.wait(60)


def outage_then_handoff(crm: Crm, streams: Streams, chat: int) -> str:
    """Airtable down while a lead qualifies and is handed off; every CRM record parked."""
    crm.connect()
    crm.fake.fail_next(503, times=100_000)
    lead = Updates(chat)
    for update in [*lead.qualification(), lead.text("yes")]:
        assert crm.stack.post(update)["statusCode"] == 200
    caught_up(streams)
    lead_id = lead_id_of(crm.stack, chat)
    # Scoring went on; the CRM got nothing and parked every batch after its retries.
    assert LeadsStream().item(lead_id)["score"]["N"] != "0"
    assert crm.fake.records(BASE, LEADS) == []
    [status] = [
        s for s in streams.status() if s["event"] == "LeadsStream" and "Crm" in s["function"]
    ]
    assert status["records_parked"] > 0 and status["failed_invocations"] >= 11
    [scoring] = [s for s in streams.status() if s["function"] == "ScoreUpdateFunction"]
    assert scoring["records_parked"] == 0 and scoring["failed_invocations"] == 0
    parked = crm.parked()
    assert parked and all(
        p["requestContext"]["condition"] == "RetryAttemptsExhausted" for p in parked
    )
    crm.fake.clear()  # Airtable is back
    return lead_id


def assert_base_is_current(crm: Crm, lead_id: str) -> None:
    [row] = crm.rows(LEADS)
    assert (row["Lead ID"], row["Status"], row["Broker"]) == (lead_id, "assigned", OMAR.name)
    assert row["Temperature"] == LeadsStream().item(lead_id)["temperature"]["S"]
    kinds = sorted(line["Kind"] for line in crm.rows(ACTIVITY))
    assert kinds == ["assigned", "broker_requested", "status_changed"]
    assert [b["Name"] for b in crm.rows(BROKERS)] == [OMAR.name]


@pytest.mark.ddblocal
def test_an_outage_parks_the_records_and_the_replay_drains_the_dlq(
    ddb_crm: Crm, streams: Streams, capsys: pytest.CaptureFixture[str]
) -> None:
    lead_id = outage_then_handoff(ddb_crm, streams, 740_100_001)
    messages = len(ddb_crm.parked())
    assert all(p["payload"]["Records"] for p in ddb_crm.parked())  # the local stack's shape
    capsys.readouterr()

    assert admin(["crm-replay"]) == 0

    lines = capsys.readouterr()
    assert json.loads(lines.out.strip()) == {
        "replayed": messages,
        "failed": 0,
        "unreplayable": 0,
        "left": 0,
    }
    assert f"{messages} message(s): {messages} replayed" in lines.err
    assert ddb_crm.parked() == []
    assert_base_is_current(ddb_crm, lead_id)


@pytest.mark.ddblocal
def test_lambdas_sqs_shape_is_replayed_from_the_stream_by_sequence_numbers(
    ddb_crm: Crm, streams: Streams, capsys: pytest.CaptureFixture[str]
) -> None:
    lead_id = outage_then_handoff(ddb_crm, streams, 740_100_002)
    # As an SQS destination in AWS holds them: the batch's position, not its records.
    parked = ddb_crm.parked()
    ddb_crm.dead_letters.clear()
    dlq = runtime.crm_sync_dlq()
    assert dlq is not None
    for failure in parked:
        dlq.send({key: value for key, value in failure.items() if key != "payload"})
    info = parked[0]["DDBStreamBatchInfo"]
    gone = {**info, "shardId": "shardId-00000000000000000000-deadbeef"}
    dlq.send({**parked[0], "payload": None, "DDBStreamBatchInfo": gone})
    capsys.readouterr()

    assert admin(["crm-replay"]) == 1  # one message could not be replayed: kept, exit 1

    assert json.loads(capsys.readouterr().out.strip()) == {
        "replayed": len(parked),
        "failed": 0,
        "unreplayable": 1,
        "left": 1,
    }
    [kept] = ddb_crm.parked()
    assert kept["DDBStreamBatchInfo"]["shardId"] == gone["shardId"]
    assert_base_is_current(ddb_crm, lead_id)


def test_a_forgotten_lead_leaves_the_base_and_records_still_in_flight_do_not_bring_it_back(
    crm: Crm, capsys: pytest.CaptureFixture[str]
) -> None:
    crm.connect()
    stream = LeadsStream()
    zainab, sara = Updates(740_000_031, first_name="Zainab"), Updates(740_000_032)
    post_all(crm, stream, sara.qualification(phone="+971 50 765 4321"))
    # Zainab's changes reach the stream but not yet the CRM sync (a slow shard).
    in_flight: list[dict[str, Any]] = []
    for update in [*zainab.qualification(), zainab.text("yes")]:
        assert crm.stack.post(update)["statusCode"] == 200
        in_flight += stream.changed()
    lead_id = lead_id_of(crm.stack, 740_000_031)
    assert crm_sync(in_flight[:-1]) == OK
    assert {row["Name"] for row in crm.rows(LEADS)} == {"Zainab", "Sara"}
    last_image = stream.item(lead_id)

    code = admin(["forget-lead", "--tenant", "demo", "--lead", lead_id, "--yes"])

    out, _ = capsys.readouterr()
    assert code == 0
    report = json.loads(out.splitlines()[-1])  # after the metrics' own lines
    assert report["lead"] == 1 and int(report["crm"]) >= 2  # its row and its lines
    assert [row["Name"] for row in crm.rows(LEADS)] == ["Sara"]
    assert {line["Lead ID"] for line in crm.rows(ACTIVITY)} == {lead_id_of(crm.stack, 740_000_032)}
    # The stream then delivers what was still in flight, and the removal itself: the later
    # upserts are not sent, and the removal deletes whatever an earlier batch wrote.
    removal = stream.record(last_image, None)
    assert crm_sync([in_flight[-1], removal]) == OK
    assert score([removal]) == OK
    assert [row["Name"] for row in crm.rows(LEADS)] == ["Sara"]
    assert all(line["Lead ID"] != lead_id for line in crm.rows(ACTIVITY))
    # The removal delivered once more (at least once): nothing left to delete, nothing fails.
    assert crm_sync([removal]) == OK
    assert all(row["Lead ID"] != lead_id for row in crm.rows(LEADS))
