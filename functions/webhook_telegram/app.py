"""POST /telegram/{tenant_id}: Telegram's webhook for one agency's bot (DESIGN.md §5)."""

from leadbot.startup import frozen_imports

with frozen_imports():  # the cold start's imports: see leadbot.startup
    import json
    import warnings
    from typing import Any

    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from leadbot.services.errors import WebhookRejected
    from leadbot.services.telegram import WEBHOOK_ANSWER, accept_update, process_update


logger = Logger()
# The services record their counts (leadbot.metrics); this flushes them once per invocation.
metrics = Metrics(namespace="LeadBot")
# A request that changed nothing countable publishes no metrics: that is normal, not a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    tenant_id = (event.get("pathParameters") or {}).get("tenant_id", "")
    logger.append_keys(tenant_id=tenant_id)
    try:
        tenant, update = accept_update(
            tenant_id, event.get("headers"), event.get("body"), bool(event.get("isBase64Encoded"))
        )
        logger.append_keys(update_id=update["update_id"])
        outcome = process_update(tenant, update, context, event.get("requestContext"))
    except WebhookRejected as exc:
        logger.warning("webhook rejected", extra={"status": exc.status, "reason": str(exc)})
        return _response(exc.status, {"ok": False, "error": str(exc)})
    answer = outcome.pop(WEBHOOK_ANSWER, None)
    logger.info("update handled", extra=outcome)
    # Telegram runs a Bot API method the webhook answers with (a pressed button's answer).
    return _response(200, answer or {"ok": True})


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }
