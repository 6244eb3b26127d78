"""Leads, tenants, inbound events and channel-neutral outbound messages.

Plain frozen dataclasses: they cost nothing to define at a cold start, and the store and the
channels validate what comes from outside before building them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from leadbot.domain.enums import (
    Bedrooms,
    Channel,
    EventKind,
    FlowMode,
    FollowupStep,
    Goal,
    Language,
    LeadStatus,
    PaymentMethod,
    PropertyType,
    Stage,
    Temperature,
    Timeline,
)

_ALL_LANGUAGES = (Language.EN, Language.FA, Language.AR, Language.RU)


class Value:
    """Equality, hashing and repr by fields, as dataclasses would generate them, for the frozen
    dataclasses below (declared `eq=False, repr=False`). Written once here: dataclasses
    compiles its generated methods one `exec` per method and class, and for these classes
    eq, hash and repr were most of what defining the domain cost a webhook's cold start."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return _values(self) == _values(other)

    def __hash__(self) -> int:
        return hash(_values(self))

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in _field_names(type(self)))
        return f"{type(self).__qualname__}({shown})"


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


def _values(value: Value) -> tuple[Any, ...]:
    return tuple(getattr(value, n) for n in _field_names(type(value)))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Money(Value):
    """An amount in a currency; never a float."""

    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Catalog(Value):
    """A brochure an agency shares with leads: a named link until listings land (DESIGN.md §4)."""

    catalog_id: str  # short and stable: it travels inside every tracked link to this catalog
    title: str
    url: str


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class FollowupTemplate(Value):
    """An agency's own wording of one follow-up in one language, instead of the catalog's."""

    step: FollowupStep
    language: Language
    text: str  # may hold {name} and {agency}; see domain/settings.py


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class WhatsAppTemplate(Value):
    """A message template Meta approved for the agency's number: the only kind of message that
    may reach a lead more than 24 h after their last one. `parameters` fill the template body's
    {{1}}, {{2}}, … in order: "name" (the lead's name) or "agency" (the agency's)."""

    language: Language
    name: str
    code: str  # Meta's code of the approved translation: "en_US", "ar", "fa", "ru"
    parameters: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Tenant(Value):
    """An agency's settings. Secrets live in SSM; only their parameter names are here."""

    tenant_id: str
    name: str
    languages: tuple[Language, ...] = _ALL_LANGUAGES
    default_language: Language = Language.EN
    currency: str = "AED"
    phone_region: str = "AE"
    timezone: str = "Asia/Dubai"
    admin_chats: tuple[str, ...] = ()
    admin_language: Language = Language.EN
    dashboard_url: str = ""
    telegram_bot_token_param: str = ""
    telegram_secret_param: str = ""
    # The WhatsApp Business number: Meta's webhooks name it, so it routes them to the agency.
    whatsapp_phone_number_id: str = ""
    whatsapp_token_param: str = ""  # the Graph API access token
    whatsapp_app_secret_param: str = ""  # signs Meta's webhook calls (X-Hub-Signature-256)
    whatsapp_verify_token_param: str = ""  # answers Meta's subscription check (GET /whatsapp)
    whatsapp_templates: tuple[WhatsAppTemplate, ...] = ()  # beyond the 24 h window, per language
    catalogs: tuple[Catalog, ...] = ()
    active: bool = True
    # Airtable CRM sync: the agency's base ("app" + 14 letters or digits, not a secret) and the
    # SSM parameter holding its access token. Nothing is synced unless both are set.
    airtable_base_id: str | None = None
    airtable_token_param: str = ""
    # A deal's broker commission is value × broker rate; the platform's is that × platform rate.
    broker_commission_rate: Decimal = Decimal("0.02")
    platform_commission_rate: Decimal = Decimal("0.25")
    # The conversation reads flow_mode, qa_first_after and scarcity_threshold; the follow-ups
    # (domain/followups.py) read the rest, and `timezone` for leads whose phone names none.
    # Rules: domain/settings.py.
    flow_mode: FlowMode = FlowMode.GUIDED
    qa_first_after: int = 2  # qa_first: lead messages before the qualifying questions start
    ghost_after_minutes: int = 120  # a quiet lead's one ghost follow-up, after this long
    campaign_days: tuple[int, ...] = (3, 6)  # after the ghost follow-up, a step on each day
    quiet_hours_start: int = 21  # no follow-ups from this hour to quiet_hours_end, local time
    quiet_hours_end: int = 9
    followup_templates: tuple[FollowupTemplate, ...] = ()
    scarcity_threshold: int = 3  # "only N units left" only when N is at most this
    # When brokers call leads back (local time, weekdays Monday=0), and how long a handoff may
    # go unclaimed before it is alerted again (domain/handoff.py).
    business_hours_start: int = 9
    business_hours_end: int = 18
    business_days: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
    handoff_sla_minutes: int = 5
    # Bumped by every settings change; a change made from an older copy is refused and redone.
    settings_version: int = 0
    created_at: datetime | None = None  # set by `leadbot.admin tenant create`; None: before it

    @property
    def airtable_configured(self) -> bool:
        return bool(self.airtable_base_id and self.airtable_token_param)

    def lead_url(self, lead_id: str) -> str:
        return f"{self.dashboard_url.rstrip('/')}/leads/{lead_id}" if self.dashboard_url else ""

    def catalog(self, catalog_id: str) -> Catalog | None:
        return next((c for c in self.catalogs if c.catalog_id == catalog_id), None)

    def whatsapp_template(self, language: Language) -> WhatsAppTemplate | None:
        """The approved template for a lead speaking `language`: its own, else the default
        language's, else the first there is."""
        by_language = {x.language: x for x in reversed(self.whatsapp_templates)}
        return (
            by_language.get(language)
            or by_language.get(self.default_language)
            or next(iter(self.whatsapp_templates), None)
        )

    def followup_template(self, step: FollowupStep, language: Language) -> str | None:
        """The agency's wording of `step` in `language`; None: the catalog's."""
        return next(
            (x.text for x in self.followup_templates if (x.step, x.language) == (step, language)),
            None,
        )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Lead(Value):
    """One prospective buyer or renter of one tenant, as the conversation sees them."""

    tenant_id: str
    lead_id: str
    channel: Channel
    external_id: str
    name: str = ""
    username: str = ""
    language: Language | None = None
    stage: Stage = Stage.LANGUAGE
    status: LeadStatus = LeadStatus.NEW
    lost_reason: str | None = None
    goal: Goal | None = None
    budget: Money | None = None
    property_type: PropertyType | None = None
    location: str | None = None
    timeline: Timeline | None = None
    bedrooms: Bedrooms | None = None
    payment_method: PaymentMethod | None = None
    phone: str | None = None
    email: str | None = None  # lower case
    linkedin_url: str | None = None  # normalised: linkedin.com/in/<slug>
    source: str | None = None
    broker_id: str | None = None  # the broker working the lead
    qr_scans: int = 0
    catalog_views: int = 0
    messages_count: int = 0
    voice_count: int = 0
    invalid_answers: int = 0
    opted_out: bool = False
    bot_paused: bool = False  # an agent took over: the bot listens and stays silent
    unreachable: bool = False
    created_at: datetime
    updated_at: datetime
    last_inbound_at: datetime | None = None
    last_catalog_view_at: datetime | None = None
    phone_captured_at: datetime | None = None
    # Listings offered as cards (ids, in the order shown): "Show more" goes on past them.
    offered_property_ids: tuple[str, ...] = ()
    # Honest urgency (conversation/matching.py): 0-10 from the lead's timeline and the scarcity
    # messages it was shown; fomo_messages_sent counts those ("only N units left", N real).
    urgency_score: int = 0
    fomo_messages_sent: int = 0
    # A viewing the lead asked for from a listing card; an agent confirms it (status
    # viewing_scheduled is theirs to set).
    viewing_requested_at: datetime | None = None
    viewing_property_id: str | None = None
    # The four questions (budget, area, timeline, unit) answered so far, 0-4; qualified at 4.
    qualification_score: int = 0
    is_qualified: bool = False
    qualified_at: datetime | None = None
    # The ghost follow-up (domain/followups.py): taken by a sweep, then sent; each at most once.
    ghost_claimed_at: datetime | None = None
    ghost_reminded_at: datetime | None = None
    # The campaign after it: steps passed (sent, or given up on), the next one's claim.
    campaign_steps_sent: int = 0
    campaign_claimed_at: datetime | None = None
    # A sweep found the follow-up due in quiet hours (or under a longer delay): not before this.
    followup_not_before: datetime | None = None
    # The handoff (domain/handoff.py): asked for, given to a broker, claimed by them; the
    # alerts sent about it so far and when the last went.
    broker_requested_at: datetime | None = None
    assigned_at: datetime | None = None
    broker_claimed_at: datetime | None = None
    handoff_alerts: int = 0
    handoff_alerted_at: datetime | None = None
    sla_claimed_at: datetime | None = None  # a sweep checking the handoff for a claim
    # New listings the lead was told about (at most once each, services/matches.py).
    matched_property_ids: tuple[str, ...] = ()
    # Of those, the ones that matched in the lead's quiet hours: told by a sweep at their end
    # (`held_until`), under a claim of their own, as the follow-ups are.
    held_property_ids: tuple[str, ...] = ()
    held_until: datetime | None = None
    held_claimed_at: datetime | None = None
    # The guard's token bucket (conversation/guard.py): what was left as of last_inbound_at
    # (None: full), and when the lead was last asked to slow down.
    rate_tokens: float | None = None
    slowed_down_at: datetime | None = None
    version: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class ScoreState(Value):
    """The score a lead carries, as stored with it; only scoring writes it (DESIGN.md §7)."""

    value: int | None = None  # None: never scored (0 is a score)
    temperature: Temperature | None = None
    breakdown: dict[str, Any] = field(default_factory=dict)
    scored_at: datetime | None = None
    rescore_at: datetime | None = None
    burning_alerted_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class InboundEvent(Value):
    """One thing a lead did, normalised from any channel (DESIGN.md §5)."""

    tenant_id: str
    channel: Channel
    event_id: str
    external_id: str
    kind: EventKind
    at: datetime
    text: str = ""
    payload: str = ""
    contact_phone: str | None = None
    contact_is_own: bool = False
    # The sender's own number, when the channel vouches for it (WhatsApp's wa_id; never Telegram).
    sender_phone: str | None = None
    language_hint: str | None = None
    name: str = ""
    username: str = ""
    # What the channel wants acknowledged as soon as the event is taken in: Telegram's callback
    # query id (a pressed button stops spinning), WhatsApp's message id (shown as read).
    receipt_id: str = ""
    # The audio of a VOICE event, for the service to download: Telegram's file_id, WhatsApp's
    # media id; its MIME type and size when the channel gives them.
    media_id: str = ""
    media_type: str = ""
    media_size: int | None = None
    # TEXT the lead spoke: a voice note's transcript. It still counts as a voice message.
    voice: bool = False


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Choice(Value):
    """A button: what the lead sees and the value that comes back when pressed."""

    label: str
    value: str


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Link(Value):
    """A button that opens a web page (a tracked catalog link) instead of answering the bot."""

    label: str
    url: str


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Outbound(Value):
    """A channel-neutral message; channels render it (inline keyboards, reply buttons, lists)."""

    text: str
    choices: tuple[Choice, ...] = ()
    links: tuple[Link, ...] = ()
    request_contact: str | None = None  # the label of a share-phone button
    remove_keyboard: bool = False
    image: str | None = None  # a picture's public https URL (a listing's photo), shown first


class DeliveryStatus(StrEnum):
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    RATE_LIMITED = "rate_limited"
    # Reported later by channels that say so (WhatsApp's statuses), after SENT.
    DELIVERED = "delivered"
    READ = "read"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Delivery(Value):
    """What became of one outbound message."""

    status: DeliveryStatus
    message_id: str | None = None
    error: str | None = None
    error_code: int | None = None
    retryable: bool = False  # a failure the channel says may pass (rate limits, its outages)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class DomainEvent(Value):
    """Something a step decided that the service must act on (alerts, handoffs)."""


class TimelineEvent(DomainEvent):
    """An event the service records on the lead's Timeline as `entry` words it."""

    __slots__ = ()

    def entry(self, at: datetime) -> TimelineEntry:
        raise NotImplementedError


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class SlowedDown(TimelineEvent):
    """The lead wrote faster than the guard lets through and was asked to slow down; what it
    sends until the bucket refills is recorded, not answered."""

    def entry(self, at: datetime) -> TimelineEntry:
        return TimelineEntry(kind=TimelineKind.EVENT, at=at, text="rate_limited")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class PhoneCaptured(DomainEvent):
    """The lead left a phone number: the agency's admins must hear of it at once."""

    lead_id: str


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Decision(Value):
    """What one conversation step decided: the lead as it is now, what to say, what happened."""

    lead: Lead
    outbound: tuple[Outbound, ...] = ()
    events: tuple[DomainEvent, ...] = ()


class TimelineKind(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    EVENT = "event"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class TimelineEntry(Value):
    """One line of a lead's history: a message either way, or something that happened."""

    kind: TimelineKind
    at: datetime
    channel: Channel | None = None
    text: str = ""
    detail: dict[str, str] = field(default_factory=dict)
    status: DeliveryStatus | None = None
    message_id: str | None = None
