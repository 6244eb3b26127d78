"""The API function: tracked catalog links (GET /c/{token}) now, the dashboard's /api/* later."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from leadbot.api import catalog

logger = Logger()
# Validation stays off while the only input is a path string its HMAC checks: the OpenAPI
# machinery (pydantic) would add ~100 ms to the cold start a lead waits through on a click.
# The dashboard's /api/* routes, with bodies to validate, turn it on.
app = APIGatewayRestResolver()
app.include_router(catalog.router)


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
