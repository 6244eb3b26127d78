"""Alerts the agency's staff read: a lead left a phone number (hot lead), a lead turned
burning, a lead asked for a broker (handoff)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leadbot.conversation import format_money
from leadbot.domain import Lead, Outbound, Tenant
from leadbot.i18n import t

if TYPE_CHECKING:  # the webhook imports these alerts; scoring is score_update's business
    from leadbot.domain import Broker
    from leadbot.scoring import Score


def hot_lead_alert(tenant: Tenant, lead: Lead, now: datetime) -> Outbound:
    lang = tenant.admin_language
    none = t("alert.none", lang)

    def label(prefix: str, value: str | None) -> str:
        return t(f"{prefix}.{value}", lang) if value else none

    try:
        local = now.astimezone(ZoneInfo(tenant.timezone))
    except ZoneInfoNotFoundError:
        local = now
    handle = f" (@{lead.username})" if lead.username else ""
    text = t(
        "alert.hot_lead",
        lang,
        name=(lead.name or none) + handle,
        phone=lead.phone or none,
        goal=label("goal", lead.goal),
        budget=format_money(lead.budget) if lead.budget else none,
        area=lead.location or none,
        language=label("language.name", lead.language),
        source=lead.source or none,
        time=local.strftime("%Y-%m-%d %H:%M %Z"),
        link=tenant.lead_url(lead.lead_id) or lead.lead_id,
    )
    return Outbound(text=text)


def burning_alert(tenant: Tenant, lead: Lead, score: Score) -> Outbound:
    lang = tenant.admin_language
    none = t("alert.none", lang)
    handle = f" (@{lead.username})" if lead.username else ""
    parts = score.breakdown
    text = t(
        "alert.burning",
        lang,
        score=score.value,
        name=(lead.name or none) + handle,
        phone=lead.phone or none,
        engagement=parts.engagement,
        qualification=parts.qualification,
        recency=parts.recency,
        link=tenant.lead_url(lead.lead_id) or lead.lead_id,
    )
    return Outbound(text=text)


def handoff_alert(tenant: Tenant, lead: Lead, broker: Broker | None) -> Outbound:
    """To the broker the lead was given and the admins; with no broker free, to the admins
    only, asking them to assign one."""
    from leadbot.domain.handoff import reference

    lang = tenant.admin_language
    none = t("alert.none", lang)
    handle = f" (@{lead.username})" if lead.username else ""
    name = (lead.name or none) + handle
    link = tenant.lead_url(lead.lead_id) or lead.lead_id
    ref = reference(lead.lead_id)
    if broker is None:
        text = t(
            "alert.handoff.unassigned",
            lang,
            reference=ref,
            name=name,
            phone=lead.phone or none,
            link=link,
        )
        return Outbound(text=text)
    text = t(
        "alert.handoff",
        lang,
        reference=ref,
        broker=broker.name,
        name=name,
        phone=lead.phone or none,
        goal=t(f"goal.{lead.goal}", lang) if lead.goal else none,
        budget=format_money(lead.budget) if lead.budget else none,
        area=lead.location or none,
        language=t(f"language.name.{lead.language}", lang) if lead.language else none,
        link=link,
    )
    return Outbound(text=text)
