"""A lead asked for a broker: it goes to the next broker in turn, who is alerted with the admins
on Telegram; the broker (or an admin) claims it from the alert's button."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from leadbot.domain import (
    Broker,
    BrokerNotFound,
    Choice,
    Delivery,
    DeliveryStatus,
    InboundEvent,
    Lead,
    LeadNotFound,
    LeadStatus,
    Outbound,
    Tenant,
    TimelineEntry,
    TimelineKind,
)
from leadbot.domain.followups import Held
from leadbot.domain.handoff import (
    CLAIM_PREFIX,
    ESCALATION,
    FIRST_ALERT,
    HANDED_OFF,
    reference,
    round_robin,
)
from leadbot.i18n import t
from leadbot.services.alerts import handoff_alert
from leadbot.services.inbound import record, save_lead
from leadbot.services.runtime import Repositories

if TYPE_CHECKING:
    from leadbot.services.followups import GhostOutcome

log = logging.getLogger(__name__)

# Handoffs at the same moment may take the same broker's turn; each retry reads the turns anew.
MAX_TURN_TRIES = 5


@dataclass
class Routed:
    """What routing a handoff did: the lead as saved, its broker (None: nobody could take
    it), the Timeline entries to record, and the alerts that went."""

    lead: Lead
    broker: Broker | None
    entries: list[TimelineEntry] = field(default_factory=list)
    alerts_sent: int = 0


def route_handoff(
    repos: Repositories,
    tenant: Tenant,
    lead: Lead,
    now: datetime,
    staff: Callable[[str, Outbound], Delivery],
) -> Routed:
    """Give the lead (status broker_requested, saved) to the next broker in turn, and alert
    that broker and the agency's admins through `staff` (chat id, message). With no broker
    free (all away, deactivated or at their cap), the admins hear that instead."""
    broker = next_broker(repos, tenant.tenant_id, now)
    assigned = broker is not None

    def change(current: Lead) -> Lead:
        if current.status is not LeadStatus.BROKER_REQUESTED:
            return current  # an agent moved it on meanwhile: theirs to route
        changed = replace(
            current, handoff_alerts=FIRST_ALERT, handoff_alerted_at=now, updated_at=now
        )
        if broker is None:
            return changed
        return replace(
            changed, broker_id=broker.broker_id, status=LeadStatus.ASSIGNED, assigned_at=now
        )

    lead = save_lead(repos, lead, change)
    entries: list[TimelineEntry] = []
    if broker is not None and lead.broker_id == broker.broker_id:
        detail = {"broker_id": broker.broker_id, "broker": broker.name, "by": "round_robin"}
        entries.append(
            TimelineEntry(kind=TimelineKind.EVENT, at=now, text="assigned", detail=detail)
        )
    elif not assigned:
        entries.append(
            TimelineEntry(
                kind=TimelineKind.EVENT, at=now, text="unassigned", detail={"reason": "no_broker"}
            )
        )
    alert = handoff_alert(tenant, lead, broker)
    claim = Choice(label=t("alert.claim", tenant.admin_language), value=CLAIM_PREFIX + lead.lead_id)
    alert = replace(alert, choices=(claim,))
    sent = 0
    for chat, role in _recipients(tenant, broker):
        delivery = staff(chat, alert)
        sent += delivery.status is DeliveryStatus.SENT
        entries.append(
            TimelineEntry(
                kind=TimelineKind.EVENT,
                at=now,
                text="handoff_alert",
                detail={"chat": chat, "to": role, "status": delivery.status.value},
                status=delivery.status,
                message_id=delivery.message_id,
            )
        )
    return Routed(lead=lead, broker=broker, entries=entries, alerts_sent=sent)


def next_broker(repos: Repositories, tenant_id: str, now: datetime) -> Broker | None:
    """The broker whose turn it is, the turn taken (a conditional write on the broker), or
    None when no broker may take a lead now."""
    for _ in range(MAX_TURN_TRIES):
        brokers = repos.brokers.all_of(tenant_id)
        # Only capped brokers need counting: one small keys-only query each.
        open_leads = {
            b.broker_id: repos.leads.open_leads(tenant_id, b.broker_id)
            for b in brokers
            if b.max_open_leads is not None and b.active and not b.away
        }
        last = {b.broker_id: b.last_assigned_at for b in brokers}
        order = round_robin(brokers, open_leads, last)
        if not order:
            return None
        for broker in order:
            if repos.brokers.take_turn(broker, now):
                return replace(broker, last_assigned_at=now)
    log.warning("no broker turn after %d tries", MAX_TURN_TRIES, extra={"tenant_id": tenant_id})
    return None


def _recipients(tenant: Tenant, broker: Broker | None) -> list[tuple[str, str]]:
    chats: list[tuple[str, str]] = []
    if broker is not None and broker.telegram_chat_id:
        chats.append((broker.telegram_chat_id, "broker"))
    chats += [(chat, "admin") for chat in tenant.admin_chats if chat not in dict(chats)]
    return chats


# -- the alert's button ------------------------------------------------------------------------


@dataclass
class Claimed:
    """What pressing "I'm on it" did: the reply to the one who pressed it, and the lead's
    Timeline entry when it was theirs to claim."""

    reply: str
    lead_id: str | None = None
    entries: list[TimelineEntry] = field(default_factory=list)


def claim_handoff(
    event: InboundEvent, tenant: Tenant, repos: Repositories, now: datetime
) -> Claimed:
    """The lead's broker, or an admin, claims the handoff from the alert: the SLA's re-alerts
    stop. Anyone else pressing it (a forwarded alert) is told who has it, and nothing changes."""
    lang = tenant.admin_language
    lead_id = event.payload.removeprefix(CLAIM_PREFIX)
    try:
        lead = repos.leads.get(tenant.tenant_id, lead_id)
    except LeadNotFound:
        return Claimed(reply=t("listing.gone", lang))
    ref = reference(lead.lead_id)
    broker = _broker_of(repos, lead)
    broker_name = broker.name if broker is not None else t("alert.none", lang)
    own = broker is not None and broker.telegram_chat_id == event.external_id
    admin = event.external_id in tenant.admin_chats
    if lead.status not in HANDED_OFF or not (own or admin):
        return Claimed(reply=t("alert.claim.taken", lang, reference=ref, broker=broker_name))
    if lead.broker_claimed_at is not None:
        return Claimed(reply=t("alert.claim.taken", lang, reference=ref, broker=broker_name))
    by = broker_name if own else f"admin {event.external_id}"
    save_lead(repos, lead, lambda x: replace(x, broker_claimed_at=x.broker_claimed_at or now))
    detail = {"by": "broker" if own else "admin", "chat": event.external_id}
    entry = TimelineEntry(kind=TimelineKind.EVENT, at=now, text="claimed", detail=detail)
    return Claimed(
        reply=t("alert.claimed", lang, broker=by, reference=ref),
        lead_id=lead.lead_id,
        entries=[entry],
    )


def _broker_of(repos: Repositories, lead: Lead) -> Broker | None:
    if lead.broker_id is None:
        return None
    try:
        return repos.brokers.get(lead.tenant_id, lead.broker_id)
    except BrokerNotFound:
        return None


# -- the SLA: a handoff nobody claimed is alerted again, then escalated ------------------------


def check_handoff(
    claimed: Lead,
    tenant: Tenant | None,
    repos: Repositories,
    now: datetime,
    staff: Callable[[str, Outbound], Delivery] | None = None,
) -> tuple[GhostOutcome, bool]:
    """A sweep claimed the lead's handoff check (its SLA passed with nobody claiming it): the
    broker and the admins are alerted again; after a second miss, the admins alone hear it
    as an escalation. A lead scored warm or cold is let be: the SLA is for hot leads. The
    outcome, and whether the claim was given back, as `follow_up` reports them."""
    from leadbot.domain import Temperature
    from leadbot.services.followups import GhostOutcome, settle_claim

    step = Held.HANDOFF
    if tenant is None or not tenant.active:
        settle_claim(repos, claimed, step, lambda x: _checked(x, ESCALATION, x.handoff_alerted_at))
        return GhostOutcome.SKIPPED, False
    scored = repos.scores.get(claimed.tenant_id, claimed.lead_id)
    temperature = scored.state.temperature if scored is not None else None
    if temperature in (Temperature.WARM, Temperature.COLD):
        settle_claim(repos, claimed, step, lambda x: _checked(x, ESCALATION, x.handoff_alerted_at))
        entry = TimelineEntry(
            kind=TimelineKind.EVENT, at=now, text="handoff_sla_off", detail={"reason": "not_hot"}
        )
        _record(repos, claimed, [entry])
        return GhostOutcome.SKIPPED, False
    number = claimed.handoff_alerts + 1
    broker = _broker_of(repos, claimed)
    alert = _sla_alert(tenant, claimed, broker, number)
    if staff is None:
        from leadbot.services.telegram import telegram_client

        staff = telegram_client(tenant).send
    # Escalation goes to the admins; a re-alert to the broker too (or the admins alone when
    # nobody could take the lead).
    recipients = _recipients(tenant, broker if number < ESCALATION else None)
    entries: list[TimelineEntry] = []
    sent = False
    text = "handoff_realert" if number < ESCALATION else "handoff_escalated"
    for chat, role in recipients:
        delivery = staff(chat, alert)
        sent = sent or delivery.status is DeliveryStatus.SENT
        entries.append(
            TimelineEntry(
                kind=TimelineKind.EVENT,
                at=now,
                text=text,
                detail={"chat": chat, "to": role, "status": delivery.status.value},
                status=delivery.status,
                message_id=delivery.message_id,
            )
        )
    settle_claim(repos, claimed, step, lambda x: _checked(x, number, now))
    _record(repos, claimed, entries)
    return (GhostOutcome.SENT if sent else GhostOutcome.FAILED), False


def _checked(lead: Lead, alerts: int, at: datetime | None) -> Lead:
    return replace(lead, sla_claimed_at=None, handoff_alerts=alerts, handoff_alerted_at=at)


def _sla_alert(tenant: Tenant, lead: Lead, broker: Broker | None, number: int) -> Outbound:
    lang = tenant.admin_language
    none = t("alert.none", lang)
    key = "alert.handoff.again" if number < ESCALATION else "alert.handoff.escalated"
    waited = tenant.handoff_sla_minutes * (number - FIRST_ALERT)
    text = t(
        key,
        lang,
        reference=reference(lead.lead_id),
        minutes=waited,
        broker=broker.name if broker is not None else none,
        name=lead.name or none,
        phone=lead.phone or none,
        link=tenant.lead_url(lead.lead_id) or lead.lead_id,
    )
    claim = Choice(label=t("alert.claim", lang), value=CLAIM_PREFIX + lead.lead_id)
    return Outbound(text=text, choices=(claim,))


def _record(repos: Repositories, lead: Lead, entries: list[TimelineEntry]) -> None:
    record(repos, lead.tenant_id, lead.lead_id, entries)
