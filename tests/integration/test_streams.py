"""Stream pollers on DynamoDB Local feed probe handlers as Lambda's event source mappings do."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import httpx
import pytest

from local.fake_telegram import FakeTelegram
from local.gateway import LocalGateway, load_handler
from local.streams import Streams
from local.template import create_tables, load_template, local_table_names, stream_sources
from tests import web
from tests.support import REPO

pytestmark = pytest.mark.ddblocal

TEMPLATE = load_template(REPO / "tests" / "functions" / "template.yaml")
RECORD_KEYS = {
    "eventID",
    "eventName",
    "eventVersion",
    "eventSource",
    "awsRegion",
    "dynamodb",
    "eventSourceARN",
}


class Table:
    """A fresh OrdersTable of the synthetic template, and pollers for chosen functions on it."""

    def __init__(self, endpoint: str, tmp_path: Path) -> None:
        self.endpoint = endpoint
        self.tmp_path = tmp_path
        self.names = local_table_names(f"s{uuid.uuid4().hex[:8]}", TEMPLATE)
        self.name = self.names["OrdersTable"]
        self.client: Any = boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        create_tables(self.client, self.names, TEMPLATE)
        self.running: list[Streams] = []

    def streams(self, function_id: str, checkpoints: Path | None = None) -> Streams:
        sources = [s for s in stream_sources(TEMPLATE) if s.function_id == function_id]
        streams = Streams(
            sources,
            self.names,
            endpoint=self.endpoint,
            repo_root=REPO,
            checkpoints=checkpoints,
            poll_interval=0.05,
            retry_backoff=0.01,
            max_backoff=0.02,
        )
        streams.start()
        self.running.append(streams)
        return streams

    def put(self, pk: str, behaviour: str = "ok", **extra: str) -> None:
        item = {"pk": {"S": pk}, "behaviour": {"S": behaviour}}
        item.update({key: {"S": value} for key, value in extra.items()})
        self.client.put_item(TableName=self.name, Item=item)

    def delete(self, pk: str) -> None:
        self.client.delete_item(TableName=self.name, Key={"pk": {"S": pk}})

    def batches(self, function_id: str) -> list[list[str]]:
        """The keys of every batch the function was invoked with, in order."""
        events = probe(function_id).SEEN.get(self.name, [])
        return [[r["dynamodb"]["Keys"]["pk"]["S"] for r in e["Records"]] for e in events]

    def stop(self) -> None:
        for streams in self.running:
            streams.stop()


def probe(function_id: str) -> ModuleType:
    """The function's copy of tests/functions/probe/app.py, as the poller loaded it."""
    source = next(s for s in stream_sources(TEMPLATE) if s.function_id == function_id)
    handler = load_handler(REPO, source)
    return sys.modules[handler.__module__]


@pytest.fixture
def table(dynamodb_local: str, tmp_path: Path) -> Iterator[Table]:
    fresh = Table(dynamodb_local, tmp_path)
    yield fresh
    fresh.stop()


def test_records_arrive_in_order_in_lambdas_event_shape(table: Table) -> None:
    table.put("a", note="first")
    table.put("a", note="second")
    table.delete("a")
    for pk in ("b", "c", "d"):
        table.put(pk)
    streams = table.streams("RecorderFunction")
    assert streams.wait(10)

    # BatchSize 3; everything was in the stream before the poller started.
    assert table.batches("RecorderFunction") == [["a", "a", "a"], ["b", "c", "d"]]
    events = probe("RecorderFunction").SEEN[table.name]
    records = [record for event in events for record in event["Records"]]
    assert all(set(event) == {"Records"} for event in events)
    assert [r["eventName"] for r in records] == [
        "INSERT",
        "MODIFY",
        "REMOVE",
        "INSERT",
        "INSERT",
        "INSERT",
    ]
    for record in records:
        assert set(record) == RECORD_KEYS
        assert record["eventVersion"] == "1.1"
        assert record["eventSource"] == "aws:dynamodb"
        assert f":table/{table.name}/stream/" in record["eventSourceARN"]
        change = record["dynamodb"]
        assert isinstance(change["ApproximateCreationDateTime"], float)
        assert isinstance(change["SizeBytes"], int)
        assert change["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    sequences = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    insert, modify, remove = (r["dynamodb"] for r in records[:3])
    assert insert["Keys"] == {"pk": {"S": "a"}}
    assert insert["NewImage"]["note"] == {"S": "first"} and "OldImage" not in insert
    assert modify["OldImage"]["note"] == {"S": "first"}
    assert modify["NewImage"]["note"] == {"S": "second"}
    assert remove["OldImage"]["note"] == {"S": "second"} and "NewImage" not in remove

    # Written while polling: wait() returns once they are in too.
    for pk in ("e", "f"):
        table.put(pk)
    assert streams.wait(10)
    assert [pk for batch in table.batches("RecorderFunction")[2:] for pk in batch] == ["e", "f"]
    status = streams.status()[0]
    assert status["records_processed"] == 8
    assert status["records_waiting"] == 0
    assert status["failed_invocations"] == 0
    assert status["table_name"] == table.name


def test_binary_attributes_arrive_base64_encoded_as_in_lambda(table: Table) -> None:
    table.client.put_item(
        TableName=table.name,
        Item={"pk": {"S": "bin"}, "blob": {"B": b"\x00\xff"}, "set": {"BS": [b"z"]}},
    )
    assert table.streams("RecorderFunction").wait(10)
    image = probe("RecorderFunction").SEEN[table.name][0]["Records"][0]["dynamodb"]["NewImage"]
    assert image["blob"] == {"B": "AP8="}
    assert image["set"] == {"BS": ["eg=="]}


def test_reported_failures_are_redelivered_from_the_failed_record_on(table: Table) -> None:
    table.put("r1")
    table.put("r2", "fail_once")
    table.put("r3")
    streams = table.streams("PartialFunction")
    assert streams.wait(10)

    assert table.batches("PartialFunction") == [["r1", "r2", "r3"], ["r2", "r3"]]
    assert streams.dead_letters.snapshot() == {}
    status = streams.status()[0]
    assert status["records_processed"] == 3
    assert status["failed_invocations"] == 1


def test_a_record_that_keeps_failing_is_parked_after_its_retries(table: Table) -> None:
    table.put("p1")
    table.put("p2", "fail")
    table.put("p3")
    streams = table.streams("PartialFunction")
    assert streams.wait(10)

    # The first delivery and MaximumRetryAttempts (2) retries of what was left from p2 on.
    assert table.batches("PartialFunction") == [["p1", "p2", "p3"]] + [["p2", "p3"]] * 2
    parked = streams.dead_letters.snapshot()
    assert list(parked) == ["ProbeDLQ"]
    [failure] = parked["ProbeDLQ"]
    p2, p3 = failure["payload"]["Records"]
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    assert failure["requestContext"]["functionArn"].endswith(":function:PartialFunction")
    assert failure["version"] == "1.0"
    info = failure["DDBStreamBatchInfo"]
    assert info["startSequenceNumber"] == p2["dynamodb"]["SequenceNumber"]
    assert info["endSequenceNumber"] == p3["dynamodb"]["SequenceNumber"]
    assert info["batchSize"] == 2
    assert info["streamArn"] == p2["eventSourceARN"]
    assert info["shardId"].startswith("shardId-")
    assert "functionError" not in failure["responseContext"]  # it answered, with failures

    # The shard moved on: later records are processed.
    table.put("p4")
    assert streams.wait(10)
    assert table.batches("PartialFunction")[-1] == ["p4"]
    status = streams.status()[0]
    assert status["records_parked"] == 2
    assert status["last_error"] is not None

    streams.dead_letters.clear()
    assert streams.dead_letters.snapshot() == {}


def test_bisecting_a_raising_batch_isolates_the_poison_record(table: Table) -> None:
    for pk in ("q1", "q2"):
        table.put(pk)
    table.put("q3", "fail")
    table.put("q4")
    streams = table.streams("RaisingFunction")
    assert streams.wait(10)

    assert table.batches("RaisingFunction") == [
        ["q1", "q2", "q3", "q4"],
        ["q1", "q2"],
        ["q3", "q4"],
        ["q3"],
        ["q3"],  # MaximumRetryAttempts: 1
        ["q4"],
    ]
    [failure] = streams.dead_letters.snapshot()["ProbeDLQ"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in failure["payload"]["Records"]] == ["q3"]
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 1
    assert failure["responseContext"]["functionError"] == "Unhandled"
    assert failure["requestContext"]["approximateInvokeCount"] == 2
    assert streams.status()[0]["records_processed"] == 3


def test_a_restarted_poller_resumes_after_its_checkpoint(table: Table, tmp_path: Path) -> None:
    checkpoints = tmp_path / "streams.json"
    for pk in ("c1", "c2"):
        table.put(pk)
    first = table.streams("RecorderFunction", checkpoints)
    assert first.wait(10)
    first.stop()

    table.put("c3")
    second = table.streams("RecorderFunction", checkpoints)
    assert second.wait(10)
    assert table.batches("RecorderFunction") == [["c1", "c2"], ["c3"]]


def test_a_re_enabled_stream_is_followed_after_the_old_one_is_read(table: Table) -> None:
    table.put("o1")
    streams = table.streams("RecorderFunction")
    assert streams.wait(10)
    old_arn = streams.status()[0]["stream_arn"]

    # Disabling closes the stream's shard; enabling again starts a new stream.
    table.client.update_table(TableName=table.name, StreamSpecification={"StreamEnabled": False})
    table.client.update_table(
        TableName=table.name,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    table.put("o2")
    assert streams.wait(10)
    assert table.batches("RecorderFunction") == [["o1"], ["o2"]]
    assert streams.status()[0]["stream_arn"] != old_arn


def test_wait_times_out_when_the_poller_cannot_catch_up_in_time(table: Table) -> None:
    streams = table.streams("RecorderFunction")
    assert streams.wait(timeout=0) is False
    streams.stop()
    assert streams.wait(timeout=5) is False  # a stopped poller never catches up


def test_the_routes_show_status_wait_and_the_dlq(table: Table) -> None:
    streams = table.streams("PartialFunction")
    with LocalGateway([], REPO, FakeTelegram(), endpoints=streams.endpoints()) as gateway:
        url = gateway.url
        table.put("h1")
        table.put("h2", "fail")
        waited = httpx.post(f"{url}/_local/streams/wait", params={"timeout": 10}, timeout=15)
        assert waited.status_code == 200
        assert waited.json()["caught_up"] is True

        [status] = web.get(f"{url}/_local/streams").json()["streams"]
        assert (status["function"], status["event"]) == ("PartialFunction", "OrdersStream")
        assert (status["table"], status["table_name"]) == ("OrdersTable", table.name)
        assert status["state"] == "polling"
        assert status["records_processed"] == 1
        assert status["records_parked"] == 1
        assert status["records_waiting"] == 0
        assert "parking" in status["last_error"]

        parked = web.get(f"{url}/_local/dlq").json()
        [failure] = parked["ProbeDLQ"]
        assert failure["payload"]["Records"][0]["dynamodb"]["Keys"] == {"pk": {"S": "h2"}}
        assert web.delete(f"{url}/_local/dlq").status_code == 204
        assert web.get(f"{url}/_local/dlq").json() == {}

        timed_out = httpx.post(f"{url}/_local/streams/wait?timeout=0")
        assert timed_out.status_code == 504
        assert timed_out.json()["caught_up"] is False
        assert httpx.post(f"{url}/_local/streams/wait?timeout=x").status_code == 400
        assert web.get(f"{url}/_local/streams/wait").status_code == 405
        assert web.post(f"{url}/_local/streams").status_code == 405
        assert web.put(f"{url}/_local/dlq").headers["Allow"] == "GET, DELETE"
        assert web.get(f"{url}/_local/streams/nope").status_code == 404


def test_a_poller_started_on_an_empty_table_gets_its_first_records(table: Table) -> None:
    streams = table.streams("RecorderFunction")
    assert streams.wait(10)
    table.put("first")
    assert streams.wait(10)
    assert table.batches("RecorderFunction") == [["first"]]
    assert streams.status()[0]["last_error"] is None
