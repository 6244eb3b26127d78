"""Pure domain types: leads, tenants, inbound events, outbound messages. No I/O here.

Brokers and deals load on first use: the webhooks, whose cold start counts, never touch them.
"""

from typing import TYPE_CHECKING, Any

from leadbot.domain.enums import (
    Bedrooms,
    Channel,
    EventKind,
    FlowMode,
    FollowupStep,
    Goal,
    Grade,
    Language,
    LeadStatus,
    PaymentMethod,
    PropertyType,
    Stage,
    Temperature,
    Timeline,
)
from leadbot.domain.errors import (
    BrokerNotFound,
    ChannelBlocked,
    ChannelError,
    DealConflict,
    DealNotFound,
    DomainError,
    InvalidSettings,
    LeadConflict,
    LeadNotFound,
    LinkNotFound,
    PropertyConflict,
    PropertyNotFound,
    TenantConflict,
    TenantDisabled,
    TenantExists,
    TenantNotFound,
)
from leadbot.domain.models import (
    Catalog,
    Choice,
    Decision,
    Delivery,
    DeliveryStatus,
    DomainEvent,
    FollowupTemplate,
    InboundEvent,
    Lead,
    Link,
    Money,
    Outbound,
    PhoneCaptured,
    ScoreState,
    SlowedDown,
    Tenant,
    TimelineEntry,
    TimelineEvent,
    TimelineKind,
    WhatsAppTemplate,
)

if TYPE_CHECKING:
    from leadbot.domain.deals import (
        Broker,
        Commission,
        Deal,
        DealStatus,
        commissions,
        fits_currency,
        minor_units,
        to_minor,
    )

_DEALS = frozenset(
    {
        "Broker",
        "Commission",
        "Deal",
        "DealStatus",
        "commissions",
        "fits_currency",
        "minor_units",
        "to_minor",
    }
)


def __getattr__(name: str) -> Any:
    if name in _DEALS:
        from leadbot.domain import deals

        return getattr(deals, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Bedrooms",
    "Broker",
    "BrokerNotFound",
    "Catalog",
    "Channel",
    "ChannelBlocked",
    "ChannelError",
    "Choice",
    "Commission",
    "Deal",
    "DealConflict",
    "DealNotFound",
    "DealStatus",
    "Decision",
    "Delivery",
    "DeliveryStatus",
    "DomainError",
    "DomainEvent",
    "EventKind",
    "FlowMode",
    "FollowupStep",
    "FollowupTemplate",
    "Goal",
    "Grade",
    "InboundEvent",
    "InvalidSettings",
    "Language",
    "Lead",
    "LeadConflict",
    "LeadNotFound",
    "LeadStatus",
    "Link",
    "LinkNotFound",
    "Money",
    "Outbound",
    "PaymentMethod",
    "PhoneCaptured",
    "PropertyConflict",
    "PropertyNotFound",
    "PropertyType",
    "ScoreState",
    "SlowedDown",
    "Stage",
    "Temperature",
    "Tenant",
    "TenantConflict",
    "TenantDisabled",
    "TenantExists",
    "TenantNotFound",
    "Timeline",
    "TimelineEntry",
    "TimelineEvent",
    "TimelineKind",
    "WhatsAppTemplate",
    "commissions",
    "fits_currency",
    "minor_units",
    "to_minor",
]
