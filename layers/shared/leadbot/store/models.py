"""pynamodb models of the tables; the only place that knows their layouts (DESIGN.md §4).

Table names come from settings at run time, so the classes here are templates that `bind`
subclasses with a Meta per deployment (no environment is read at import time).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

M = TypeVar("M", bound=Model)


class CatalogAttribute(MapAttribute[str, Any]):
    catalog_id = UnicodeAttribute()
    title = UnicodeAttribute()
    url = UnicodeAttribute()


class FollowupTemplateAttribute(MapAttribute[str, Any]):
    step = UnicodeAttribute()
    language = UnicodeAttribute()
    text = UnicodeAttribute()


class WhatsAppTemplateAttribute(MapAttribute[str, Any]):
    language = UnicodeAttribute()
    name = UnicodeAttribute()
    code = UnicodeAttribute()
    parameters = ListAttribute(of=UnicodeAttribute, null=True)


class TenantModel(Model):
    class Meta:
        table_name = "Tenants"

    tenant_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute(default="")
    languages = ListAttribute(of=UnicodeAttribute, null=True)
    default_language = UnicodeAttribute(null=True)
    currency = UnicodeAttribute(null=True)
    phone_region = UnicodeAttribute(null=True)
    timezone = UnicodeAttribute(null=True)
    admin_chats = UnicodeSetAttribute(null=True)
    admin_language = UnicodeAttribute(null=True)
    dashboard_url = UnicodeAttribute(null=True)
    telegram_bot_token_param = UnicodeAttribute(null=True)
    telegram_secret_param = UnicodeAttribute(null=True)
    whatsapp_phone_number_id = UnicodeAttribute(null=True)
    whatsapp_token_param = UnicodeAttribute(null=True)
    whatsapp_app_secret_param = UnicodeAttribute(null=True)
    whatsapp_verify_token_param = UnicodeAttribute(null=True)
    whatsapp_templates = ListAttribute(of=WhatsAppTemplateAttribute, null=True)
    catalogs = ListAttribute(of=CatalogAttribute, null=True)
    active = BooleanAttribute(default=True)
    airtable_base_id = UnicodeAttribute(null=True)
    airtable_token_param = UnicodeAttribute(null=True)
    # Decimal strings ("0.02"); absent means the defaults of domain.Tenant.
    broker_commission_rate = UnicodeAttribute(null=True)
    platform_commission_rate = UnicodeAttribute(null=True)
    # Settings admins change from the dashboard; absent means the defaults of domain.Tenant.
    flow_mode = UnicodeAttribute(null=True)
    qa_first_after = NumberAttribute(null=True)
    ghost_after_minutes = NumberAttribute(null=True)
    campaign_days = ListAttribute(of=NumberAttribute, null=True)
    quiet_hours_start = NumberAttribute(null=True)
    quiet_hours_end = NumberAttribute(null=True)
    followup_templates = ListAttribute(of=FollowupTemplateAttribute, null=True)
    scarcity_threshold = NumberAttribute(null=True)
    business_hours_start = NumberAttribute(null=True)
    business_hours_end = NumberAttribute(null=True)
    business_days = ListAttribute(of=NumberAttribute, null=True)
    handoff_sla_minutes = NumberAttribute(null=True)
    settings_version = NumberAttribute(null=True)  # optimistic locking of settings changes
    created_at = UTCDateTimeAttribute(null=True)  # tenants made before `tenant create` lack it


class ByLeadIndex(GlobalSecondaryIndex["IdentityModel"]):  # type: ignore[no-untyped-call]
    """Sparse, keys only: every key bound to a lead (a lead's data is forgotten with them all,
    including keys no longer on the lead: a second phone an import bound to it)."""

    class Meta:
        index_name = "by_lead"
        projection = KeysOnlyProjection()

    lead_id = UnicodeAttribute(hash_key=True)


class IdentityModel(Model):
    """tenant#channel#external_id → lead_id; also tenant#admin_code#<sha256> one-time codes,
    and _whatsapp#… → tenant_id: what routes Meta's webhook calls to an agency."""

    class Meta:
        table_name = "Identities"

    by_lead = ByLeadIndex()

    pk = UnicodeAttribute(hash_key=True)
    lead_id = UnicodeAttribute(null=True)
    tenant_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # epoch seconds; DynamoDB TTL


class RescoreDueIndex(GlobalSecondaryIndex["LeadModel"]):  # type: ignore[no-untyped-call]
    """Sparse: leads whose recency can still drop, by when; the whole lead, so a decay run
    reads each due lead once and nothing else."""

    class Meta:
        index_name = "rescore_due"
        projection = AllProjection()

    rescore_shard = UnicodeAttribute(hash_key=True)
    rescore_due_at = UnicodeAttribute(range_key=True)


class FollowupsDueIndex(GlobalSecondaryIndex["LeadModel"]):  # type: ignore[no-untyped-call]
    """Sparse: leads whose follow-up is pending, by when it falls due (and which step); keys
    only, since the sweep claims each with an UpdateItem that returns the whole lead anyway."""

    class Meta:
        index_name = "followups_due"
        projection = KeysOnlyProjection()

    followup_shard = UnicodeAttribute(hash_key=True)
    followup_due_at = UnicodeAttribute(range_key=True)


class OpenByBrokerIndex(GlobalSecondaryIndex["LeadModel"]):  # type: ignore[no-untyped-call]
    """Sparse: the open leads of each broker (tenant#broker), keys only: counted, never read."""

    class Meta:
        index_name = "open_by_broker"
        projection = KeysOnlyProjection()

    open_broker = UnicodeAttribute(hash_key=True)
    lead_id = UnicodeAttribute(range_key=True)


class ByScoreIndex(GlobalSecondaryIndex["LeadModel"]):  # type: ignore[no-untyped-call]
    """A tenant's leads, hottest first (queried backwards), newest first within a score."""

    class Meta:
        index_name = "by_score"
        projection = AllProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    score_key = UnicodeAttribute(range_key=True)


class ByPhoneIndex(GlobalSecondaryIndex["LeadModel"]):  # type: ignore[no-untyped-call]
    """A tenant's leads by phone (sparse, keys only): finding the lead a number belongs to."""

    class Meta:
        index_name = "by_phone"
        projection = KeysOnlyProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    phone = UnicodeAttribute(range_key=True)


class LeadModel(Model):
    class Meta:
        table_name = "Leads"

    rescore_due = RescoreDueIndex()
    followups_due = FollowupsDueIndex()
    open_by_broker = OpenByBrokerIndex()
    by_score = ByScoreIndex()
    by_phone = ByPhoneIndex()

    tenant_id = UnicodeAttribute(hash_key=True)
    lead_id = UnicodeAttribute(range_key=True)
    channel = UnicodeAttribute()
    external_id = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    username = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)
    stage = UnicodeAttribute()
    status = UnicodeAttribute()
    lost_reason = UnicodeAttribute(null=True)
    goal = UnicodeAttribute(null=True)
    # Money as a decimal string plus currency: DynamoDB numbers would come back as float here.
    budget_amount = UnicodeAttribute(null=True)
    budget_currency = UnicodeAttribute(null=True)
    property_type = UnicodeAttribute(null=True)
    location = UnicodeAttribute(null=True)
    timeline = UnicodeAttribute(null=True)
    bedrooms = UnicodeAttribute(null=True)
    payment_method = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)  # by_phone index key: absent until captured (sparse)
    email = UnicodeAttribute(null=True)
    linkedin_url = UnicodeAttribute(null=True)
    source = UnicodeAttribute(null=True)
    broker_id = UnicodeAttribute(null=True)
    qr_scans = NumberAttribute(default=0)
    catalog_views = NumberAttribute(default=0)
    messages_count = NumberAttribute(default=0)
    voice_count = NumberAttribute(default=0)
    invalid_answers = NumberAttribute(default=0)
    opted_out = BooleanAttribute(default=False)
    bot_paused = BooleanAttribute(default=False)
    unreachable = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    last_inbound_at = UTCDateTimeAttribute(null=True)
    last_catalog_view_at = UTCDateTimeAttribute(null=True)
    phone_captured_at = UTCDateTimeAttribute(null=True)
    offered_property_ids = ListAttribute(of=UnicodeAttribute, null=True)
    urgency_score = NumberAttribute(null=True)
    fomo_messages_sent = NumberAttribute(null=True)
    viewing_requested_at = UTCDateTimeAttribute(null=True)
    viewing_property_id = UnicodeAttribute(null=True)
    qualification_score = NumberAttribute(null=True)
    is_qualified = BooleanAttribute(null=True)
    qualified_at = UTCDateTimeAttribute(null=True)
    ghost_claimed_at = UTCDateTimeAttribute(null=True)
    ghost_reminded_at = UTCDateTimeAttribute(null=True)
    campaign_steps_sent = NumberAttribute(null=True)
    campaign_claimed_at = UTCDateTimeAttribute(null=True)
    followup_not_before = UTCDateTimeAttribute(null=True)
    broker_requested_at = UTCDateTimeAttribute(null=True)
    assigned_at = UTCDateTimeAttribute(null=True)
    broker_claimed_at = UTCDateTimeAttribute(null=True)
    handoff_alerts = NumberAttribute(null=True)
    handoff_alerted_at = UTCDateTimeAttribute(null=True)
    sla_claimed_at = UTCDateTimeAttribute(null=True)
    open_broker = UnicodeAttribute(null=True)  # open_by_broker index: tenant#broker, derived
    matched_property_ids = UnicodeSetAttribute(null=True)  # new listings told of, once each
    held_property_ids = ListAttribute(of=UnicodeAttribute, null=True)  # ...in quiet hours
    held_until = UTCDateTimeAttribute(null=True)
    held_claimed_at = UTCDateTimeAttribute(null=True)
    rate_tokens = NumberAttribute(null=True)  # the guard's bucket; absent while full
    slowed_down_at = UTCDateTimeAttribute(null=True)
    # followups_due index (sparse), derived from the lead by every save: while a follow-up
    # (ghost or campaign step, or listings held in quiet hours) is pending, when it falls due
    # (ISO UTC, then "#campaign_N" for a campaign step, "#matches" for held listings). See
    # LeadRepository.
    followup_shard = UnicodeAttribute(null=True)
    followup_due_at = UnicodeAttribute(null=True)
    version = VersionAttribute()
    # Written only by scoring, without bumping `version` (see store/scores.py).
    score = NumberAttribute(null=True)
    score_key = UnicodeAttribute(null=True)  # by_score index: zero-padded score#created_at
    temperature = UnicodeAttribute(null=True)
    grade = UnicodeAttribute(null=True)
    score_breakdown = UnicodeAttribute(null=True)  # JSON object
    scored_at = UTCDateTimeAttribute(null=True)
    rescore_shard = UnicodeAttribute(null=True)  # rescore_due index (sparse): while recency
    rescore_due_at = UnicodeAttribute(null=True)  # can still drop, when it next does (ISO UTC)
    burning_alerted_at = UTCDateTimeAttribute(null=True)


class ByMessageIndex(GlobalSecondaryIndex["TimelineModel"]):  # type: ignore[no-untyped-call]
    """Outbound messages by the channel's message id (sparse, keys only): where a delivery
    status the channel reports later (WhatsApp's statuses) belongs."""

    class Meta:
        index_name = "by_message"
        projection = KeysOnlyProjection()

    message_key = UnicodeAttribute(hash_key=True)  # tenant#channel#message_id


class TimelineModel(Model):
    class Meta:
        table_name = "Timeline"

    by_message = ByMessageIndex()

    pk = UnicodeAttribute(hash_key=True)  # tenant#lead_id
    sk = UnicodeAttribute(range_key=True)  # iso-time#ulid: sorts by time, unique
    kind = UnicodeAttribute()
    channel = UnicodeAttribute(null=True)
    text = UnicodeAttribute(null=True)
    detail = UnicodeAttribute(null=True)  # JSON object
    status = UnicodeAttribute(null=True)
    message_id = UnicodeAttribute(null=True)
    message_key = UnicodeAttribute(null=True)  # outbound messages with an id: by_message
    status_at = UTCDateTimeAttribute(null=True)  # when the channel reported `status`
    error = UnicodeAttribute(null=True)  # the channel's words for a failed delivery
    error_code = NumberAttribute(null=True)
    expires_at = NumberAttribute(null=True)


class BrokerModel(Model):
    class Meta:
        table_name = "Brokers"

    tenant_id = UnicodeAttribute(hash_key=True)
    broker_id = UnicodeAttribute(range_key=True)  # ULID
    name = UnicodeAttribute()
    phone = UnicodeAttribute()
    email = UnicodeAttribute()
    telegram_chat_id = UnicodeAttribute(null=True)
    active = BooleanAttribute(default=True)
    away = BooleanAttribute(default=False)
    max_open_leads = NumberAttribute(null=True)
    # Round-robin: the broker whose last assignment is oldest takes the next handoff.
    last_assigned_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class DealModel(Model):
    """Money and rates as decimal strings: DynamoDB numbers would come back as float here."""

    class Meta:
        table_name = "Deals"

    tenant_id = UnicodeAttribute(hash_key=True)
    deal_id = UnicodeAttribute(range_key=True)  # ULID of created_at: a month is a key range
    lead_id = UnicodeAttribute()
    broker_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    currency = UnicodeAttribute()
    value = UnicodeAttribute()
    broker_commission_rate = UnicodeAttribute()
    platform_commission_rate = UnicodeAttribute()
    broker_commission = UnicodeAttribute()
    platform_commission = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    closed_at = UTCDateTimeAttribute(null=True)
    version = VersionAttribute()


class PropertyModel(Model):
    """Listings; price and size as decimal strings: DynamoDB numbers would come back as float."""

    class Meta:
        table_name = "Properties"

    tenant_id = UnicodeAttribute(hash_key=True)
    property_id = UnicodeAttribute(range_key=True)  # ULID of created_at
    title = UnicodeAttribute()
    location = UnicodeAttribute()
    property_type = UnicodeAttribute()
    transaction = UnicodeAttribute()
    bedrooms = UnicodeAttribute(null=True)
    price_amount = UnicodeAttribute()
    price_currency = UnicodeAttribute()
    size_sqft = UnicodeAttribute(null=True)
    units_available = NumberAttribute()
    status = UnicodeAttribute()
    brochure_ids = ListAttribute(of=UnicodeAttribute, null=True)
    description = UnicodeAttribute(null=True)
    image_url = UnicodeAttribute(null=True)  # the listing's photo: an absolute https URL
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()


class KnowledgeModel(Model):
    """Chunks of brochures: pk = <tenant>#<brochure_id>, chunk_id sorts by page
    ("p008-fact-03"); a brochure is one partition, read whole."""

    class Meta:
        table_name = "Knowledge"

    pk = UnicodeAttribute(hash_key=True)
    chunk_id = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    brochure_id = UnicodeAttribute()
    property_id = UnicodeAttribute()
    title = UnicodeAttribute()
    kind = UnicodeAttribute()
    page = NumberAttribute()
    text = UnicodeAttribute()
    fact = UnicodeAttribute(null=True)
    value = UnicodeAttribute(null=True)


@dataclass(frozen=True)
class Tables:
    tenants: type[TenantModel]
    identities: type[IdentityModel]
    leads: type[LeadModel]
    timeline: type[TimelineModel]
    brokers: type[BrokerModel]
    deals: type[DealModel]
    properties: type[PropertyModel]
    knowledge: type[KnowledgeModel]

    def share_client(self, *models: type[Model]) -> Any:
        """One botocore client for the tables given (default: all), returned for other users
        (idempotency).

        pynamodb builds a client per model class, and each costs ~90 ms of a cold start
        (loading the service model); they would all be the same client. Sharing costs ~1.5 ms
        a table, so a function shares the tables it uses when it first uses them.
        """
        client = self.client()
        every = (self.tenants, self.identities, self.timeline)
        others = (self.brokers, self.deals, self.properties, self.knowledge)
        for model in models or (*every, *others):
            model._get_connection().connection._client = client
        return client

    def client(self) -> Any:
        """The botocore client of the Leads table (every table's, once shared)."""
        return self.leads._get_connection().connection.client


def _bind(model: type[M], table_name: str, region: str, host: str | None) -> type[M]:
    meta: dict[str, Any] = {"table_name": table_name, "region": region, "max_retry_attempts": 3}
    if host:
        meta["host"] = host
    return type(model.__name__, (model,), {"Meta": type("Meta", (), meta)})


@cache
def bind(
    *,
    tenants: str,
    identities: str,
    leads: str,
    timeline: str,
    brokers: str,
    deals: str,
    properties: str,
    knowledge: str,
    region: str,
    host: str | None,
) -> Tables:
    """Model classes bound to one deployment's tables (cached: pynamodb keeps a connection each)."""
    return Tables(
        tenants=_bind(TenantModel, tenants, region, host),
        identities=_bind(IdentityModel, identities, region, host),
        leads=_bind(LeadModel, leads, region, host),
        timeline=_bind(TimelineModel, timeline, region, host),
        brokers=_bind(BrokerModel, brokers, region, host),
        deals=_bind(DealModel, deals, region, host),
        properties=_bind(PropertyModel, properties, region, host),
        knowledge=_bind(KnowledgeModel, knowledge, region, host),
    )
