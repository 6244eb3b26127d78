"""What the webhook leaves in CloudWatch for a lead's whole journey: the product's metrics
once each (a lead created, qualified, its admins alerted), and log lines that carry neither
the lead's phone number nor the words they typed, even when Timeline is down and the log is
all that keeps them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools import Metrics

from leadbot.metrics import NAMESPACE
from leadbot.store import TimelineUnavailable
from tests.support import InProcessStack, Updates

PHONE = "+971 50 987 6543"
PHONE_DIGITS = ("509876543", "50 987 6543")
TYPED = ("2.5M AED", "Dubai Marina")  # what the lead typed (Updates.qualification)


class _Records(logging.Handler):
    """Every record of LeadBot's loggers, rendered with its extra keys as Powertools would."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        fields = {k: v for k, v in vars(record).items() if k not in ("args", "msg")}
        self.lines.append(record.getMessage() + " " + json.dumps(fields, default=str))


@pytest.fixture
def logged(stack: InProcessStack) -> Iterator[_Records]:
    """Everything logged at any level under "leadbot" (the functions' Powertools logger)."""
    stack.handler()  # loaded first: its Powertools Logger sets the level when made
    root = logging.getLogger("leadbot")
    handler, level = _Records(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture
def published(capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """The EMF lines the functions printed during the test, as dicts."""
    Metrics(namespace=NAMESPACE).clear_metrics()  # nothing left by tests before this one
    capsys.readouterr()

    def read() -> list[dict[str, Any]]:
        out = capsys.readouterr().out.splitlines()
        return [json.loads(line) for line in out if line.startswith('{"_aws"')]

    yield read
    Metrics(namespace=NAMESPACE).clear_metrics()


def _total(blobs: list[dict[str, Any]], name: str) -> float:
    return sum(sum(blob[name]) for blob in blobs if name in blob)


def test_a_journey_counts_each_milestone_once_and_logs_no_phone_or_words(
    stack: InProcessStack, logged: _Records, published: Any
) -> None:
    lead = Updates(700_000_901)
    for update in lead.qualification(phone=PHONE):
        assert stack.post(update)["statusCode"] == 200
    stack.post(lead.text("Is there a gym?"))

    blobs = published()
    assert all(b["_aws"]["CloudWatchMetrics"][0]["Namespace"] == NAMESPACE for b in blobs)
    counts = {n: _total(blobs, n) for n in ("LeadsCreated", "LeadsQualified", "HotLeadAlerts")}
    assert counts == {"LeadsCreated": 1, "LeadsQualified": 1, "HotLeadAlerts": 1}
    assert logged.lines  # the journey logged (handled updates, timings) ...
    for line in logged.lines:  # ... and none of it is the lead's
        assert not any(p in line for p in (*PHONE_DIGITS, *TYPED, "Is there a gym")), line


def test_when_timeline_is_down_the_log_keeps_its_entries_with_the_phone_masked(
    stack: InProcessStack, logged: _Records, published: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    lead = Updates(700_000_902)
    *before, contact = lead.qualification(phone=PHONE)
    for update in before:
        assert stack.post(update)["statusCode"] == 200

    def down(*args: Any, **kwargs: Any) -> None:
        raise TimelineUnavailable("ProvisionedThroughputExceededException")

    monkeypatch.setattr(type(stack.repos.timeline), "append_streams", down)
    assert stack.post(contact)["statusCode"] == 200

    (line,) = [line for line in logged.lines if line.startswith("timeline write failed")]
    assert "hot_lead_alert" in line and "[phone]" in line  # the entries are there ...
    assert not any(p in line for p in PHONE_DIGITS)  # ... the number is not
