"""GET /api/leads/export: the filtered leads board as a CSV or XLSX file for agents."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from leadbot import clock
from leadbot.api.auth import caller
from leadbot.config import settings
from leadbot.domain import Language, LeadStatus, Temperature
from leadbot.services import exports as use
from leadbot.services.leads import LeadFilter
from leadbot.services.runtime import export_store, repositories

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ bare

NO_STORE = {"Cache-Control": "no-store"}

DESCRIPTION = (
    "Every lead matching the filters of GET /api/leads, hottest first. CSV is UTF-8 with a BOM; "
    "cells starting with = + - @ get a leading apostrophe. XLSX comes base64-encoded from the "
    "function: send `Accept: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet` "
    "so API Gateway returns it as binary. When the file would not fit a Lambda response (about "
    "5 MB), the answer is 200 JSON {download_url, expires_in, filename, size, rows} instead: a "
    "link valid 15 minutes (a presigned S3 URL; on the local stack, /_local/exports/…)."
)


@router.get(
    "/api/leads/export",
    summary="Export the filtered leads as CSV or XLSX",
    description=DESCRIPTION,
    response_description="the file (Content-Disposition: attachment), or a download link",
)
def export_leads(
    format: Annotated[use.ExportFormat, Query(description="csv or xlsx")] = use.ExportFormat.CSV,
    temperature: Annotated[Temperature | None, Query()] = None,
    status: Annotated[LeadStatus | None, Query()] = None,
    source: Annotated[str | None, Query(max_length=64)] = None,
    broker_id: Annotated[str | None, Query(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")] = None,
    language: Annotated[Language | None, Query()] = None,
    created_from: Annotated[datetime | None, Query()] = None,
    created_to: Annotated[datetime | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=100, description="name or phone")] = None,
) -> Response[Any]:
    who = caller(router)
    filters = LeadFilter(
        temperature=temperature,
        status=status,
        source=source,
        broker_id=broker_id,
        language=language,
        created_from=created_from,
        created_to=created_to,
        search=q or None,
    )
    result = use.export_leads(
        repositories(),
        who.tenant_id,
        filters,
        format,
        store=export_store(),
        inline_max_bytes=settings().export_inline_max_bytes,
        now=clock.now(),
    )
    if isinstance(result, use.LinkedExport):
        link = {
            "download_url": result.url,
            "expires_in": result.expires_in,
            "filename": result.filename,
            "size": result.size,
            "rows": result.rows,
        }
        return Response(200, "application/json", link, NO_STORE)
    headers = {"Content-Disposition": f'attachment; filename="{result.filename}"', **NO_STORE}
    if format is use.ExportFormat.CSV:
        return Response(200, result.content_type, result.body.decode("utf-8"), headers)
    # Binary leaves Lambda base64-encoded (isBase64Encoded); encoded here, because the route's
    # response validation would otherwise try to read the bytes as text.
    answer = Response(200, result.content_type, base64.b64encode(result.body).decode(), headers)
    answer.base64_encoded = True
    return answer
