"""/api/settings: the agency's settings and one-time `/set_admin` codes; admins only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, Field

from leadbot.api.auth import admin
from leadbot.api.deals import RATE
from leadbot.domain import FlowMode, FollowupStep, Language, Tenant
from leadbot.domain import settings as rules
from leadbot.services import settings as use
from leadbot.services.runtime import repositories

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ bare

AIRTABLE_BASE = f"^{rules.AIRTABLE_BASE_ID.pattern}$"
PLACEHOLDERS = " and ".join(f"{{{p}}}" for p in rules.PLACEHOLDERS)
TemplateText = Annotated[str, Field(min_length=1, max_length=rules.TEMPLATE_MAX_CHARS)]
CampaignDay = Annotated[int, Field(ge=rules.CAMPAIGN_DAY[0], le=rules.CAMPAIGN_DAY[1])]
Weekday = Annotated[int, Field(ge=rules.WEEKDAY[0], le=rules.WEEKDAY[1])]
TEMPLATES = (
    "the agency's own wording of a follow-up, by step (ghost, then campaign_1… one per"
    f" campaign day) and language; may use {PLACEHOLDERS}. A step or language not here uses the"
    " built-in wording."
)


class SettingsOut(BaseModel):
    """Every setting, defaults filled in; never secrets, parameter names or admin chat ids."""

    languages: list[Language] = Field(description="what the bot offers, in this order")
    default_language: Language
    flow_mode: FlowMode = Field(description="qa_first: answer questions first (issue 6)")
    qa_first_after: int = Field(description="qa_first: lead messages before qualifying starts")
    ghost_after_minutes: int = Field(description="a quiet lead's ghost follow-up after this long")
    campaign_days: list[int] = Field(description="a campaign step on each of these days")
    quiet_hours_start: int = Field(description="no follow-ups from this hour (lead's local time)")
    quiet_hours_end: int = Field(description="… until this hour")
    followup_templates: dict[FollowupStep, dict[Language, str]] = Field(description=TEMPLATES)
    scarcity_threshold: int = Field(description='"only N units left" only when N ≤ this')
    business_hours_start: int = Field(description="brokers call leads back from this hour")
    business_hours_end: int = Field(description="… until this hour (agency's time zone)")
    business_days: list[int] = Field(description="the days they do: 0 Monday … 6 Sunday")
    handoff_sla_minutes: int = Field(
        description="a handoff nobody claims is alerted again after this long (business hours)"
    )
    broker_commission_rate: str = Field(description='of a deal\'s value, e.g. "0.02"')
    platform_commission_rate: str = Field(description="of the broker's commission")
    admin_chats: int = Field(description="how many Telegram chats get admin alerts")
    airtable_base_id: str | None = Field(description="the agency's Airtable base, or null")
    airtable_connected: bool = Field(
        description="the base and its access token are both set: leads and deals sync to it"
    )


class SettingsChange(BaseModel):
    """Only the settings given change; followup_templates merge per step and language, and a
    null text there drops the agency's own wording."""

    languages: list[Language] | None = Field(default=None, min_length=1, max_length=len(Language))
    default_language: Language | None = None
    flow_mode: FlowMode | None = None
    qa_first_after: int | None = Field(
        default=None, ge=rules.QA_FIRST_AFTER[0], le=rules.QA_FIRST_AFTER[1]
    )
    ghost_after_minutes: int | None = Field(
        default=None, ge=rules.GHOST_AFTER_MINUTES[0], le=rules.GHOST_AFTER_MINUTES[1]
    )
    campaign_days: list[CampaignDay] | None = Field(
        default=None, max_length=rules.MAX_CAMPAIGN_STEPS, description="increasing; [] for none"
    )
    quiet_hours_start: int | None = Field(default=None, ge=rules.HOUR[0], le=rules.HOUR[1])
    quiet_hours_end: int | None = Field(default=None, ge=rules.HOUR[0], le=rules.HOUR[1])
    followup_templates: dict[FollowupStep, dict[Language, TemplateText | None]] | None = Field(
        default=None, description=TEMPLATES
    )
    scarcity_threshold: int | None = Field(
        default=None, ge=rules.SCARCITY_THRESHOLD[0], le=rules.SCARCITY_THRESHOLD[1]
    )
    business_hours_start: int | None = Field(default=None, ge=rules.HOUR[0], le=rules.HOUR[1])
    business_hours_end: int | None = Field(default=None, ge=1, le=24)
    business_days: list[Weekday] | None = Field(
        default=None, min_length=1, max_length=7, description="0 Monday … 6 Sunday"
    )
    handoff_sla_minutes: int | None = Field(
        default=None, ge=rules.HANDOFF_SLA_MINUTES[0], le=rules.HANDOFF_SLA_MINUTES[1]
    )
    broker_commission_rate: str | None = Field(
        default=None, pattern=RATE, description='a decimal string from 0 to 1, e.g. "0.02"'
    )
    platform_commission_rate: str | None = Field(
        default=None, pattern=RATE, description='of the broker\'s commission, e.g. "0.25"'
    )
    airtable_base_id: str | None = Field(
        default=None,
        pattern=AIRTABLE_BASE,
        description="the Airtable base leads sync to (airtable.com/<base id>/…); null stops "
        "the sync. Its access token is set by ops, never here",
    )


class AdminCode(BaseModel):
    code: str = Field(description="send `/set_admin <code>` to the agency's bot; works once")
    expires_at: datetime


@router.get("", summary="The agency's settings, defaults filled in (admins)")
def get_settings() -> SettingsOut:
    return _out(use.current(repositories(), admin(router).tenant_id))


@router.patch("", summary="Change any of the agency's settings (admins)")
def change_settings(change: SettingsChange) -> SettingsOut:
    who = admin(router)
    changes = {name: getattr(change, name) for name in change.model_fields_set}
    return _out(use.change(repositories(), who.tenant_id, changes, by=who.name))


@router.post(
    "/admin-code",
    summary="A one-time code that makes a Telegram chat an admin chat, valid 24 h (admins)",
    responses={
        201: {
            "description": "the code; only its hash is stored, so it is shown this once",
            "content": {"application/json": {"model": AdminCode}},
        }
    },
)
def issue_admin_code() -> Response[dict[str, Any]]:
    who = admin(router)
    code, expires = use.issue_admin_code(repositories(), who.tenant_id, by=who.name)
    body = AdminCode(code=code, expires_at=expires).model_dump(mode="json")
    return Response(201, "application/json", body, headers={"Cache-Control": "no-store"})


def _out(tenant: Tenant) -> SettingsOut:
    templates: dict[FollowupStep, dict[Language, str]] = {}
    for template in tenant.followup_templates:
        templates.setdefault(template.step, {})[template.language] = template.text
    return SettingsOut(
        languages=list(tenant.languages),
        default_language=tenant.default_language,
        flow_mode=tenant.flow_mode,
        qa_first_after=tenant.qa_first_after,
        ghost_after_minutes=tenant.ghost_after_minutes,
        campaign_days=list(tenant.campaign_days),
        quiet_hours_start=tenant.quiet_hours_start,
        quiet_hours_end=tenant.quiet_hours_end,
        followup_templates=templates,
        scarcity_threshold=tenant.scarcity_threshold,
        business_hours_start=tenant.business_hours_start,
        business_hours_end=tenant.business_hours_end,
        business_days=list(tenant.business_days),
        handoff_sla_minutes=tenant.handoff_sla_minutes,
        broker_commission_rate=str(tenant.broker_commission_rate),
        platform_commission_rate=str(tenant.platform_commission_rate),
        admin_chats=len(tenant.admin_chats),
        airtable_base_id=tenant.airtable_base_id,
        airtable_connected=tenant.airtable_configured,
    )
