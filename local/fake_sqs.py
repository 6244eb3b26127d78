"""The local stack's dead-letter queues as Amazon SQS, in its JSON wire protocol (boto3's).

boto3 pointed at `<gateway>/_local/sqs` (`endpoint_url`) with a queue URL
`<gateway>/_local/sqs/000000000000/<QueueLogicalId>` talks to it as to SQS: SendMessage,
ReceiveMessage (visibility timeout, no long polling), DeleteMessage, GetQueueAttributes
(ApproximateNumberOfMessages, …NotVisible), GetQueueUrl and PurgeQueue. The messages are those of
the stream pollers' DeadLetters, so what Lambda parks (OnFailure) and what a function sends
itself land in one queue, shown by GET /_local/dlq. Queues are the template's AWS::SQS::Queue
resources; any other is SQS's QueueDoesNotExist.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from local.gateway import ACCOUNT_ID, LocalEndpoint, LocalRequest, LocalResponse
from local.streams import DeadLetters

CONTENT_TYPE = "application/x-amz-json-1.0"
MAX_BODY_BYTES = 262_144


class _SqsError(Exception):
    def __init__(self, code: str, query_code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.query_code, self.message, self.status = code, query_code, message, status


def _no_queue() -> _SqsError:
    return _SqsError(
        "QueueDoesNotExist",
        "AWS.SimpleQueueService.NonExistentQueue",
        "The specified queue does not exist.",
    )


def _invalid(message: str) -> _SqsError:
    return _SqsError("InvalidParameterValue", "InvalidParameterValue", message)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def queue_url(base: str, name: str) -> str:
    """The URL of a local queue, `base` being the endpoint (`<gateway>/_local/sqs`)."""
    return f"{base.rstrip('/')}/{ACCOUNT_ID}/{name}"


def sqs_endpoint(dead_letters: DeadLetters, queues: Iterable[str]) -> LocalEndpoint:
    """`/_local/sqs`: the SQS JSON protocol over `dead_letters`' destinations named `queues`."""
    known = frozenset(queues)
    base = ""  # the gateway's address, as the first request names it

    def queue_of(params: dict[str, Any]) -> str:
        url = params.get("QueueUrl")
        if not isinstance(url, str) or not url:
            raise _SqsError("MissingParameter", "MissingParameter", "QueueUrl is required")
        name = url.rstrip("/").rsplit("/", 1)[-1]
        if name not in known:
            raise _no_queue()
        return name

    def int_param(params: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
        value = params.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _invalid(f"Value {value!r} for parameter {key} is invalid.")
        return value

    def answer(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation == "GetQueueUrl":
            name = params.get("QueueName")
            if name not in known:
                raise _no_queue()
            return {"QueueUrl": queue_url(base, str(name))}
        if operation == "ListQueues":
            return {"QueueUrls": [queue_url(base, name) for name in sorted(known)]}
        name = queue_of(params)
        if operation == "SendMessage":
            text = params.get("MessageBody")
            if not isinstance(text, str) or not text:
                raise _invalid("The request must contain the parameter MessageBody.")
            if len(text.encode()) > MAX_BODY_BYTES:
                raise _invalid("One or more parameters are invalid: the message is too long.")
            message_id = dead_letters.send(name, text)
            return {"MessageId": message_id, "MD5OfMessageBody": _md5(text)}
        if operation == "ReceiveMessage":
            count = int_param(params, "MaxNumberOfMessages", 1, 1, 10)
            visibility = int_param(params, "VisibilityTimeout", 30, 0, 43_200)
            taken = dead_letters.receive(name, count, visibility)
            return {
                "Messages": [
                    {
                        "MessageId": mid,
                        "ReceiptHandle": receipt,
                        "MD5OfBody": _md5(text),
                        "Body": text,
                    }
                    for mid, receipt, text in taken
                ]
            }
        if operation == "DeleteMessage":
            receipt = params.get("ReceiptHandle")
            if not isinstance(receipt, str) or not dead_letters.delete(name, receipt):
                raise _SqsError(
                    "ReceiptHandleIsInvalid",
                    "ReceiptHandleIsInvalid",
                    "The input receipt handle is invalid.",
                )
            return {}
        if operation == "GetQueueAttributes":
            visible, hidden = dead_letters.counts(name)
            values = {
                "ApproximateNumberOfMessages": str(visible),
                "ApproximateNumberOfMessagesNotVisible": str(hidden),
                "ApproximateNumberOfMessagesDelayed": "0",
            }
            wanted = params.get("AttributeNames") or []
            if "All" not in wanted:
                values = {k: v for k, v in values.items() if k in wanted}
            return {"Attributes": values}
        if operation == "PurgeQueue":
            dead_letters.clear(name)
            return {}
        raise _SqsError(
            "InvalidAction",
            "InvalidAction",
            f"The action {operation} is not valid for this endpoint.",
        )

    def serve(request: LocalRequest) -> LocalResponse:
        nonlocal base
        base = base or f"http://{request.headers.get('host', '127.0.0.1')}/_local/sqs"
        if request.method != "POST":
            return LocalResponse(405, allow="POST")
        target = request.headers.get("x-amz-target", "")
        service, _, operation = target.partition(".")
        try:
            if service != "AmazonSQS" or not operation:
                raise _SqsError("InvalidAction", "InvalidAction", "X-Amz-Target is missing.")
            try:
                params = json.loads(request.body or b"{}")
            except ValueError:
                raise _SqsError(
                    "SerializationException", "InvalidParameterValue", "Bad JSON"
                ) from None
            if not isinstance(params, dict):
                raise _invalid("The request body must be a JSON object.")
            body = answer(operation, params)
        except _SqsError as exc:
            error = {"__type": f"com.amazonaws.sqs#{exc.code}", "message": exc.message}
            return LocalResponse(
                exc.status,
                raw=json.dumps(error).encode(),
                content_type=CONTENT_TYPE,
                headers=(("x-amzn-query-error", f"{exc.query_code};Sender"),),
            )
        return LocalResponse(200, raw=json.dumps(body).encode(), content_type=CONTENT_TYPE)

    return serve
