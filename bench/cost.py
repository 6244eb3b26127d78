"""`make bench` section 11: what 1,000 conversations cost in AWS, from what this run measures.

A conversation is a lead's whole Telegram journey (QR `/start`, the eight qualifying answers,
the phone with its Hot Lead Alert, one question about the brochure, 11 messages) through the
webhook in-process against DynamoDB Local, then the Leads stream it wrote through
`score_update` as Lambda would deliver it. Measured here: handler milliseconds (Lambda GB-s),
DynamoDB capacity units as DynamoDB reports them (every request asked for
ReturnConsumedCapacity=INDEXES, so index writes count), webhook calls (API Gateway requests),
the bytes the conversation leaves stored, and the tokens of grounded answers through the real
OpenAI SDK against the local fake (its tokens are words and marks, close to but not OpenAI's
tokenizer). Prices are the list prices below (us-east-1, on-demand); change them here.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient

# USD list prices (us-east-1). Lambda x86 per GB-second and per request; DynamoDB on-demand per
# write / read request unit and per GB-month stored; API Gateway REST API per request (first
# 333 M a month); gpt-4o-mini per input / output token; CloudWatch Logs ingestion per GB.
PRICES = {
    "lambda_gb_s": 0.0000166667,
    "lambda_request": 0.20 / 1e6,
    "ddb_wru": 0.625 / 1e6,
    "ddb_rru": 0.125 / 1e6,
    "ddb_gb_month": 0.25,
    "apigw_request": 3.50 / 1e6,
    "llm_input_token": 0.15 / 1e6,
    "llm_output_token": 0.60 / 1e6,
    "logs_gb": 0.50,
}
CONVERSATIONS = 40
WEBHOOK_MB = 512  # template.yaml Globals.Function.MemorySize
LOG_BYTES_PER_INVOCATION = 1_500  # Powertools' lines per message (START/END/REPORT included)
QUESTION = "Is there a payment plan?"

_CAPACITY_OPS = {
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactGetItems",
    "TransactWriteItems",
}
_WRITE_OPS = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


@dataclass
class Capacity:
    read_units: float = 0.0
    write_units: float = 0.0
    requests: Counter[str] = field(default_factory=Counter)


_original = BaseClient._make_api_call  # type: ignore[attr-defined]


@contextmanager
def measured() -> Iterator[Capacity]:
    """Every DynamoDB request in the block asks DynamoDB what it consumed; summed here."""
    capacity = Capacity()

    def call(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name != "dynamodb" or operation not in _CAPACITY_OPS:
            return _original(self, operation, params)
        capacity.requests[operation] += 1
        response = _original(self, operation, {**params, "ReturnConsumedCapacity": "INDEXES"})
        consumed = response.get("ConsumedCapacity") or []
        units = sum(
            c.get("CapacityUnits", 0.0)
            for c in (consumed if isinstance(consumed, list) else [consumed])
        )
        if operation in _WRITE_OPS:
            capacity.write_units += units
        else:
            capacity.read_units += units
        return response

    BaseClient._make_api_call = call  # type: ignore[attr-defined]
    try:
        yield capacity
    finally:
        BaseClient._make_api_call = _original  # type: ignore[attr-defined]


def journey(
    chat: int, message: Callable[..., dict[str, Any]], press: Callable[[int, str], dict[str, Any]]
) -> list[dict[str, Any]]:
    return [
        message(chat, text="/start qr_expo"),
        press(chat, "goal:buy"),
        message(chat, text="2.5M AED"),
        press(chat, "property_type:apartment"),
        message(chat, text="Dubai Marina"),
        press(chat, "timeline:3m"),
        press(chat, "bedrooms:2"),
        press(chat, "payment:cash"),
        message(chat, contact={"phone_number": f"+97150{chat % 10_000_000:07d}", "user_id": chat}),
        message(chat, text=QUESTION),
        message(chat, text="thanks!"),
    ]


def stored_bytes(client: Any, table: str, key: dict[str, Any]) -> int:
    """DynamoDB's size of an item: attribute names plus values, as it bills storage."""
    item = client.get_item(TableName=table, Key=key)["Item"]
    return _size(item)


def _size(item: dict[str, Any]) -> int:
    total = 0
    for name, value in item.items():
        total += len(name.encode()) + _value_size(value)
    return total


def _value_size(value: dict[str, Any]) -> int:
    (kind, v), *_ = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        return len(v) // 2 + 2
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in v)
    if kind == "L":
        return 3 + sum(_value_size(x) + 1 for x in v)
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_size(x) + 1 for k, x in v.items())
    return len(str(v))


def grounded_tokens() -> tuple[float, float]:
    """Prompt and completion tokens of one grounded answer to QUESTION over the sample
    brochure, through the product's OpenAI adapter and the local fake OpenAI API."""
    from bench.knowledge_eval import fake_openai_model, sample_index
    from leadbot.knowledge.answer import grounded_answer
    from leadbot.knowledge.retrieve import retrieve

    index = sample_index()
    with fake_openai_model() as model:
        grounded = grounded_answer(QUESTION, retrieve(QUESTION, index, ()), model)
    assert grounded.completion is not None, "the fake model was not called"
    return grounded.completion.prompt_tokens, grounded.completion.completion_tokens


def per_thousand(figures: dict[str, float]) -> list[tuple[str, str, float]]:
    """(item, the quantity per 1,000 conversations, USD) from the per-conversation figures."""
    k = 1000
    p = PRICES
    rows = [
        (
            "Lambda: webhook",
            f"{figures['messages'] * k:,.0f} invocations, {figures['webhook_gb_s'] * k:,.1f} GB-s",
            figures["messages"] * k * p["lambda_request"]
            + figures["webhook_gb_s"] * k * p["lambda_gb_s"],
        ),
        (
            "Lambda: score_update",
            f"{figures['score_invocations'] * k:,.1f} invocations, "
            f"{figures['score_gb_s'] * k:,.1f} GB-s",
            figures["score_invocations"] * k * p["lambda_request"]
            + figures["score_gb_s"] * k * p["lambda_gb_s"],
        ),
        (
            "DynamoDB writes",
            f"{figures['write_units'] * k:,.0f} WRU",
            figures["write_units"] * k * p["ddb_wru"],
        ),
        (
            "DynamoDB reads",
            f"{figures['read_units'] * k:,.0f} RRU",
            figures["read_units"] * k * p["ddb_rru"],
        ),
        (
            "DynamoDB storage (a month)",
            f"{figures['stored_bytes'] * k / 1e6:,.2f} MB",
            figures["stored_bytes"] * k / 1e9 * p["ddb_gb_month"],
        ),
        (
            "API Gateway",
            f"{figures['messages'] * k:,.0f} requests",
            figures["messages"] * k * p["apigw_request"],
        ),
        (
            "OpenAI (gpt-4o-mini)",
            f"{figures['prompt_tokens'] * k:,.0f} in + "
            f"{figures['completion_tokens'] * k:,.0f} out tokens",
            figures["prompt_tokens"] * k * p["llm_input_token"]
            + figures["completion_tokens"] * k * p["llm_output_token"],
        ),
        (
            "CloudWatch Logs",
            f"{figures['log_bytes'] * k / 1e6:,.1f} MB",
            figures["log_bytes"] * k / 1e9 * p["logs_gb"],
        ),
    ]
    return rows


def conversation_figures(
    handler: Callable[..., Any],
    score_update: Callable[..., Any],
    reader: Any,
    stack: Any,
    apigw: Callable[[dict[str, Any]], dict[str, Any]],
    context: Callable[[], Any],
    message: Callable[..., dict[str, Any]],
    press: Callable[[int, str], dict[str, Any]],
    score_context: Any,
) -> dict[str, float]:
    """Per conversation, averaged over CONVERSATIONS of them."""
    import boto3

    chats = range(650_000_000, 650_000_000 + CONVERSATIONS)
    durations: list[float] = []
    messages = 0
    with measured() as webhook:
        for chat in chats:
            for update in journey(chat, message, press):
                started = time.perf_counter()
                assert handler(apigw(update), context())["statusCode"] == 200
                durations.append(time.perf_counter() - started)
                messages += 1
    records = reader.take_all()
    score_seconds = 0.0
    batches = 0
    with measured() as scoring:
        for start in range(0, len(records), 100):
            started = time.perf_counter()
            response = score_update({"Records": records[start : start + 100]}, score_context)
            score_seconds += time.perf_counter() - started
            assert response == {"batchItemFailures": []}, response
            batches += 1

    client = boto3.client("dynamodb", endpoint_url=stack.ddb.endpoint)
    leads_table, timeline_table = stack.names["LeadsTable"], stack.names["TimelineTable"]
    from leadbot.domain import Channel
    from leadbot.services.runtime import repositories

    identities = repositories().identities
    stored = 0
    for chat in chats:
        key = identities.key("demo", Channel.TELEGRAM, str(chat))
        lead_id = identities.lead_id(key, consistent=True)
        assert lead_id is not None
        stored += stored_bytes(
            client, leads_table, {"tenant_id": {"S": "demo"}, "lead_id": {"S": lead_id}}
        )
        pages = client.get_paginator("query").paginate(
            TableName=timeline_table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"demo#{lead_id}"}},
        )
        stored += sum(_size(item) for page in pages for item in page["Items"])
    prompt, completion = grounded_tokens()
    n = CONVERSATIONS
    return {
        "messages": messages / n,
        "webhook_ms_p50": statistics.median(durations) * 1000,
        "webhook_gb_s": sum(durations) / n * WEBHOOK_MB / 1024,
        "score_records": len(records) / n,
        "score_invocations": batches / n,
        "score_gb_s": score_seconds / n * WEBHOOK_MB / 1024,
        "write_units": (webhook.write_units + scoring.write_units) / n,
        "read_units": (webhook.read_units + scoring.read_units) / n,
        "webhook_requests": sum(webhook.requests.values()) / n,
        "score_requests": sum(scoring.requests.values()) / n,
        "stored_bytes": stored / n,
        "prompt_tokens": prompt,  # one question per conversation
        "completion_tokens": completion,
        "log_bytes": LOG_BYTES_PER_INVOCATION * (messages + batches) / n,
    }
