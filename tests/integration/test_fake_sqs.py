"""The local stack's queues as SQS (local/fake_sqs.py), through boto3 over HTTP: what Lambda
parks and what functions send share one queue, which `/_local/dlq` shows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError

from leadbot.integrations.sqs import Queue
from local.fake_sqs import queue_url, sqs_endpoint
from local.fake_telegram import FakeTelegram
from local.gateway import LocalGateway
from local.streams import DeadLetters, Streams
from tests.support import REPO


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Sqs:
    url: str  # the endpoint
    gateway: str
    clock: Clock
    dead_letters: DeadLetters

    def queue(self, name: str = "CrmSyncDLQ") -> Queue:
        return Queue(queue_url(self.url, name), region="us-east-1", endpoint_url=self.url)


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sqs]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    clock = Clock()
    dead_letters = DeadLetters(clock=clock)
    streams = Streams([], {}, endpoint="", repo_root=REPO, dead_letters=dead_letters)
    endpoints = {
        **streams.endpoints(),  # /_local/dlq
        "sqs": sqs_endpoint(dead_letters, ["CrmSyncDLQ", "ScoreUpdateDLQ"]),
    }
    with LocalGateway([], REPO, FakeTelegram(), endpoints=endpoints) as gateway:
        yield Sqs(f"{gateway.url}/_local/sqs", gateway.url, clock, dead_letters)


def test_send_receive_hide_and_delete_as_sqs_does(sqs: Sqs) -> None:
    queue = sqs.queue()
    sent = queue.send({"source": "CrmSyncFunction", "keys": {"lead_id": {"S": "01X"}}})
    sqs.dead_letters.park("CrmSyncDLQ", {"DDBStreamBatchInfo": {"shardId": "s1"}})

    first = queue.receive(10, visibility_s=30)
    assert first[0].message_id == sent
    assert [m.json() for m in first] == [
        {"source": "CrmSyncFunction", "keys": {"lead_id": {"S": "01X"}}},
        {"DDBStreamBatchInfo": {"shardId": "s1"}},
    ]
    assert queue.receive(10) == []  # hidden while being worked on
    assert queue.depth() == 2
    queue.delete(first[0])
    sqs.clock.now += 31  # the other one's visibility timeout passed: it is back
    [again] = queue.receive(10)
    assert again.message_id == first[1].message_id
    assert again.receipt_handle != first[1].receipt_handle
    assert httpx.get(f"{sqs.gateway}/_local/dlq").json() == {
        "CrmSyncDLQ": [{"DDBStreamBatchInfo": {"shardId": "s1"}}]
    }
    queue.delete(again)
    assert queue.depth() == 0 and httpx.get(f"{sqs.gateway}/_local/dlq").json() == {}


def test_unknown_queues_receipts_and_operations_are_sqs_errors(sqs: Sqs) -> None:
    with pytest.raises(ClientError) as missing:
        sqs.queue("Nope").send({"a": 1})
    assert missing.value.response["Error"]["QueryErrorCode"] == "QueueDoesNotExist"
    client = boto3.client("sqs", region_name="us-east-1", endpoint_url=sqs.url)
    url = queue_url(sqs.url, "ScoreUpdateDLQ")
    assert client.get_queue_url(QueueName="ScoreUpdateDLQ")["QueueUrl"] == url
    with pytest.raises(ClientError) as receipt:
        client.delete_message(QueueUrl=url, ReceiptHandle="made-up")
    assert receipt.value.response["Error"]["QueryErrorCode"] == "ReceiptHandleIsInvalid"
    with pytest.raises(ClientError):
        client.receive_message(QueueUrl=url, MaxNumberOfMessages=11)
    client.send_message(QueueUrl=url, MessageBody="not json")
    assert httpx.get(f"{sqs.gateway}/_local/dlq").json() == {"ScoreUpdateDLQ": ["not json"]}
    client.purge_queue(QueueUrl=url)
    assert client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"] == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
        "ApproximateNumberOfMessagesDelayed": "0",
    }
