"""The API function: the dashboard's /api/* (Cognito-authorised) and tracked catalog links."""

from leadbot.startup import frozen_imports

with frozen_imports():  # the cold start's imports: see leadbot.startup
    import warnings
    from typing import Any

    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.logging import correlation_paths
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from leadbot.api import handle


logger = Logger()
# The services record their counts (leadbot.metrics); this flushes them once per invocation.
metrics = Metrics(namespace="LeadBot")
# A request that changed nothing countable publishes no metrics: that is normal, not a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")


@metrics.log_metrics
@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(event, context)
