"""An SQS queue of JSON messages (the dead-letter queues), through boto3, built on first use."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

# SQS's own limits: messages per receive, and the longest a message body may be.
MAX_RECEIVE = 10
MAX_BODY_BYTES = 262_144


@dataclass(frozen=True, slots=True)
class Message:
    message_id: str
    receipt_handle: str
    body: str

    def json(self) -> Any:
        """The body as JSON; None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class Queue:
    """One queue by its URL. `endpoint_url` is for the local stack's queues (its gateway)."""

    def __init__(self, url: str, *, region: str, endpoint_url: str | None = None) -> None:
        self.url = url
        self._region = region
        self._endpoint_url = endpoint_url
        self._lock = threading.Lock()
        self._client: SQSClient | None = None

    def client(self) -> SQSClient:
        with self._lock:
            if self._client is None:
                import boto3

                self._client = boto3.client(
                    "sqs", region_name=self._region, endpoint_url=self._endpoint_url
                )
            return self._client

    def send(self, body: Mapping[str, Any]) -> str:
        """Put a JSON message on the queue; its message id."""
        text = json.dumps(body, separators=(",", ":"), sort_keys=True)
        if len(text.encode()) > MAX_BODY_BYTES:
            raise ValueError(f"a message of {len(text.encode())} bytes is over SQS's limit")
        answer = self.client().send_message(QueueUrl=self.url, MessageBody=text)
        return str(answer["MessageId"])

    def receive(self, max_messages: int = MAX_RECEIVE, visibility_s: int = 60) -> list[Message]:
        """Up to `max_messages` visible messages, hidden from other receivers for `visibility_s`
        seconds unless deleted. No long polling: an empty answer means none is visible now."""
        answer = self.client().receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=max(1, min(max_messages, MAX_RECEIVE)),
            VisibilityTimeout=visibility_s,
            WaitTimeSeconds=0,
        )
        return [
            Message(m["MessageId"], m["ReceiptHandle"], m.get("Body", ""))
            for m in answer.get("Messages", [])
        ]

    def delete(self, message: Message) -> None:
        self.client().delete_message(QueueUrl=self.url, ReceiptHandle=message.receipt_handle)

    def depth(self) -> int:
        """Messages on the queue: visible ones and those received but not yet deleted."""
        answer = self.client().get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )
        attributes = answer.get("Attributes", {})
        visible = int(attributes.get("ApproximateNumberOfMessages", "0"))
        return visible + int(attributes.get("ApproximateNumberOfMessagesNotVisible", "0"))
