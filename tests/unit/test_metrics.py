"""The product's metrics as CloudWatch receives them (EMF lines): channel errors by channel and
code, the model's calls, errors and tokens; and the template's alarms and dashboard name only
metrics the code records."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from aws_lambda_powertools import Metrics

from leadbot.channels.telegram import TelegramClient
from leadbot.channels.whatsapp import WhatsAppClient
from leadbot.domain import DeliveryStatus, Outbound
from leadbot.integrations.llm import LLMError
from leadbot.integrations.openai_adapter import OpenAIChat, OpenAIConnection
from leadbot.metrics import NAMESPACE, Metric, count
from local.fake_telegram import FakeTelegram
from local.fake_whatsapp import FakeWhatsApp
from local.template import load_template
from tests.support import fake_transport

CHAT = "700000001"
NUMBER = "100000000000001"
WA_TOKEN = "demo-whatsapp-access-token"
# Recorded by the functions themselves (functions/ghost_sweep, functions/crm_sync).
RECORDED_BY_FUNCTIONS = {
    "GhostFollowupsSent",
    "GhostFollowupsFailed",
    "GhostFollowupsBlocked",
    "GhostFollowupsSkipped",
    "ListingMatchesSent",
    "CrmSyncWrites",
    "CrmSyncFailures",
    "CrmSyncRejected",
    "BrochureUploadsRead",
    "BrochureUploadsUnchanged",
    "BrochureUploadsUnreadable",
    "BrochureUploadsIgnored",
}


@pytest.fixture(autouse=True)
def _service(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "leadbot")
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    # Powertools keeps one metric set per process: start from nothing, leave nothing.
    Metrics(namespace=NAMESPACE).clear_metrics()
    yield
    Metrics(namespace=NAMESPACE).clear_metrics()


def _published(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """What a function's flush would publish now, with what was already printed: EMF lines."""
    Metrics(namespace=NAMESPACE).flush_metrics()
    lines = capsys.readouterr().out.splitlines()
    return [json.loads(line) for line in lines if line.startswith('{"_aws"')]


def _dimensions(blob: dict[str, Any]) -> dict[str, str]:
    (directive,) = blob["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == NAMESPACE
    (names,) = directive["Dimensions"]
    return {name: blob[name] for name in names}


def _total(blobs: list[dict[str, Any]], name: str) -> float:
    return sum(sum(blob[name]) for blob in blobs if name in blob)


# --- channel errors -------------------------------------------------------------------------


def _telegram(handler: FakeTelegram | Callable[[httpx.Request], httpx.Response]) -> TelegramClient:
    transport = (
        fake_transport(handler)
        if isinstance(handler, FakeTelegram)
        else httpx.MockTransport(handler)
    )
    return TelegramClient("123:abc", http=httpx.Client(transport=transport), sleep=lambda s: None)


def test_a_refused_telegram_message_is_a_channel_error_by_its_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake = FakeTelegram()
    fake.fail_next(CHAT, 403, "Forbidden: bot was blocked by the user")
    client = _telegram(fake)
    assert client.send(CHAT, Outbound(text="Hi")).status is DeliveryStatus.BLOCKED
    assert client.send(CHAT, Outbound(text="Hi")).status is DeliveryStatus.SENT
    errors = [b for b in _published(capsys) if Metric.CHANNEL_ERRORS in b]
    assert [(_dimensions(b), b["ChannelErrors"]) for b in errors] == [
        ({"channel": "telegram", "code": "403", "service": "leadbot"}, [1.0])
    ]


def test_a_network_failure_is_a_channel_error_without_a_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    assert _telegram(unreachable).send(CHAT, Outbound(text="Hi")).status is DeliveryStatus.FAILED
    (error,) = [b for b in _published(capsys) if Metric.CHANNEL_ERRORS in b]
    assert _dimensions(error)["code"] == "none"


def test_a_whatsapp_refusal_is_a_channel_error_by_graphs_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake = FakeWhatsApp({NUMBER: WA_TOKEN})

    def graph(request: httpx.Request) -> httpx.Response:
        _, version, number, _ = request.url.path.split("/")
        status, body = fake.handle(
            version, number, request.headers.get("Authorization"), json.loads(request.content)
        )
        return httpx.Response(status, json=body)

    fake.fail_next("971501234567", 131047, "(131047) Re-engagement message")
    with httpx.Client(transport=httpx.MockTransport(graph)) as http:
        delivery = WhatsAppClient(NUMBER, WA_TOKEN, http=http).send(
            "971501234567", Outbound(text="Still looking?")
        )
    assert delivery.status is DeliveryStatus.FAILED
    (error,) = [b for b in _published(capsys) if Metric.CHANNEL_ERRORS in b]
    assert _dimensions(error) == {"channel": "whatsapp", "code": "131047", "service": "leadbot"}


# --- the model ------------------------------------------------------------------------------


def _chat(answer: Callable[[httpx.Request], httpx.Response]) -> OpenAIChat:
    http = httpx.Client(transport=httpx.MockTransport(answer))
    connection = OpenAIConnection(lambda: "sk-test", base_url="https://openai.test/v1", http=http)
    return OpenAIChat(connection, model="gpt-4o-mini", max_tokens=300)


def _completion(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1_796_000_000,
            "model": "gpt-4o-mini",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Handover is Q4 2026 [p.3]."},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 120, "completion_tokens": 9, "total_tokens": 129},
        },
    )


def _outage(request: httpx.Request) -> httpx.Response:
    error = {"message": "The server had an error", "type": "server_error", "param": None}
    return httpx.Response(500, json={"error": {**error, "code": None}})


def test_each_model_call_counts_and_its_tokens_too(capsys: pytest.CaptureFixture[str]) -> None:
    chat = _chat(_completion)
    for _ in range(2):
        chat.complete("system", "When is handover?", timeout_s=2)
    blobs = _published(capsys)
    assert _total(blobs, Metric.LLM_CALLS) == 2
    assert _total(blobs, Metric.LLM_ERRORS) == 0
    assert _total(blobs, Metric.LLM_TOKENS) == 2 * 129
    (blob,) = blobs
    assert _dimensions(blob) == {"service": "leadbot"}  # what the error-rate alarm reads


def test_a_failed_model_call_counts_as_an_error_of_a_call(
    capsys: pytest.CaptureFixture[str],
) -> None:
    chat = _chat(_outage)
    with pytest.raises(LLMError):
        chat.complete("system", "When is handover?", timeout_s=2)
    chat = _chat(_completion)
    chat.complete("system", "When is handover?", timeout_s=2)
    blobs = _published(capsys)
    assert (_total(blobs, Metric.LLM_CALLS), _total(blobs, Metric.LLM_ERRORS)) == (2, 1)
    assert _total(blobs, Metric.LLM_TOKENS) == 129


def test_no_key_is_an_error_of_a_call(capsys: pytest.CaptureFixture[str]) -> None:
    http = httpx.Client(transport=httpx.MockTransport(_completion))
    chat = OpenAIChat(OpenAIConnection(lambda: "", http=http), model="m", max_tokens=10)
    with pytest.raises(LLMError):
        chat.complete("system", "question", timeout_s=1)
    blobs = _published(capsys)
    assert (_total(blobs, Metric.LLM_CALLS), _total(blobs, Metric.LLM_ERRORS)) == (1, 1)


def test_counts_go_out_with_the_functions_flush_under_the_namespace(
    capsys: pytest.CaptureFixture[str],
) -> None:
    count(Metric.LEADS_CREATED)
    count(Metric.LEADS_CREATED, 3)
    assert capsys.readouterr().out == ""  # nothing printed before the flush
    (blob,) = _published(capsys)
    assert blob["LeadsCreated"] == [1.0, 3.0]
    assert blob["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [
        {"Name": "LeadsCreated", "Unit": "Count"}
    ]


# --- the template names what the code records ------------------------------------------------


def _named_metrics(node: Any) -> Iterator[tuple[str, str]]:
    """(namespace, metric name) of every metric the template's alarms and dashboard name."""
    if isinstance(node, dict):
        if "MetricName" in node and "Namespace" in node:
            yield node["Namespace"], node["MetricName"]
        for value in node.values():
            yield from _named_metrics(value)
    elif isinstance(node, list):
        for value in node:
            yield from _named_metrics(value)


def _dashboard_metrics() -> set[str]:
    """Metric names of the LeadBot namespace on the dashboard: its metric rows, and the
    metrics its SEARCH expressions find."""
    body = load_template()["Resources"]["OpsDashboard"]["Properties"]["DashboardBody"]
    names = set()
    # The ${...} placeholders of its !Sub all sit inside JSON strings.
    for widget in json.loads(body["Fn::Sub"])["widgets"]:
        for row in widget["properties"].get("metrics", []):
            if row[0] == NAMESPACE:
                names.add(row[1])
            for part in row:
                if isinstance(part, dict) and "expression" in part:
                    names |= set(re.findall(r'MetricName="(\w+)"', part["expression"]))
    return names


def test_every_leadbot_metric_the_template_names_is_recorded_by_the_code() -> None:
    known = {m.value for m in Metric} | RECORDED_BY_FUNCTIONS
    named = {name for ns, name in _named_metrics(load_template()["Resources"]) if ns == NAMESPACE}
    assert {"LlmCalls", "LlmErrors"} <= named  # the LLM error-rate alarm
    assert named <= known
    dashboard = _dashboard_metrics()
    assert {"LeadsCreated", "LeadsQualified", "HotLeadAlerts", "LlmTokens"} <= dashboard
    assert {"GhostFollowupsSent", "GhostFollowupsFailed", "ChannelErrors"} <= dashboard
    assert dashboard <= known
