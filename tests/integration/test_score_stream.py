"""score_update fed by the real Leads stream of DynamoDB Local, through the local stack's poller,
as Lambda's event source mapping would feed it (batches, partial failures, the DLQ)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
import pytest

from leadbot.domain import Channel
from local.streams import Streams
from local.template import load_template, stream_sources
from tests.support import REPO, InProcessStack, LeadsStream, Updates

pytestmark = pytest.mark.ddblocal


@pytest.fixture
def streams(ddblocal_stack: InProcessStack) -> Iterator[Streams]:
    tables = {
        "LeadsTable": os.environ["LEADS_TABLE"],
        "TimelineTable": os.environ["TIMELINE_TABLE"],
    }
    sources = [s for s in stream_sources(load_template()) if s.function_id == "ScoreUpdateFunction"]
    running = Streams(
        sources,
        tables,
        endpoint=os.environ["DYNAMODB_ENDPOINT"],
        repo_root=REPO,
        poll_interval=0.05,
        retry_backoff=0.01,
        max_backoff=0.05,
    )
    running.start()
    try:
        yield running
    finally:
        running.stop()


def _item(stack: InProcessStack, chat: int) -> dict[str, dict[str, str]]:
    key = stack.repos.identities.key("demo", Channel.TELEGRAM, str(chat))
    lead_id = stack.repos.identities.lead_id(key)
    assert lead_id is not None
    return LeadsStream().item(lead_id)


def test_a_message_moves_the_score_and_the_own_write_ends_the_chain(
    ddblocal_stack: InProcessStack, streams: Streams
) -> None:
    stack, lead = ddblocal_stack, Updates(720_000_001)
    stack.post(lead.text("/start qr_expo"))
    assert streams.wait(30) and streams.wait(30)  # the change, then what its handling wrote
    first = _item(stack, 720_000_001)
    assert (first["score"]["N"], first["temperature"]["S"]) == ("24", "cold")
    # The INSERT, then the score write's own MODIFY, which changes no input: nothing follows.
    assert streams.status()[0]["records_processed"] == 2
    assert streams.wait(30) and streams.status()[0]["records_processed"] == 2

    stack.post(lead.press("goal:buy"))
    assert streams.wait(30) and streams.wait(30)
    moved = _item(stack, 720_000_001)
    assert (moved["score"]["N"], moved["temperature"]["S"]) == ("30", "warm")
    assert streams.status()[0]["records_processed"] == 4
    events = stack.repos.timeline.history("demo", moved["lead_id"]["S"])
    assert [e.detail.get("to") for e in events if e.text == "temperature_changed"] == ["warm"]


def test_a_poison_record_is_reported_and_parked_while_the_rest_are_scored(
    ddblocal_stack: InProcessStack, streams: Streams
) -> None:
    stack = ddblocal_stack
    stack.post(Updates(720_000_011).text("/start"))
    # Something wrote a lead scoring cannot read (no channel, stage, dates).
    client = boto3.client("dynamodb", endpoint_url=os.environ["DYNAMODB_ENDPOINT"])
    poison = {"tenant_id": {"S": "demo"}, "lead_id": {"S": "01POISON000000000000000000"}}
    client.put_item(TableName=os.environ["LEADS_TABLE"], Item=poison)
    assert streams.wait(30)
    stack.post(Updates(720_000_012).text("/start"))
    assert streams.wait(30)

    assert _item(stack, 720_000_011)["score"]["N"] == "21"
    assert _item(stack, 720_000_012)["score"]["N"] == "21"  # the shard moved on past it
    [failure] = streams.dead_letters.snapshot()["ScoreUpdateDLQ"]
    parked = failure["payload"]["Records"]
    assert [r["dynamodb"]["Keys"]["lead_id"]["S"] for r in parked] == [poison["lead_id"]["S"]]
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert "functionError" not in failure["responseContext"]  # reported, not raised
    assert streams.status()[0]["records_parked"] == 1
