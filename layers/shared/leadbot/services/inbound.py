"""One inbound event, any channel: find the lead, step the conversation, persist, reply, alert."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from ulid import ULID

from leadbot import clock
from leadbot.conversation import CatalogUrl, Ctx, needs, step
from leadbot.domain import (
    Decision,
    Delivery,
    DeliveryStatus,
    EventKind,
    InboundEvent,
    Language,
    Lead,
    LeadConflict,
    LeadNotFound,
    LeadStatus,
    Outbound,
    PhoneCaptured,
    Stage,
    Tenant,
    TimelineEntry,
    TimelineEvent,
    TimelineKind,
)
from leadbot.domain.handoff import CLAIM_PREFIX, BrokerRequested
from leadbot.domain.knowledge import Answer, KnowledgeGap, RecordedGap
from leadbot.metrics import Metric, count
from leadbot.services.alerts import hot_lead_alert
from leadbot.services.runtime import Repositories
from leadbot.store import GAPS_STREAM, IdentityTaken, TimelineUnavailable

if TYPE_CHECKING:
    from leadbot.domain.listings import Property

log = logging.getLogger(__name__)
# The writes a timeline_in_background block waits for; None outside one (write at once).
_deferred: ContextVar[list[threading.Thread] | None] = ContextVar("deferred", default=None)

# Concurrent messages of one lead retry on a version conflict, with a short random pause so
# they stop colliding; past this the caller answers "retry later" and the channel redelivers.
MAX_CONFLICT_RETRIES = 12
CONFLICT_PAUSE_S = 0.02

# (agency, the lead's question, the lead's language) -> what the agency's knowledge says, or
# None when it says nothing (the lead hears so; the question becomes a knowledge gap).
Answerer = Callable[[Tenant, str, Language], Answer | None]


class Messenger(Protocol):
    """A channel's sending side, as the use case needs it."""

    def send(self, chat_id: str, outbound: Outbound, language: Language | None = None) -> Delivery:
        """`language`: the reader's, for what the channel words itself (WhatsApp's list button)."""
        ...

    def acknowledge(self, receipt_id: str) -> None: ...


@dataclass
class InboundResult:
    lead_id: str | None
    deliveries: list[Delivery] = field(default_factory=list)
    alerts_sent: int = 0


def handle_event(
    event: InboundEvent,
    tenant: Tenant,
    repos: Repositories,
    messenger: Messenger,
    now: Callable[[], datetime] = clock.now,
    catalog_url: CatalogUrl | None = None,
    alerter: Callable[[], Messenger | None] | None = None,
    prepare: Callable[[InboundEvent], InboundEvent] | None = None,
    answerer: Answerer | None = None,
) -> InboundResult:
    """Run one event through the conversation. Not idempotent by itself: callers guard it.

    Replies go back where the event came from, through `messenger`. Hot lead alerts go to the
    agency's admin chats through `alerter()` (made only when there is one to send: the Telegram
    bot, whichever channel the lead wrote on), else through `messenger`. `catalog_url` makes the
    tracked catalog links the conversation offers (none without it). `prepare` turns the event
    into what the conversation should see, once, while the channel shows it received (a voice
    note into its transcript: services.voice). `answerer` answers the questions leads ask
    (without one, every question is a knowledge gap).
    """
    lookups = _Lookups(tenant, repos, answerer)
    received = now()
    if event.kind is EventKind.CHOICE and event.payload.startswith(CLAIM_PREFIX):
        return _claim(event, tenant, repos, messenger, now)
    key = repos.identities.key(tenant.tenant_id, event.channel, event.external_id)
    # A /start mostly comes from someone new: claiming straight away saves a read for them.
    lead_id = repos.identities.lead_id(key, remembered_only=event.kind is EventKind.START)
    if lead_id is None and event.kind in (EventKind.BLOCKED, EventKind.UNBLOCKED):
        return InboundResult(lead_id=None)  # a stranger blocking the bot is not a lead
    linked = None
    if lead_id is None and event.sender_phone:
        linked = _link_by_phone(event, tenant, repos, key, received)
        lead_id = linked
    with _acknowledging(messenger, event.receipt_id):
        if prepare is not None:
            event = prepare(event)
        created = (
            _create_lead(event, tenant, repos, key, now, catalog_url, lookups)
            if lead_id is None
            else None
        )
        if created is not None:
            lead, decision = created
        else:
            lead_id = lead_id or repos.identities.lead_id(key, consistent=True)
            assert lead_id is not None  # the identity was taken by an existing lead
            try:
                lead, decision = _step_and_save(
                    event, tenant, repos, lead_id, now, catalog_url, lookups
                )
            except LeadNotFound:
                # Forgotten (data rights) after this process remembered it: the person is
                # new again. If someone else bound the chat meanwhile, the redelivery finds it.
                repos.identities.forget(key)
                repos.leads.forget(tenant.tenant_id, lead_id)
                created = _create_lead(event, tenant, repos, key, now, catalog_url, lookups)
                if created is None:
                    raise LeadConflict(f"{lead_id}: forgotten, and its chat bound again") from None
                lead, decision = created
        language = lead.language or tenant.default_language
        deliveries = [
            messenger.send(event.external_id, outbound, language) for outbound in decision.outbound
        ]

    alerts: dict[str, Delivery] = {}
    staff: Messenger | None = None
    if any(isinstance(e, PhoneCaptured) for e in decision.events) and tenant.admin_chats:
        count(Metric.HOT_LEAD_ALERTS)
        alert = hot_lead_alert(tenant, lead, now())
        staff = (alerter() if alerter is not None else messenger) or messenger
        alerts = {chat: staff.send(chat, alert) for chat in tenant.admin_chats}
    blocked = any(d.status is DeliveryStatus.BLOCKED for d in deliveries)
    if blocked and not lead.unreachable:
        _mark_unreachable(repos, lead, now)
    entries = _timeline(event, received, decision, deliveries, alerts, blocked, now())
    handoff_alerts = 0
    if any(isinstance(e, BrokerRequested) for e in decision.events):
        from leadbot.services.handoff import route_handoff

        staff = staff or (alerter() if alerter is not None else messenger) or messenger
        handoff = route_handoff(repos, tenant, lead, now(), staff.send)
        lead = handoff.lead
        entries += handoff.entries
        handoff_alerts = handoff.alerts_sent
    if linked is not None:
        text = f"linked_{event.channel.value}"
        entries.insert(0, TimelineEntry(kind=TimelineKind.EVENT, at=received, text=text))
    gaps = [
        RecordedGap(question=e.question, language=e.language, lead_id=lead.lead_id, at=received)
        for e in decision.events
        if isinstance(e, KnowledgeGap)
    ]
    # In the same batch write as the lead's own entries: a question costs no extra request.
    also = {GAPS_STREAM: [gap.entry(event.channel) for gap in gaps]} if gaps else None
    record(repos, tenant.tenant_id, lead.lead_id, entries, also=also)
    sent_alerts = sum(d.status is DeliveryStatus.SENT for d in alerts.values()) + handoff_alerts
    return InboundResult(lead_id=lead.lead_id, deliveries=deliveries, alerts_sent=sent_alerts)


def _claim(
    event: InboundEvent,
    tenant: Tenant,
    repos: Repositories,
    messenger: Messenger,
    now: Callable[[], datetime],
) -> InboundResult:
    """A broker or an admin pressed "I'm on it" on a handoff alert: their chat is no lead."""
    from leadbot.services.handoff import claim_handoff

    with _acknowledging(messenger, event.receipt_id):
        claimed = claim_handoff(event, tenant, repos, now())
        delivery = messenger.send(event.external_id, Outbound(text=claimed.reply))
    if claimed.lead_id is not None:
        record(repos, tenant.tenant_id, claimed.lead_id, claimed.entries)
    return InboundResult(lead_id=claimed.lead_id, deliveries=[delivery])


def record(
    repos: Repositories,
    tenant_id: str,
    lead_id: str,
    entries: list[TimelineEntry],
    also: Mapping[str, list[TimelineEntry]] | None = None,
) -> None:
    """Append to the lead's Timeline (and `also` to other streams of the tenant, such as
    GAPS_STREAM); if DynamoDB refuses, keep the entries in the log instead.

    By now the lead is saved and the replies are sent: failing the update would make the
    channel redeliver it and the lead would be answered and counted twice.
    """
    streams = {lead_id: entries, **(also or {})}
    pending = _deferred.get()
    if pending is None:
        _append(repos, tenant_id, lead_id, streams)
        return
    writer = threading.Thread(target=_append, args=(repos, tenant_id, lead_id, streams))
    writer.start()
    pending.append(writer)


@contextmanager
def timeline_in_background() -> Iterator[None]:
    """Timeline writes recorded inside start at once and finish by the end of the block, so
    they overlap with what follows them (Powertools marking the update done: one DynamoDB
    round trip less per message). Nothing is left running when the block ends."""
    pending: list[threading.Thread] = []
    token = _deferred.set(pending)
    try:
        yield
    finally:
        _deferred.reset(token)
        for writer in pending:
            writer.join()


def _append(
    repos: Repositories, tenant_id: str, lead_id: str, streams: Mapping[str, list[TimelineEntry]]
) -> None:
    try:
        repos.timeline.append_streams(tenant_id, streams)
    except TimelineUnavailable as exc:
        from leadbot.parsing.pii import redact

        # The log keeps what Timeline could not, with phone numbers, emails, IBANs and ID
        # numbers masked (DESIGN.md §5): logs are read by more people, and kept longer, than
        # a lead's Timeline.
        lines = [
            {
                "stream": stream,
                "kind": e.kind.value,
                "at": e.at.isoformat(),
                "text": redact(e.text),
                **{k: redact(v) if isinstance(v, str) else v for k, v in e.detail.items()},
            }
            for stream, written in streams.items()
            for e in written
        ]
        log.error(
            "timeline write failed: %s",
            exc,
            extra={"tenant_id": tenant_id, "lead_id": lead_id, "entries": lines},
        )


@contextmanager
def _acknowledging(messenger: Messenger, receipt_id: str) -> Iterator[None]:
    """Acknowledge the event at once (a pressed button's spinner stops, a message shows read)
    while the answer is worked out and sent."""
    if not receipt_id:
        yield
        return
    ack = threading.Thread(target=messenger.acknowledge, args=(receipt_id,))
    ack.start()
    try:
        yield
    finally:
        ack.join()


class _Lookups:
    """What a step may need besides the lead (`conversation.needs`): the agency's active
    listings and the answer to the lead's question, each fetched at most once per event, so a
    retried step reuses them. An ordinary message needs neither and costs no request."""

    def __init__(self, tenant: Tenant, repos: Repositories, answerer: Answerer | None) -> None:
        self._tenant = tenant
        self._repos = repos
        self._answerer = answerer
        self._listings: tuple[Property, ...] | None = None
        self._answers: dict[tuple[str, Language], Answer | None] = {}

    def ctx(
        self, lead: Lead, event: InboundEvent, now: datetime, catalog_url: CatalogUrl | None
    ) -> Ctx:
        wanted = needs(lead, event, self._tenant)
        listings = self.listings() if wanted.listings else None
        answer = None
        if wanted.question is not None:
            answer = self.answer(wanted.question, wanted.language)
        return Ctx(
            tenant=self._tenant,
            now=now,
            catalog_url=catalog_url,
            listings=listings,
            answer=answer,
        )

    def listings(self) -> tuple[Property, ...]:
        if self._listings is None:
            self._listings = self._repos.active_listings.get(self._tenant.tenant_id)
        return self._listings

    def answer(self, question: str, language: Language) -> Answer | None:
        if self._answerer is None:
            return None
        key = (question, language)
        if key not in self._answers:
            try:
                self._answers[key] = self._answerer(self._tenant, question, language)
            except Exception:
                # Not knowing is a reply the conversation has; a failing answerer must not
                # make the channel redeliver the message.
                log.exception("answering failed", extra={"tenant_id": self._tenant.tenant_id})
                self._answers[key] = None
        return self._answers[key]


def _create_lead(
    event: InboundEvent,
    tenant: Tenant,
    repos: Repositories,
    identity_key: str,
    now: Callable[[], datetime],
    catalog_url: CatalogUrl | None,
    lookups: _Lookups,
) -> tuple[Lead, Decision] | None:
    """A first message makes a lead and binds its identity in one write; None if already bound."""
    lead = _new_lead(event, str(ULID()), now())
    decision = step(lead, event, lookups.ctx(lead, event, now(), catalog_url))
    try:
        lead = repos.leads.create(decision.lead, identity_key)
    except IdentityTaken:
        return None
    repos.identities.remember(identity_key, lead.lead_id)
    count(Metric.LEADS_CREATED)
    if lead.is_qualified:
        count(Metric.LEADS_QUALIFIED)
    return lead, decision


def _link_by_phone(
    event: InboundEvent, tenant: Tenant, repos: Repositories, key: str, now: datetime
) -> str | None:
    """The lead this newcomer already is, by the number the channel vouches for: the oldest
    of the agency's leads with that phone (a Telegram lead who left it, an imported one).
    Its identity on this channel is bound to that lead, so later messages find it directly."""
    assert event.sender_phone is not None
    owners = repos.leads.ids_with_phone(tenant.tenant_id, event.sender_phone)
    if not owners:
        return None
    return repos.identities.bind(key, owners[0], now)


def _step_and_save(
    event: InboundEvent,
    tenant: Tenant,
    repos: Repositories,
    lead_id: str,
    now: Callable[[], datetime],
    catalog_url: CatalogUrl | None,
    lookups: _Lookups,
) -> tuple[Lead, Decision]:
    """Optimistic locking: step on the lead as read; on a conflict, re-read and step again."""
    for attempt in range(MAX_CONFLICT_RETRIES):
        # The first try may start from this process's last copy; a retry reads afresh.
        load = repos.leads.recent if attempt == 0 else repos.leads.get
        before = load(tenant.tenant_id, lead_id)
        decision = step(before, event, lookups.ctx(before, event, now(), catalog_url))
        try:
            saved = repos.leads.save(before, decision.lead)
        except LeadConflict:
            time.sleep(random.uniform(0, CONFLICT_PAUSE_S))
            continue
        # The version check makes this save the only one that saw the lead turn qualified.
        if saved.is_qualified and not before.is_qualified:
            count(Metric.LEADS_QUALIFIED)
        return saved, decision
    raise LeadConflict(f"{lead_id}: still conflicting after {MAX_CONFLICT_RETRIES} tries")


def _new_lead(event: InboundEvent, lead_id: str, now: datetime) -> Lead:
    return Lead(
        tenant_id=event.tenant_id,
        lead_id=lead_id,
        channel=event.channel,
        external_id=event.external_id,
        stage=Stage.LANGUAGE,
        status=LeadStatus.NEW,
        created_at=now,
        updated_at=now,
    )


def save_lead(repos: Repositories, lead: Lead, change: Callable[[Lead], Lead]) -> Lead:
    """Save `change(lead)`, reading the lead afresh and changing that when someone wrote in
    between; LeadConflict after MAX_CONFLICT_RETRIES tries."""
    for _ in range(MAX_CONFLICT_RETRIES):
        try:
            return repos.leads.save(lead, change(lead))
        except LeadConflict:
            lead = repos.leads.get(lead.tenant_id, lead.lead_id)
    raise LeadConflict(f"{lead.lead_id}: still conflicting after {MAX_CONFLICT_RETRIES} tries")


def _mark_unreachable(repos: Repositories, lead: Lead, now: Callable[[], datetime]) -> None:
    for _ in range(MAX_CONFLICT_RETRIES):
        try:
            repos.leads.save(lead, replace(lead, unreachable=True, updated_at=now()))
            return
        except LeadConflict:
            lead = repos.leads.get(lead.tenant_id, lead.lead_id)


def _timeline(
    event: InboundEvent,
    received: datetime,
    decision: Decision,
    deliveries: list[Delivery],
    alerts: dict[str, Delivery],
    blocked: bool,
    now: datetime,
) -> list[TimelineEntry]:
    """What Timeline keeps of one event: the message, each reply and alert with its status."""
    entries = [_inbound_entry(event, received)]
    entries += [
        _outbound_entry(event, o, d, now)
        for o, d in zip(decision.outbound, deliveries, strict=True)
    ]
    entries += [
        TimelineEntry(
            kind=TimelineKind.EVENT,
            at=now,
            text="hot_lead_alert",
            detail={"admin_chat": chat, "status": d.status.value},
            status=d.status,
            message_id=d.message_id,
        )
        for chat, d in alerts.items()
    ]
    entries += [e.entry(now) for e in decision.events if isinstance(e, TimelineEvent)]
    if blocked:
        entries.append(TimelineEntry(kind=TimelineKind.EVENT, at=now, text="unreachable"))
    return entries


def _inbound_entry(event: InboundEvent, received: datetime) -> TimelineEntry:
    """At the time it arrived here, which orders it before its replies and after earlier
    messages; channels date messages to the second only (Telegram), button presses not at all."""
    detail = {"event_id": event.event_id, "kind": event.kind.value, "sent_at": event.at.isoformat()}
    if event.voice:
        # What the lead sent is a voice note; its text is a machine transcript of it.
        detail.update(kind=EventKind.VOICE.value, transcript="true")
    if event.payload:
        detail["payload"] = event.payload
    if event.contact_phone:
        detail["contact_phone"] = event.contact_phone
    return TimelineEntry(
        kind=TimelineKind.INBOUND,
        at=received,
        channel=event.channel,
        text=event.text,
        detail=detail,
    )


def _outbound_entry(
    event: InboundEvent, outbound: Outbound, delivery: Delivery, now: datetime
) -> TimelineEntry:
    detail = {"choices": ",".join(c.value for c in outbound.choices)} if outbound.choices else {}
    if outbound.links:
        # Labels only: a link's URL carries a token that would count views for the lead.
        detail["links"] = "\n".join(link.label for link in outbound.links)
    if outbound.image:
        detail["image"] = outbound.image  # agents see which photo the lead was sent
    if delivery.error:
        detail["error"] = delivery.error
    return TimelineEntry(
        kind=TimelineKind.OUTBOUND,
        at=now,
        channel=event.channel,
        text=outbound.text,
        detail=detail,
        status=delivery.status,
        message_id=delivery.message_id,
    )
