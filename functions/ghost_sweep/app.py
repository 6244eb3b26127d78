"""EventBridge rate(30 minutes) → follow-ups (ghost check-ins, campaign steps), each at most
once; rate(1 minute) → unclaimed handoffs past their SLA alerted again; the Properties stream →
a listing added goes to the leads it matches, once each."""

from leadbot.startup import frozen_imports

with frozen_imports():  # the cold start's imports: see leadbot.startup
    import warnings
    from typing import Any

    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from leadbot.domain.followups import Held
    from leadbot.services.batches import stream_batch
    from leadbot.services.followups import GhostOutcome, ghost_sweep_now
    from leadbot.services.matches import announce_record


logger = Logger()
metrics = Metrics(namespace="LeadBot")
# A request that changed nothing countable publishes no metrics: that is normal, not a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:  # the Properties stream: listings added
        return new_listings(event, context)
    if event.get("sweep") == "handoffs":  # every minute: unclaimed handoffs past their SLA
        handoffs = ghost_sweep_now(context.get_remaining_time_in_millis, only=Held.HANDOFF)
        logger.info("handoff sweep", extra=handoffs.as_dict())
        return handoffs.as_dict()
    report = ghost_sweep_now(context.get_remaining_time_in_millis)
    # Every outcome every run, zeros included: a graph or alarm never mistakes quiet for broken.
    for outcome in GhostOutcome:
        name = f"GhostFollowups{outcome.value.capitalize()}"
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=report.outcomes[outcome])
    summary = report.as_dict()
    logger.info("ghost sweep", extra=summary)
    return summary


def new_listings(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    def record_handler(record: DynamoDBRecord) -> dict[str, Any] | None:
        report = announce_record(record, context.get_remaining_time_in_millis)
        if report is None:
            return None
        metrics.add_metric(
            name="ListingMatchesSent",
            unit=MetricUnit.Count,
            value=report.outcomes[GhostOutcome.SENT],
        )
        return report.as_dict()

    # A listing with leads left to tell fails alone: Lambda delivers it again, then the DLQ.
    return stream_batch(event, record_handler, context)
