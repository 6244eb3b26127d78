"""A DynamoDB stream batch through Powertools' BatchProcessor: each failing record alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord


def stream_batch(
    event: dict[str, Any], record_handler: Callable[[DynamoDBRecord], Any], context: Any
) -> dict[str, Any]:
    """The batch's partial response: Lambda retries from the first failed record, then parks
    it in the DLQ. A processor per batch (it holds the batch's records), so concurrent batches
    in one process, as the local stack's stream pollers deliver them, never mix; a batch whose
    every record fails is reported record by record too, never raised."""
    processor = BatchProcessor(
        event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False
    )
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
