"""The API function's routes: Powertools Routers per resource, errors mapped in one place."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

OPENAPI_TITLE = "LeadBot dashboard API"
OPENAPI_VERSION = "1.0.0"


@cache
def app() -> APIGatewayRestResolver:
    """The resolver with every router; built once per warm Lambda."""
    from leadbot.api import brokers, catalog, deals, errors, leads

    resolver = APIGatewayRestResolver(enable_validation=True)
    resolver.include_router(catalog.router)
    resolver.include_router(leads.router, prefix="/api/leads")
    resolver.include_router(brokers.router, prefix="/api/brokers")
    resolver.include_router(deals.router, prefix="/api/deals")
    errors.register(resolver)

    @resolver.get("/api/openapi.json", include_in_schema=False)
    def openapi() -> Response[str]:
        return Response(200, "application/json", openapi_json(resolver))

    return resolver


def openapi_json(resolver: APIGatewayRestResolver | None = None) -> str:
    """The OpenAPI document of the dashboard API (committed as openapi.json)."""
    schema = (resolver or app()).get_openapi_json_schema(
        title=OPENAPI_TITLE, version=OPENAPI_VERSION
    )
    data: dict[str, Any] = json.loads(schema)
    return json.dumps(data, indent=2, sort_keys=True) + "\n"
