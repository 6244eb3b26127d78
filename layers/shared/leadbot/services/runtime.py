"""Clients and repositories built lazily once per warm Lambda, and reset between tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from leadbot.config import Settings, settings
from leadbot.domain import Lead, Tenant, TenantNotFound
from leadbot.domain.followups import PendingFollowup
from leadbot.store import (
    IdentityRepository,
    LeadRepository,
    Tables,
    TenantRepository,
    TimelineRepository,
    bind,
)

if TYPE_CHECKING:
    from leadbot.integrations.airtable import AirtableCrm
    from leadbot.integrations.crm import Crm
    from leadbot.integrations.llm import ChatModel, Transcriber
    from leadbot.integrations.sqs import Queue
    from leadbot.knowledge.cache import IndexCache
    from leadbot.store.brochures import BrochureStore
    from leadbot.store.deals import BrokerRepository, DealRepository
    from leadbot.store.exports import ExportStore
    from leadbot.store.followups import FollowupRepository
    from leadbot.store.knowledge import KnowledgeRepository
    from leadbot.store.pages import LeadPages
    from leadbot.store.properties import ActiveListings, PropertyRepository
    from leadbot.store.scores import ScoreRepository
    from leadbot.store.secrets import SecretStore


@dataclass(frozen=True)
class Repositories:
    tenants: TenantRepository
    identities: IdentityRepository
    leads: LeadRepository
    timeline: TimelineRepository
    tables: Tables

    # Built on first use: the webhooks, whose cold start counts, never import these.
    @property
    def scores(self) -> ScoreRepository:
        return _scores(self.tables)

    @property
    def followups(self) -> FollowupRepository:
        return _followups(self.tables)

    @property
    def pages(self) -> LeadPages:
        return _pages(self.tables)

    @property
    def brokers(self) -> BrokerRepository:
        return _brokers(self.tables)

    @property
    def deals(self) -> DealRepository:
        return _deals(self.tables)

    @property
    def properties(self) -> PropertyRepository:
        return _properties(self.tables)

    @property
    def knowledge(self) -> KnowledgeRepository:
        return _knowledge(self.tables)

    @property
    def active_listings(self) -> ActiveListings:
        """The listings the conversation offers, cached like tenants (tenant_cache_seconds)."""
        return _active_listings(self.tables)


@cache
def _tables() -> Tables:
    s = settings()
    tables = bind(
        tenants=s.tenants_table,
        identities=s.identities_table,
        leads=s.leads_table,
        timeline=s.timeline_table,
        brokers=s.brokers_table,
        deals=s.deals_table,
        properties=s.properties_table,
        knowledge=s.knowledge_table,
        region=s.region,
        host=s.dynamodb_endpoint,
    )
    # What every message uses; brokers, deals and listings share theirs when first used.
    tables.share_client(tables.tenants, tables.identities, tables.timeline)
    return tables


@cache
def repositories() -> Repositories:
    tables = _tables()
    tenants = TenantRepository(tables, ttl_s=settings().tenant_cache_seconds)
    return Repositories(
        tenants=tenants,
        identities=IdentityRepository(tables),
        leads=LeadRepository(tables, pending=_pending_of(tenants)),
        timeline=TimelineRepository(tables),
        tables=tables,
    )


def _pending_of(tenants: TenantRepository) -> Callable[[Lead], PendingFollowup | None]:
    """The follow-up a lead waits for, by its tenant's settings from the tenant cache (a
    message costs no read)."""
    from leadbot.followups import pending_followup

    def pending_of(lead: Lead) -> PendingFollowup | None:
        try:
            tenant = tenants.get(lead.tenant_id)
        except TenantNotFound:
            return None
        return pending_followup(lead, tenant)

    return pending_of


@cache
def _followups(tables: Tables) -> FollowupRepository:
    from leadbot.store.followups import FollowupRepository

    return FollowupRepository(tables)


@cache
def _scores(tables: Tables) -> ScoreRepository:
    from leadbot.store.scores import ScoreRepository

    return ScoreRepository(tables)


@cache
def _pages(tables: Tables) -> LeadPages:
    from leadbot.store.pages import LeadPages

    return LeadPages(tables)


@cache
def _brokers(tables: Tables) -> BrokerRepository:
    from leadbot.store.deals import BrokerRepository

    tables.share_client(tables.brokers)
    return BrokerRepository(tables)


@cache
def _deals(tables: Tables) -> DealRepository:
    from leadbot.store.deals import DealRepository

    tables.share_client(tables.deals)
    return DealRepository(tables)


@cache
def _properties(tables: Tables) -> PropertyRepository:
    from leadbot.store.properties import PropertyRepository

    tables.share_client(tables.properties)
    return PropertyRepository(tables)


@cache
def _knowledge(tables: Tables) -> KnowledgeRepository:
    from leadbot.store.knowledge import KnowledgeRepository

    tables.share_client(tables.knowledge)
    return KnowledgeRepository(tables)


@cache
def _active_listings(tables: Tables) -> ActiveListings:
    from leadbot.store.properties import ActiveListings

    return ActiveListings(_properties(tables), ttl_s=settings().tenant_cache_seconds)


@cache
def export_store() -> ExportStore | None:
    """Where big exports go: the S3 bucket in AWS, a folder on the local stack, else nowhere."""
    from leadbot.store.exports import LocalExports, S3Exports

    s = settings()
    if s.exports_bucket:
        return S3Exports(s.exports_bucket, s.region)
    if s.exports_dir:
        return LocalExports(Path(s.exports_dir), s.exports_url_base)
    return None


@cache
def brochure_store() -> BrochureStore | None:
    """Where brochures are uploaded: the S3 bucket in AWS, a folder on the local stack."""
    from leadbot.store.brochures import LocalBrochures, S3Brochures

    s = settings()
    if s.brochures_bucket:
        return S3Brochures(s.brochures_bucket, s.region)
    if s.brochures_dir:
        return LocalBrochures(Path(s.brochures_dir), s.brochures_url_base)
    return None


@cache
def uploaded_brochures(bucket: str) -> BrochureStore | None:
    """Where an upload an S3 event names lies: that bucket (its name comes with the event: the
    template cannot give the function the bucket that notifies it), or the local stack's folder."""
    from leadbot.store.brochures import LocalBrochures, S3Brochures

    s = settings()
    if s.brochures_dir:
        return LocalBrochures(Path(s.brochures_dir), s.brochures_url_base)
    if bucket:
        return S3Brochures(bucket, s.region)
    return None


def chat_model() -> ChatModel | None:
    """The deployment's language model; None without an OpenAI key (answers stay offline)."""
    models = _openai()
    return models[0] if models is not None else None


def transcriber() -> Transcriber | None:
    """Speech to text for voice notes; None without an OpenAI key (leads are asked to type)."""
    models = _openai()
    return models[1] if models is not None else None


@cache
def _openai() -> tuple[ChatModel, Transcriber] | None:
    # The adapter is light; the SDK it wraps is imported by the first call to the model.
    from leadbot.integrations.openai_adapter import from_settings

    return from_settings(settings(), secret, http_client())


def crm(tenant: Tenant) -> Crm | None:
    """The agency's Airtable base; None when it has none configured (nothing is sent then)."""
    if not tenant.airtable_base_id or not tenant.airtable_token_param:
        return None
    return _airtable(tenant.airtable_base_id, tenant.airtable_token_param)


@cache
def _airtable(base_id: str, token_param: str) -> AirtableCrm:
    # One per base per warm Lambda, so its pacer sees every request this Lambda sends it.
    # pyairtable itself is imported by the first request.
    from leadbot.integrations.airtable import AirtableCrm, RetryPolicy

    s = settings()
    return AirtableCrm(
        base_id,
        lambda: secret(token_param),
        endpoint_url=s.airtable_api_base,
        timeout_s=s.airtable_timeout_s,
        retry=RetryPolicy(retries=s.airtable_max_retries),
    )


@cache
def crm_sync_dlq() -> Queue | None:
    """The CRM sync's dead-letter queue; None where none is configured."""
    from leadbot.integrations.sqs import Queue

    s = settings()
    if not s.crm_sync_dlq_url:
        return None
    return Queue(s.crm_sync_dlq_url, region=s.region, endpoint_url=s.sqs_endpoint)


def dynamodb_streams_client() -> Any:
    """A DynamoDB Streams client (the CRM replay reads parked batches' records back)."""
    import boto3

    s = settings()
    return boto3.client("dynamodbstreams", region_name=s.region, endpoint_url=s.dynamodb_endpoint)


@cache
def brochure_indexes() -> IndexCache:
    """The agencies' brochure indexes, kept per warm Lambda (made by the first question)."""
    from leadbot.knowledge.cache import IndexCache

    return IndexCache()


def dynamodb_client() -> Any:
    """The botocore client the tables use, for Powertools idempotency: one client per process."""
    return _tables().client()


@cache
def http_client() -> httpx.Client:
    from leadbot.channels.transport import Urllib3Transport

    # Telegram answers in well under a second; a slow call must not eat the webhook's budget.
    timeout = httpx.Timeout(5.0, connect=2.0)
    # The local stack's fake APIs speak plain HTTP: no certificates to check there.
    verify = not settings().telegram_api_base.startswith("http://")
    return httpx.Client(timeout=timeout, transport=Urllib3Transport(verify=verify))


def secret(name: str) -> str:
    """A secret by its parameter name: SSM SecureString in AWS, a JSON file on the local stack."""
    return _secret_reader(settings())(name, False)


# A secret read afresh (past the 5-minute cache) at most this often per name: a rotated
# webhook secret is honoured at once, and forged requests cannot turn into SSM calls.
FRESH_READ_EVERY_S = 30.0
_fresh_reads: dict[str, float] = {}


def fresh_secret(name: str) -> str | None:
    """The secret as stored now, when a cached value failed to verify a request (it may have
    been rotated); None if it was read afresh less than FRESH_READ_EVERY_S ago."""
    import time

    now = time.monotonic()
    if now - _fresh_reads.get(name, -FRESH_READ_EVERY_S) < FRESH_READ_EVERY_S:
        return None
    _fresh_reads[name] = now
    return _secret_reader(settings())(name, True)


@cache
def _secret_reader(s: Settings) -> Callable[[str, bool], str]:
    if s.secrets_source.startswith("file:"):
        path = Path(s.secrets_source.removeprefix("file:"))

        def from_file(name: str, fresh: bool) -> str:
            values: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
            return values[name]

        return from_file

    from aws_lambda_powertools.utilities import parameters

    def from_ssm(name: str, fresh: bool) -> str:
        value = parameters.get_parameter(name, decrypt=True, max_age=300, force_fetch=fresh)
        return str(value)

    return from_ssm


@cache
def secret_store() -> SecretStore:
    """Where ops write tenants' secrets: SSM in AWS, the local stack's secrets file."""
    from leadbot.store.secrets import FileSecrets, SsmSecrets

    s = settings()
    if s.secrets_source.startswith("file:"):
        return FileSecrets(Path(s.secrets_source.removeprefix("file:")))
    return SsmSecrets(s.region)


def tenant_secret_name(tenant_id: str, name: str) -> str:
    """Where a tenant's secret lives: /leadbot/<env>/tenants/<tenant>/<name>, the only place
    the functions may read tenants' secrets from."""
    return f"/leadbot/{settings().leadbot_env}/tenants/{tenant_id}/{name}"


def reset() -> None:
    """Forget every cached client and setting (tests change the environment between cases)."""
    from leadbot.config import settings as cached_settings

    for cached in (
        cached_settings,
        _tables,
        repositories,
        _scores,
        _followups,
        _pages,
        _properties,
        _knowledge,
        _active_listings,
        brochure_indexes,
        _brokers,
        _deals,
        brochure_store,
        uploaded_brochures,
        http_client,
        _openai,
        _airtable,
        crm_sync_dlq,
        _secret_reader,
        secret_store,
        export_store,
    ):
        cached.cache_clear()
    _fresh_reads.clear()
    import sys

    if "aws_lambda_powertools.utilities.parameters" in sys.modules:
        # Powertools keeps parameters per process; another test's SSM holds other values.
        sys.modules["aws_lambda_powertools.utilities.parameters"].clear_caches()
