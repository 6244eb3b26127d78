"""The Leads and Deals streams → each agency's Airtable CRM (leadbot.services.crm_sync)."""

from leadbot.startup import frozen_imports

with frozen_imports():  # the cold start's imports: see leadbot.startup
    from typing import Any

    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from leadbot.services.batches import stream_batch
    from leadbot.services.crm_sync import CrmSyncFailed, sync_stream_batch


logger = Logger()
metrics = Metrics(namespace="LeadBot")


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The batch is written at once (per agency, 10 records a call); then each record Airtable
    # could not take now fails alone, so Lambda retries from it and then parks it.
    outcome = sync_stream_batch(event.get("Records", []))
    metrics.add_metric(name="CrmSyncWrites", unit=MetricUnit.Count, value=outcome.written)
    metrics.add_metric(name="CrmSyncFailures", unit=MetricUnit.Count, value=len(outcome.failed))
    metrics.add_metric(name="CrmSyncRejected", unit=MetricUnit.Count, value=outcome.rejected)
    logger.info("crm sync", extra=outcome.as_dict())

    def record_handler(record: DynamoDBRecord) -> None:
        sequence = record.dynamodb.sequence_number if record.dynamodb else None
        if sequence in outcome.failed:
            raise CrmSyncFailed(f"record {sequence} is to be written again")

    return stream_batch(event, record_handler, context)
