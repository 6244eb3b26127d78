"""EventBridge rate(30 minutes) → ghost follow-ups: each quiet lead's one check-in, at most once."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from leadbot.services.followups import GhostOutcome, ghost_sweep_now

logger = Logger()
metrics = Metrics(namespace="LeadBot")


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = ghost_sweep_now(context.get_remaining_time_in_millis)
    # Every outcome every run, zeros included: a graph or alarm never mistakes quiet for broken.
    for outcome in GhostOutcome:
        name = f"GhostFollowups{outcome.value.capitalize()}"
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=report.outcomes[outcome])
    summary = report.as_dict()
    logger.info("ghost sweep", extra=summary)
    return summary
