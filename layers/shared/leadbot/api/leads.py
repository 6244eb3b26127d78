"""/api/leads: the leads board (hottest first), one lead, its history, moving it along."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, Field

from leadbot.api.auth import admin, caller
from leadbot.domain import (
    Language,
    LeadStatus,
    Temperature,
    TimelineEntry,
)
from leadbot.services import intake
from leadbot.services import leads as use
from leadbot.services.runtime import repositories
from leadbot.store import ScoredLead

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ bare

LeadId = Annotated[str, Path(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$", description="the lead's ULID")]
Cursor = Annotated[str | None, Query(max_length=2048, description="next_cursor of a page")]


class Budget(BaseModel):
    amount: str = Field(description="a decimal number, never a float")
    currency: str


class Engagement(BaseModel):
    qr_scans: int
    catalog_views: int
    messages: int
    voice: int


class LeadSummary(BaseModel):
    lead_id: str
    name: str
    username: str
    phone: str | None
    email: str | None
    linkedin_url: str | None
    channel: str = Field(description="telegram, whatsapp, or manual (no chat with the bot yet)")
    language: str | None
    source: str | None
    broker_id: str | None
    status: LeadStatus
    stage: str
    score: int | None
    temperature: Temperature | None
    grade: str | None
    goal: str | None
    budget: Budget | None
    property_type: str | None
    location: str | None
    engagement: Engagement
    created_at: datetime
    last_interaction_at: datetime | None


class LeadDetail(LeadSummary):
    timeline: str | None = Field(description="when the lead wants to move")
    bedrooms: str | None
    payment_method: str | None
    lost_reason: str | None
    opted_out: bool
    unreachable: bool
    bot_paused: bool = Field(description="an agent took over; the bot stays silent")
    phone_captured_at: datetime | None
    score_breakdown: dict[str, Any] = Field(description="each part and each rule that fired")
    scored_at: datetime | None
    offered_property_ids: list[str] = Field(
        description="listings shown to the lead as cards, in the order shown"
    )
    urgency_score: int = Field(
        description="0-10: timeline (now 5, 1-3 months 3, 3-6 months 1) plus 2 per scarcity "
        "message shown (at most 5)"
    )
    fomo_messages_sent: int = Field(description="'only N units left' lines shown, N always real")
    viewing_requested_at: datetime | None = Field(
        description="when the lead asked to view a listing (an agent confirms it)"
    )
    viewing_property_id: str | None
    qualification_score: int = Field(
        description="0-4: budget, area, timeline and unit (type or bedrooms) answered"
    )
    is_qualified: bool = Field(description="all four answered")
    qualified_at: datetime | None


class LeadPage(BaseModel):
    items: list[LeadSummary]
    next_cursor: str | None


class TimelineItem(BaseModel):
    kind: str
    at: datetime
    channel: str | None
    text: str
    detail: dict[str, str]
    status: str | None = Field(description="delivery status of an outbound message")


class TimelinePage(BaseModel):
    items: list[TimelineItem]
    next_cursor: str | None


BrokerRef = Annotated[str, Field(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")]


class LeadChange(BaseModel):
    status: LeadStatus | None = None
    broker_id: BrokerRef | None = Field(
        default=None,
        description="assign a broker (moves an early lead to assigned); null unassigns",
    )
    lost_reason: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, max_length=4000)
    bot_paused: bool | None = Field(default=None, description="false hands the lead back")


class NewLead(BaseModel):
    """A person met elsewhere. Name and one way to reach them; phones become E.164."""

    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)
    linkedin_url: str | None = Field(default=None, max_length=300)
    telegram_id: str | None = Field(default=None, max_length=20, description="Telegram chat id")
    whatsapp: str | None = Field(default=None, max_length=40, description="WhatsApp number")
    language: Language | None = None
    source: str | None = Field(default=None, max_length=64, description="default: manual")
    note: str | None = Field(default=None, max_length=4000)


class LeadAdded(BaseModel):
    outcome: str = Field(description="created, or merged into the lead the person already is")
    matched_on: str | None = Field(description="telegram, whatsapp, phone, email or linkedin")
    added: list[str] = Field(description="fields a merge filled in on the existing lead")
    also_matches: list[str] = Field(description="other leads the details point at")
    lead: LeadDetail


class LeadSheet(BaseModel):
    csv: str = Field(
        min_length=1,
        max_length=intake.MAX_IMPORT_BYTES,
        description="the CSV text: a header row naming the columns (name or first/last name, "
        "phone, email, LinkedIn URL, telegram id, whatsapp, language, source, note), "
        f"then at most {intake.MAX_IMPORT_ROWS} rows; comma, semicolon or tab separated",
    )
    source: str | None = Field(
        default=None, max_length=64, description="for rows without a source (default: import)"
    )


class ImportedRow(BaseModel):
    line: int = Field(description="the row's line in the file (the header is line 1)")
    name: str
    status: str = Field(description="created, merged or failed")
    lead_id: str | None
    matched_on: str | None
    added: list[str]
    message: str = Field(description="why a row failed, or what else it matched")


class ImportResult(BaseModel):
    created: int
    merged: int
    failed: int
    ignored_columns: list[str]
    rows: list[ImportedRow]


class AgentMessage(BaseModel):
    text: str = Field(min_length=1, max_length=4096)


class MessageSent(BaseModel):
    status: str = Field(description="sent, failed, blocked or rate_limited")
    message_id: str | None
    bot_paused: bool


@router.get("", summary="Leads, hottest first", response_description="one page of leads")
def list_leads(
    temperature: Annotated[Temperature | None, Query()] = None,
    status: Annotated[LeadStatus | None, Query()] = None,
    source: Annotated[str | None, Query(max_length=64)] = None,
    broker_id: Annotated[str | None, Query(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")] = None,
    language: Annotated[Language | None, Query()] = None,
    created_from: Annotated[datetime | None, Query()] = None,
    created_to: Annotated[datetime | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=100, description="name or phone")] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=use.MAX_PAGE)] = 50,
) -> LeadPage:
    who = caller(router)
    filters = use.LeadFilter(
        temperature=temperature,
        status=status,
        source=source,
        broker_id=broker_id,
        language=language,
        created_from=created_from,
        created_to=created_to,
        search=q or None,
    )
    page = use.list_leads(repositories(), who.tenant_id, filters, cursor, limit)
    return LeadPage(items=[_summary(s) for s in page.items], next_cursor=page.next_cursor)


@router.post(
    "",
    summary="Add a lead met elsewhere, or merge it into the lead the person already is",
    responses={
        200: {"description": "merged into an existing lead"},
        201: {"description": "a new lead"},
    },
)
def add_lead(new: NewLead) -> Response[LeadAdded]:
    who = caller(router)
    repos = repositories()
    tenant = repos.tenants.get(who.tenant_id)
    person = intake.contact(new.model_dump(), tenant.phone_region)
    added = intake.add_lead(repos, tenant, person, by=who.name, how="manual")
    body = LeadAdded(
        outcome="created" if added.created else "merged",
        matched_on=added.matched_on,
        added=list(added.added),
        also_matches=list(added.also_matches),
        lead=_detail(use.lead(repos, who.tenant_id, added.lead.lead_id)),
    )
    return Response(201 if added.created else 200, "application/json", body)


@router.post("/import", summary="Import a CSV of people (expo sheets, LinkedIn exports)")
def import_leads(sheet: LeadSheet) -> ImportResult:
    who = caller(router)
    report = intake.import_sheet(
        repositories(), who.tenant_id, sheet.csv, by=who.name, source=sheet.source
    )
    return ImportResult(
        created=report.count("created"),
        merged=report.count("merged"),
        failed=report.count("failed"),
        ignored_columns=report.ignored_columns,
        rows=[
            ImportedRow(
                line=row.line,
                name=row.name,
                status=row.status,
                lead_id=row.lead_id,
                matched_on=row.matched_on,
                added=list(row.added),
                message=row.message,
            )
            for row in report.rows
        ],
    )


@router.get("/<lead_id>", summary="One lead: profile, answers, engagement, score breakdown")
def get_lead(lead_id: LeadId) -> LeadDetail:
    return _detail(use.lead(repositories(), caller(router).tenant_id, lead_id))


@router.patch("/<lead_id>", summary="Move a lead along the pipeline, assign its broker, add a note")
def change_lead(lead_id: LeadId, change: LeadChange) -> LeadDetail:
    who = caller(router)
    assign = (
        use.Assignment(broker_id=change.broker_id)
        if "broker_id" in change.model_fields_set
        else None
    )
    updated = use.update_lead(
        repositories(),
        who.tenant_id,
        lead_id,
        by=who.name,
        status=change.status,
        lost_reason=change.lost_reason,
        note=change.note,
        bot_paused=change.bot_paused,
        assign=assign,
    )
    return _detail(updated)


@router.post(
    "/<lead_id>/messages", summary="Write to the lead through its channel (pauses the bot)"
)
def send_message(lead_id: LeadId, message: AgentMessage) -> MessageSent:
    who = caller(router)
    sent = use.send_message(
        repositories(),
        who.tenant_id,
        lead_id,
        message.text,
        by=who.name,
        messenger_for=use.channel_messenger,
    )
    return MessageSent(
        status=sent.delivery.status.value,
        message_id=sent.delivery.message_id,
        bot_paused=sent.bot_paused,
    )


@router.get("/<lead_id>/timeline", summary="The lead's messages and events, newest first")
def get_timeline(
    lead_id: LeadId,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=use.MAX_PAGE)] = 50,
) -> TimelinePage:
    page = use.timeline(repositories(), caller(router).tenant_id, lead_id, cursor, limit)
    return TimelinePage(items=[_entry(e) for e in page.items], next_cursor=page.next_cursor)


class LeadExport(BaseModel):
    """Everything stored about one lead, as stored (a data subject's access request)."""

    tenant_id: str
    lead_id: str
    exported_at: datetime
    lead: dict[str, Any] = Field(description="the Leads item, every attribute")
    identities: list[str] = Field(
        description="its keys in Identities: <tenant>#<telegram|whatsapp|phone|email|linkedin>#…"
    )
    timeline: list[dict[str, Any]] = Field(description="every message and event, oldest first")
    knowledge_gaps: list[dict[str, Any]] = Field(description="questions it left unanswered")
    admin_chat_attempts: list[dict[str, Any]] = Field(description="/set_admin tried from its chat")
    deals: list[dict[str, Any]]
    crm: dict[str, Any] | None = Field(
        description="its records in the agency's Airtable base by table, or why they could not "
        "be read; null without a base"
    )


class LeadForgotten(BaseModel):
    lead_id: str
    lead: int = Field(description="1 if the Leads item was removed")
    identities: int
    timeline: int = Field(description="messages and events removed")
    knowledge_gaps: int
    admin_chat_attempts: int
    crm: str = Field(
        description="records deleted from the Airtable base, not_configured, or pending: the "
        "CRM sync deletes them once Airtable answers"
    )
    deals_kept: list[str] = Field(description="deals of the lead, kept: they name no person")


@router.get(
    "/<lead_id>/export",
    summary="Everything stored about one lead, as JSON (admins; a data access request)",
    responses={403: {"description": "not an admin"}},
)
def export_lead(lead_id: LeadId) -> LeadExport:
    from leadbot.services import rights
    from leadbot.services.runtime import crm

    who = admin(router)
    return LeadExport(**rights.export_lead(repositories(), who.tenant_id, lead_id, crm))


@router.delete(
    "/<lead_id>",
    summary="Forget a lead: its personal data removed from every table and the CRM (admins)",
    responses={403: {"description": "not an admin"}, 404: {"description": "no such lead"}},
)
def forget_lead(lead_id: LeadId) -> LeadForgotten:
    from leadbot.services import rights
    from leadbot.services.runtime import crm

    who = admin(router)
    done = rights.forget_lead(repositories(), who.tenant_id, lead_id, crm, by=who.name)
    return LeadForgotten(**done.as_dict())


def _summary(scored: ScoredLead) -> LeadSummary:
    return LeadSummary(**_summary_fields(scored))


def _summary_fields(scored: ScoredLead) -> dict[str, Any]:
    lead, state = scored.lead, scored.state
    seen = [at for at in (lead.last_inbound_at, lead.last_catalog_view_at) if at is not None]
    return {
        "lead_id": lead.lead_id,
        "name": lead.name,
        "username": lead.username,
        "phone": lead.phone,
        "email": lead.email,
        "linkedin_url": lead.linkedin_url,
        "channel": lead.channel.value,
        "language": lead.language.value if lead.language else None,
        "source": lead.source,
        "broker_id": lead.broker_id,
        "status": lead.status,
        "stage": lead.stage.value,
        "score": state.value,
        "temperature": state.temperature,
        "grade": state.temperature.grade.value if state.temperature else None,
        "goal": lead.goal.value if lead.goal else None,
        "budget": Budget(amount=str(lead.budget.amount), currency=lead.budget.currency)
        if lead.budget
        else None,
        "property_type": lead.property_type.value if lead.property_type else None,
        "location": lead.location,
        "engagement": Engagement(
            qr_scans=lead.qr_scans,
            catalog_views=lead.catalog_views,
            messages=lead.messages_count,
            voice=lead.voice_count,
        ),
        "created_at": lead.created_at,
        "last_interaction_at": max(seen, default=None),
    }


def _detail(scored: ScoredLead) -> LeadDetail:
    lead, state = scored.lead, scored.state
    return LeadDetail(
        **_summary_fields(scored),
        timeline=lead.timeline.value if lead.timeline else None,
        bedrooms=lead.bedrooms.value if lead.bedrooms else None,
        payment_method=lead.payment_method.value if lead.payment_method else None,
        lost_reason=lead.lost_reason,
        opted_out=lead.opted_out,
        unreachable=lead.unreachable,
        bot_paused=lead.bot_paused,
        phone_captured_at=lead.phone_captured_at,
        score_breakdown=state.breakdown,
        scored_at=state.scored_at,
        offered_property_ids=list(lead.offered_property_ids),
        urgency_score=lead.urgency_score,
        fomo_messages_sent=lead.fomo_messages_sent,
        viewing_requested_at=lead.viewing_requested_at,
        viewing_property_id=lead.viewing_property_id,
        qualification_score=lead.qualification_score,
        is_qualified=lead.is_qualified,
        qualified_at=lead.qualified_at,
    )


def _entry(entry: TimelineEntry) -> TimelineItem:
    return TimelineItem(
        kind=entry.kind.value,
        at=entry.at,
        channel=entry.channel.value if entry.channel else None,
        text=entry.text,
        detail={k: str(v) for k, v in entry.detail.items()},
        status=entry.status.value if entry.status else None,
    )
