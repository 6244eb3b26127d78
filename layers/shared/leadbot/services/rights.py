"""Data rights: everything stored about one lead (export), and forgetting it everywhere.

Where a lead's personal data lives (template.yaml's tables): its Leads item; its keys in
Identities (chat ids, phones, emails, LinkedIn URLs: every one found on the by_lead index); its
Timeline partition (every message and event); the questions it left unanswered in the tenant's
gaps stream; `/set_admin` attempts from its chat in the tenant's own stream; and its rows in
the agency's CRM (Airtable). Deals stay, as business records that name no person (a value, a
broker, a lead id nothing resolves any more); Idempotency records hold a lead id and delivery
statuses, no text, and expire within a day. Properties, Knowledge and Brokers hold nothing of
leads.

Forgetting deletes the Leads item last but one: the stream's REMOVE record tells the CRM sync
to delete the lead's rows again after any change of it still in flight (services/crm_sync.py),
and score_update ignores it. The trace left behind is one `lead_forgotten` event in the
tenant's own Timeline stream: the lead's id, who, when and counts; no name, phone or text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from leadbot import clock
from leadbot.domain import (
    Channel,
    LeadNotFound,
    Tenant,
    TenantNotFound,
    TimelineEntry,
    TimelineKind,
)
from leadbot.integrations.crm import Crm, CrmError
from leadbot.services.runtime import Repositories
from leadbot.store import ADMIN_STREAM, GAPS_STREAM

CrmFor = Callable[[Tenant], Crm | None]


def _jsonable(value: Any) -> Any:
    """Stored values as JSON: times ISO 8601, sets sorted lists, numbers exact."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _mine(entries: list[dict[str, Any]], lead_id: str) -> list[dict[str, Any]]:
    return [e for e in entries if (e.get("detail") or {}).get("lead_id") == lead_id]


def _chat_attempts(
    repos: Repositories, tenant: Tenant | None, item: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """`/set_admin` attempts from the lead's Telegram chat, unless that chat is an admin's (an
    admin's own registration is the trace of a right given, not a lead's data)."""
    if tenant is None or item is None or item.get("channel") != Channel.TELEGRAM.value:
        return []
    chat = str(item.get("external_id") or "")
    if not chat or chat in tenant.admin_chats:
        return []
    entries = repos.timeline.stored(tenant.tenant_id, ADMIN_STREAM)
    return [e for e in entries if str((e.get("detail") or {}).get("chat_id")) == chat]


def _tenant_or_none(repos: Repositories, tenant_id: str) -> Tenant | None:
    try:
        return repos.tenants.get(tenant_id, consistent=True)
    except TenantNotFound:
        return None


def _crm_rows(crm: Crm, lead_id: str) -> dict[str, list[str]]:
    from leadbot.integrations.airtable import ACTIVITY, LEAD_ID, LEADS

    return {table: list(crm.records_where(table, LEAD_ID, lead_id)) for table in (LEADS, ACTIVITY)}


def export_lead(
    repos: Repositories, tenant_id: str, lead_id: str, crm_for: CrmFor
) -> dict[str, Any]:
    """Everything stored about the lead, as JSON values; LeadNotFound if it has no item."""
    item = repos.leads.item(tenant_id, lead_id)
    if item is None:
        raise LeadNotFound(lead_id)
    tenant = _tenant_or_none(repos, tenant_id)
    prefix = f"{tenant_id}#"
    deals = [asdict(d) for d in repos.deals.all(tenant_id) if d.lead_id == lead_id]
    crm: dict[str, Any] | None = None
    base = crm_for(tenant) if tenant is not None else None
    if base is not None and tenant is not None:
        try:
            crm = {"base_id": tenant.airtable_base_id, "records": _crm_rows(base, lead_id)}
        except CrmError as exc:
            crm = {"base_id": tenant.airtable_base_id, "error": str(exc)}
    export = {
        "tenant_id": tenant_id,
        "lead_id": lead_id,
        "exported_at": clock.now(),
        "lead": item,
        "identities": [k for k in repos.identities.keys_of(lead_id) if k.startswith(prefix)],
        "timeline": repos.timeline.stored(tenant_id, lead_id),
        "knowledge_gaps": _mine(repos.timeline.stored(tenant_id, GAPS_STREAM), lead_id),
        "admin_chat_attempts": _chat_attempts(repos, tenant, item),
        "deals": deals,
        "crm": crm,
    }
    result: dict[str, Any] = _jsonable(export)
    return result


@dataclass
class Forgotten:
    """What forgetting a lead removed, by place; `crm` is "not_configured", a count, or the
    reason the CRM could not be reached (the CRM sync deletes the rows once it can)."""

    lead_id: str
    lead: int = 0
    identities: int = 0
    timeline: int = 0
    knowledge_gaps: int = 0
    admin_chat_attempts: int = 0
    crm: str = "not_configured"
    deals_kept: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def forget_lead(
    repos: Repositories,
    tenant_id: str,
    lead_id: str,
    crm_for: CrmFor,
    *,
    by: str,
    now: datetime | None = None,
) -> Forgotten:
    """Remove the lead's personal data from every table and the CRM, leaving one anonymous
    `lead_forgotten` event. LeadNotFound if nothing of it is stored; running it again after a
    partial failure finishes the job."""
    item = repos.leads.item(tenant_id, lead_id)
    prefix = f"{tenant_id}#"
    keys = [k for k in repos.identities.keys_of(lead_id) if k.startswith(prefix)]
    history = repos.timeline.stored(tenant_id, lead_id)
    if item is None and not keys and not history:
        raise LeadNotFound(lead_id)
    tenant = _tenant_or_none(repos, tenant_id)
    report = Forgotten(lead_id)
    # Keys first: a message from the person meanwhile starts a new lead instead of finding
    # this one.
    report.identities = sum(repos.identities.unbind(key, lead_id) for key in keys)
    attempts = _chat_attempts(repos, tenant, item)
    report.lead = int(repos.leads.delete(tenant_id, lead_id))
    report.timeline = repos.timeline.delete(tenant_id, lead_id, [e["sk"] for e in history])
    gaps = _mine(repos.timeline.stored(tenant_id, GAPS_STREAM), lead_id)
    report.knowledge_gaps = repos.timeline.delete(tenant_id, GAPS_STREAM, [g["sk"] for g in gaps])
    report.admin_chat_attempts = repos.timeline.delete(
        tenant_id, ADMIN_STREAM, [a["sk"] for a in attempts]
    )
    # A webhook that had the lead in hand may have written one more entry meanwhile.
    late = repos.timeline.stored(tenant_id, lead_id)
    report.timeline += repos.timeline.delete(tenant_id, lead_id, [e["sk"] for e in late])
    report.deals_kept = [d.deal_id for d in repos.deals.all(tenant_id) if d.lead_id == lead_id]
    crm = crm_for(tenant) if tenant is not None else None
    if crm is not None:
        from leadbot.services.crm_sync import forget_lead_rows

        try:
            report.crm = str(forget_lead_rows(crm, lead_id))
        except CrmError as exc:
            report.crm = f"pending: {type(exc).__name__} (the CRM sync deletes the rows later)"
    event = TimelineEntry(
        kind=TimelineKind.EVENT,
        at=now or clock.now(),
        text="lead_forgotten",
        detail={
            "lead_id": lead_id,
            "by": by,
            "removed": json.dumps(
                {
                    "lead": report.lead,
                    "identities": report.identities,
                    "timeline": report.timeline,
                    "knowledge_gaps": report.knowledge_gaps,
                    "admin_chat_attempts": report.admin_chat_attempts,
                },
                sort_keys=True,
            ),
            "crm": report.crm,
        },
    )
    repos.timeline.append(tenant_id, ADMIN_STREAM, [event])
    return report
