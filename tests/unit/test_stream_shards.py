"""Stream poller logic DynamoDB Local cannot show on demand: shard lineage, expiring iterators."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.gateway import load_handler
from local.streams import DeadLetters, StreamPoller, lambda_record
from local.template import StreamSource

REPO = Path(__file__).resolve().parents[2]
ARN = "arn:aws:dynamodb:ddblocal:000000000000:table/Orders/stream/2026-01-01T00:00:00.000"
SOURCE = StreamSource(
    function_id="LineageProbeFunction",
    event_name="OrdersStream",
    code_uri="tests/functions/probe/",
    handler="app.record",
    table_id="OrdersTable",
    starting_position="TRIM_HORIZON",
)


def _raw(pk: str, sequence: int) -> dict[str, Any]:
    return {
        "eventID": f"id-{sequence}",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "ddblocal",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 1, 1, tzinfo=UTC),
            "Keys": {"pk": {"S": pk}},
            "NewImage": {"pk": {"S": pk}},
            "SequenceNumber": f"{sequence:021d}",
            "SizeBytes": 10,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


class FakeStreams:
    """A stream whose parent shard is closed and whose child holds the newest record."""

    def __init__(self) -> None:
        self.shards: dict[str, list[dict[str, Any]]] = {
            # Listed child first: the poller must still finish the parent before it.
            "child": [_raw("c1", 3)],
            "parent": [_raw("p1", 1), _raw("p2", 2)],
        }
        self.closed = {"parent"}
        self.expire_once = {"child"}

    def describe_table(self, TableName: str) -> dict[str, Any]:
        return {"Table": {"LatestStreamArn": ARN, "StreamSpecification": {"StreamEnabled": True}}}

    def describe_stream(self, StreamArn: str, **_: Any) -> dict[str, Any]:
        shards = [
            {"ShardId": "child", "ParentShardId": "parent", "SequenceNumberRange": {}},
            {"ShardId": "parent", "SequenceNumberRange": {"EndingSequenceNumber": "2"}},
        ]
        return {"StreamDescription": {"StreamStatus": "ENABLED", "Shards": shards}}

    def get_shard_iterator(self, ShardId: str, ShardIteratorType: str, **kw: Any) -> Any:
        after = kw.get("SequenceNumber")
        records = self.shards[ShardId]
        start = (
            0
            if after is None
            else next(
                i + 1 for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] == after
            )
        )
        return {"ShardIterator": f"{ShardId}|{start}"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        shard_id, _, position = ShardIterator.partition("|")
        if shard_id in self.expire_once:
            self.expire_once.discard(shard_id)
            error = {"Error": {"Code": "ExpiredIteratorException", "Message": "expired"}}
            raise ClientError(error, "GetRecords")  # type: ignore[arg-type]
        records = self.shards[shard_id][int(position) :]
        end = len(self.shards[shard_id])
        response: dict[str, Any] = {"Records": records}
        if shard_id not in self.closed:
            response["NextShardIterator"] = f"{shard_id}|{end}"
        return response


@pytest.fixture
def poller() -> StreamPoller:
    poller = StreamPoller(
        SOURCE,
        "Orders",
        endpoint="http://127.0.0.1:9",
        repo_root=REPO,
        dead_letters=DeadLetters(),
        poll_interval=0.01,
    )
    fake = FakeStreams()
    poller._streams = fake  # type: ignore[assignment]
    poller._dynamodb = fake  # type: ignore[assignment]
    return poller


def test_a_child_shard_is_read_after_its_parent_and_expired_iterators_renew(
    poller: StreamPoller,
) -> None:
    poller.start()
    try:
        assert poller.wait(5)
    finally:
        poller.stop()
    probe = sys.modules[load_handler(REPO, SOURCE).__module__]
    batches = [
        [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
        for event in probe.SEEN["Orders"]
    ]
    assert batches == [["p1", "p2"], ["c1"]]
    assert poller.status()["shards"] == 2


def test_lambda_record_writes_times_as_epoch_seconds_and_adds_the_source_arn() -> None:
    record = lambda_record(_raw("a", 7), ARN)
    assert record["eventSourceARN"] == ARN
    assert record["dynamodb"]["ApproximateCreationDateTime"] == 1767225600.0
    assert record["dynamodb"]["SequenceNumber"] == "000000000000000000007"
