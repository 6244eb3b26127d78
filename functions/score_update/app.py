"""The Leads stream → rescoring (DESIGN.md §7); the hourly schedule → recency decay."""

from leadbot.startup import frozen_imports

with frozen_imports():  # the cold start's imports: see leadbot.startup
    import warnings
    from typing import Any

    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from leadbot.services.batches import stream_batch
    from leadbot.services.scores import decay_now, rescore_record


logger = Logger()
# The services record their counts (leadbot.metrics); this flushes them once per invocation.
metrics = Metrics(namespace="LeadBot")
# A request that changed nothing countable publishes no metrics: that is normal, not a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")


def record_handler(record: DynamoDBRecord) -> str:
    rescored = rescore_record(record)
    logger.debug("rescored", extra={"lead_id": rescored.lead_id, "outcome": rescored.outcome})
    return rescored.outcome.value


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("source") == "aws.events":  # the hourly EventBridge schedule
        report = decay_now(context.get_remaining_time_in_millis).as_dict()
        logger.info("decay run", extra=report)
        return report
    # One failing record fails alone: Lambda retries from it, then parks it in the DLQ.
    return stream_batch(event, record_handler, context)
