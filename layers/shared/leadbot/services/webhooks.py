"""What the channel webhooks share: reading the raw body, and running each inbound event once."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from leadbot.config import settings
from leadbot.domain import InboundEvent, LeadConflict
from leadbot.services.errors import BadRequest, PayloadTooLarge, RetryLater
from leadbot.services.inbound import timeline_in_background
from leadbot.services.runtime import dynamodb_client

MAX_BODY_BYTES = 1024 * 1024  # both channels send a few kilobytes; more is not theirs

Process = Callable[..., dict[str, Any]]


def raw_body(body: str | None, base64_encoded: bool) -> bytes:
    """The request body as sent: BadRequest (400) if absent or bad base64, 413 over 1 MB."""
    if body is None:
        raise BadRequest("empty body")
    if not base64_encoded:
        raw = body.encode()
    else:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("body is not valid base64") from None
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge("body over 1 MB")
    return raw


def header(headers: Mapping[str, str] | None, name: str) -> str:
    """A header's value whatever its case (API Gateway keeps the sender's), "" if absent."""
    wanted = name.lower()
    return next((v for k, v in (headers or {}).items() if k.lower() == wanted), "")


def run_once(
    process: Process, event: InboundEvent, lambda_context: Any = None, **kwargs: Any
) -> dict[str, Any]:
    """`process(event=event, **kwargs)` once per (tenant, channel, event id): a redelivery
    answers what the first run returned, without running it again (Powertools idempotency).

    RetryLater (503) while the same event is being processed elsewhere, or when the lead kept
    conflicting: nothing was sent then, and the channel's redelivery is safe.
    """
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
    )

    once, config = _idempotent(process)
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)
    try:
        with timeline_in_background():  # the Timeline write overlaps Powertools' completion
            result: dict[str, Any] = once(event=event, **kwargs)
    except IdempotencyAlreadyInProgressError:
        raise RetryLater(f"{event.channel} event {event.event_id} is being processed") from None
    except LeadConflict:
        raise RetryLater(f"{event.channel} event {event.event_id} kept conflicting") from None
    return result


@cache
def _idempotent(process: Process) -> tuple[Process, Any]:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    s = settings()
    store = DynamoDBPersistenceLayer(table_name=s.idempotency_table, boto3_client=dynamodb_client())
    config = IdempotencyConfig(
        event_key_jmespath="[tenant_id, channel, event_id]",
        expires_after_seconds=s.idempotency_seconds,
    )
    once = idempotent_function(
        data_keyword_argument="event", persistence_store=store, config=config
    )(process)
    return once, config


def reset() -> None:
    _idempotent.cache_clear()
