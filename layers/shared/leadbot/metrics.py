"""The product's CloudWatch metrics: their namespace and names, and recording one.

Every function publishes through Powertools Metrics (EMF log lines, no API calls). Powertools
shares one metric set among all its `Metrics` instances of a process, so a count recorded
here goes out with the invoking function's `@metrics.log_metrics` flush, under the
`service` dimension (POWERTOOLS_SERVICE_NAME). Counts with dimensions of their own (channel
errors by channel and code) are published at once, one EMF line each: they are rare, and
their dimensions must not reach the function's other metrics. template.yaml's alarms and
dashboard name these metrics; tests/unit/test_metrics.py keeps the two in step.

Powertools' metrics module loads on the first count, never on a cold start that records none.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics

NAMESPACE = "LeadBot"


class Metric(StrEnum):
    """The application's metrics (besides the ghost sweep's GhostFollowups<Outcome>,
    ListingMatchesSent and the CRM sync's CrmSync*, which their functions record)."""

    LEADS_CREATED = "LeadsCreated"  # a first message, a lead added by hand or imported
    LEADS_QUALIFIED = "LeadsQualified"  # every qualifying question answered, once per lead
    HOT_LEAD_ALERTS = "HotLeadAlerts"  # admins alerted: a phone left, or a lead turned burning
    LLM_CALLS = "LlmCalls"  # requests to the model (chat and transcription)
    LLM_ERRORS = "LlmErrors"  # of those, the ones that failed (timeouts, HTTP errors, no key)
    LLM_TOKENS = "LlmTokens"  # prompt + completion tokens of chat answers
    CHANNEL_ERRORS = "ChannelErrors"  # outbound messages a channel refused (by channel, code)


def _metrics() -> Metrics:
    from aws_lambda_powertools import Metrics

    # Cheap: instances share their metric set; the namespace is the one every function uses.
    return Metrics(namespace=NAMESPACE)


def count(metric: Metric, value: float = 1) -> None:
    """Add `value` to `metric` in the function's metric set (published at its flush)."""
    _metrics().add_metric(name=metric.value, unit="Count", value=value)


def channel_error(channel: str, code: int | None) -> None:
    """One outbound message refused by `channel` with its error `code` (none: a network
    failure or an answer the client could not read), as ChannelErrors{channel, code}."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    with single_metric(
        name=Metric.CHANNEL_ERRORS.value, unit=MetricUnit.Count, value=1, namespace=NAMESPACE
    ) as metric:
        metric.add_dimension(name="channel", value=channel)
        metric.add_dimension(name="code", value=str(code) if code is not None else "none")
