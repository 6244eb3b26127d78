"""GET /api/stats: the tenant's funnel, temperatures, sources, speed to lead, follow-ups."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, Field

from leadbot.api.auth import caller
from leadbot.services import stats as use
from leadbot.services.runtime import repositories

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ bare


class Funnel(BaseModel):
    conversations: int = Field(description="every scored lead")
    qualified: int = Field(description="left a phone, or reached qualified or later")
    broker_requested: int
    viewing_scheduled: int
    won: int


class SpeedToLead(BaseModel):
    with_phone: int = Field(description="leads that left a phone number")
    handled: int = Field(description="of those, leads a person acted on after the phone")
    no_action_yet: int
    median_minutes: float | None = Field(description="phone captured → first agent action")
    within_5_minutes: float | None = Field(description="share of handled leads, 0..1")


class StatsOut(BaseModel):
    funnel: Funnel
    temperatures: dict[str, int]
    sources: dict[str, int] = Field(description='by source; "direct" for none')
    speed_to_lead: SpeedToLead
    followups: dict[str, int] = Field(
        description="follow-up events by outcome: empty until automatic follow-ups ship"
    )


DESCRIPTION = (
    "Figures over the tenant's scored leads created in [from, to). The funnel counts a lead at "
    "the furthest pipeline step it reached (its status, or a status change in its Timeline for "
    "leads with a phone; lost is an exit). Speed to lead: minutes from the phone capture to the "
    "first status change or note by a person. Follow-up outcomes stay empty until automatic "
    "follow-ups ship."
)


@router.get(
    "/api/stats", summary="Funnel, temperatures, sources, speed to lead", description=DESCRIPTION
)
def get_stats(
    from_: Annotated[
        datetime | None, Query(alias="from", description="created at or after")
    ] = None,
    to: Annotated[datetime | None, Query(description="created before")] = None,
) -> StatsOut:
    found = use.tenant_stats(repositories(), caller(router).tenant_id, from_, to)
    return StatsOut(
        funnel=Funnel(**vars(found.funnel)),
        temperatures=found.temperatures,
        sources=found.sources,
        speed_to_lead=SpeedToLead(**vars(found.speed_to_lead)),
        followups=found.followups,
    )
