"""/api/knowledge/gaps: what leads asked that the bot could not answer, for the agency to fill."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, Field

from leadbot.api.auth import caller
from leadbot.domain import Language
from leadbot.domain.knowledge import RecordedGap
from leadbot.services import knowledge as use
from leadbot.services.runtime import repositories

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ bare

Cursor = Annotated[str | None, Query(max_length=2048, description="next_cursor of a page")]


class GapOut(BaseModel):
    question: str = Field(description="as the lead wrote it")
    language: Language = Field(description="the lead's conversation language")
    lead_id: str
    at: datetime


class GapPage(BaseModel):
    items: list[GapOut]
    next_cursor: str | None


@router.get("/gaps", summary="Questions the bot could not answer, newest first")
def knowledge_gaps(
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=use.MAX_PAGE)] = 50,
) -> GapPage:
    page = use.knowledge_gaps(repositories(), caller(router).tenant_id, cursor, limit)
    return GapPage(items=[_out(g) for g in page.items], next_cursor=page.next_cursor)


def _out(gap: RecordedGap) -> GapOut:
    return GapOut(question=gap.question, language=gap.language, lead_id=gap.lead_id, at=gap.at)
