"""The API function's routes: Powertools Routers per resource, errors mapped in one place."""

from __future__ import annotations

import base64
import binascii
import json
import threading
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

OPENAPI_TITLE = "LeadBot dashboard API"
OPENAPI_VERSION = "1.0.0"
# Powertools keeps the request being resolved in a class attribute (BaseRouter.current_event):
# one event at a time per process, as Lambda hands them. The local stack calls the function
# from several threads at once; this keeps it to that (uncontended, and free, in Lambda).
_one_event_at_a_time = threading.Lock()


@cache
def app() -> APIGatewayRestResolver:
    """The resolver with every router; built once per warm Lambda."""
    from leadbot.api import (
        brokers,
        catalog,
        deals,
        errors,
        exports,
        knowledge,
        leads,
        properties,
        settings,
        stats,
    )

    # An answer that does not fit its own model is our bug: a 500, never the client's 400.
    resolver = APIGatewayRestResolver(
        enable_validation=True, response_validation_error_http_code=500
    )
    resolver.include_router(catalog.router)
    # Before /api/leads/<lead_id>, though Powertools tries literal paths first anyway.
    resolver.include_router(exports.router)
    resolver.include_router(leads.router, prefix="/api/leads")
    resolver.include_router(stats.router)
    resolver.include_router(brokers.router, prefix="/api/brokers")
    resolver.include_router(deals.router, prefix="/api/deals")
    resolver.include_router(settings.router, prefix="/api/settings")
    resolver.include_router(properties.router, prefix="/api/properties")
    resolver.include_router(knowledge.router, prefix="/api/knowledge")
    errors.register(resolver)

    @resolver.get("/api/openapi.json", include_in_schema=False)
    def openapi() -> Response[str]:
        return Response(200, "application/json", openapi_json(resolver))

    return resolver


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One API Gateway event. Bodies are JSON: another type is 415 and a body that is not
    JSON is 400 before validation tries to parse them (Powertools fails on a form body
    without a boundary, or bytes that are not UTF-8: the client's mistakes, never a 5xx)."""
    body = event.get("body")
    if body:
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        content_type = (headers.get("content-type") or "application/json").split(";")[0]
        if content_type.strip().lower() != "application/json":
            return _refusal(415, "send the body as JSON (Content-Type: application/json)")
        try:
            raw = base64.b64decode(body) if event.get("isBase64Encoded") else body
            json.loads(raw)
        except (ValueError, binascii.Error):
            return _refusal(400, "the body is not valid JSON")
    with _one_event_at_a_time:
        answer: dict[str, Any] = app().resolve(event, context)
    return answer


def _refusal(status: int, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"message": message}),
        "isBase64Encoded": False,
    }


def openapi_json(resolver: APIGatewayRestResolver | None = None) -> str:
    """The OpenAPI document of the dashboard API (committed as openapi.json)."""
    schema = (resolver or app()).get_openapi_json_schema(
        title=OPENAPI_TITLE, version=OPENAPI_VERSION
    )
    data: dict[str, Any] = json.loads(schema)
    return json.dumps(data, indent=2, sort_keys=True) + "\n"
