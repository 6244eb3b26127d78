"""The demo agencies of the local stack and the tests: ids and secrets are a public contract."""

from __future__ import annotations

import contextlib
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING

from pynamodb.exceptions import PutError

from leadbot.domain import (
    Bedrooms,
    Broker,
    Catalog,
    Language,
    Money,
    PropertyType,
    Tenant,
    WhatsAppTemplate,
)
from leadbot.domain.listings import Property, Transaction
from leadbot.services.runtime import Repositories
from local.auth import User

if TYPE_CHECKING:
    from leadbot.services.brochures import Brochure
    from leadbot.store.brochures import BrochureStore

DEMO_TENANT_ID = "demo"
DEMO_TELEGRAM_SECRET = "demo-telegram-secret"
DEMO_ADMIN_CHAT = "900000001"
DEMO_BOT_TOKEN = "100000001:demo-bot-token"
# The demo agency's WhatsApp Business number: the local fake Graph API sends from it, and
# POST /whatsapp routes bodies naming it to the demo agency (signed with the app secret).
DEMO_WHATSAPP_PHONE_NUMBER_ID = "100000000000001"
DEMO_WHATSAPP_ACCESS_TOKEN = "demo-whatsapp-access-token"
DEMO_WHATSAPP_APP_SECRET = "demo-app-secret"
DEMO_WHATSAPP_VERIFY_TOKEN = "demo-verify-token"
# A second agency, so tests can show one tenant never sees another's data.
DEMO2_TENANT_ID = "demo2"
DEMO2_TELEGRAM_SECRET = "demo2-telegram-secret"
DEMO2_ADMIN_CHAT = "900000002"
DEMO2_BOT_TOKEN = "100000002:demo2-bot-token"
# LINK_SIGNING_KEY_PARAM of the local stack (template.yaml with Env=local) and of the tests.
LINK_SIGNING_KEY_PARAM = "/leadbot/local/link-signing-key"
# Signs the local stack's development id tokens (local/auth.py); Cognito's own keys in AWS.
DEV_TOKEN_KEY_PARAM = "/leadbot/local/dev-token-signing-key"
# The OpenAI key of the local stack (template parameter OpenAIKeyParam): the fake OpenAI API
# (local/fake_openai.py) takes exactly this one.
OPENAI_KEY_PARAM = "/leadbot/local/openai-api-key"
DEMO_OPENAI_KEY = "sk-local-demo-openai-key"
# The fake Airtable's demo base (local/fake_airtable.py) and the token it takes. The demo agency
# has the token's parameter but no base: Airtable sync is off until `make airtable-init
# TENANT=demo BASE=appLocalDemoBase1` connects it, as an agency's admin would.
DEMO_AIRTABLE_BASE_ID = "appLocalDemoBase1"
DEMO_AIRTABLE_TOKEN = "patLocalDemo.airtable-token-0001"
DEMO_CATALOGS = (
    Catalog(
        catalog_id="marina-residences",
        title="🏙 Marina Residences brochure",
        url="https://demo-agency.example/brochures/marina-residences.pdf",
    ),
    Catalog(
        catalog_id="price-list",
        title="💰 Price list 2026",
        url="https://demo-agency.example/brochures/price-list-2026.pdf",
    ),
)


_LISTED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # the instant of the ids' ULID timestamps


def _photo(slug: str) -> str:
    # The demo agency's own (example) host, as its catalogs'; the fakes never fetch a photo.
    return f"https://demo-agency.example/photos/{slug}.jpg"


# The demo agency's listings, so the dashboard has something to show; ids are stable.
DEMO_LISTINGS = (
    Property(
        tenant_id=DEMO_TENANT_ID,
        property_id="01KE6P4YM0VS00000000000001",
        created_at=_LISTED,
        updated_at=_LISTED,
        title="Marina Residences, 2 bedrooms with sea view",
        location="Dubai Marina",
        property_type=PropertyType.APARTMENT,
        transaction=Transaction.SALE,
        bedrooms=Bedrooms.TWO,
        price=Money(amount=Decimal("2450000.00"), currency="AED"),
        size_sqft=Decimal("1250"),
        units_available=3,
        description="High floor, balcony over the marina, handover Q4 2026.",
        image_url=_photo("marina-residences"),
    ),
    Property(
        tenant_id=DEMO_TENANT_ID,
        property_id="01KE6P4YM0VS00000000000002",
        created_at=_LISTED,
        updated_at=_LISTED,
        title="Palm Jumeirah garden villa",
        location="Palm Jumeirah",
        property_type=PropertyType.VILLA,
        transaction=Transaction.SALE,
        bedrooms=Bedrooms.FOUR_PLUS,
        price=Money(amount=Decimal("12500000.00"), currency="AED"),
        size_sqft=Decimal("5400"),
        units_available=1,
        description="Five bedrooms, private pool and beach access.",
        image_url=_photo("palm-jumeirah-villa"),
    ),
    Property(
        tenant_id=DEMO_TENANT_ID,
        property_id="01KE6P4YM0VS00000000000003",
        created_at=_LISTED,
        updated_at=_LISTED,
        title="Downtown studio near the Dubai Mall",
        location="Downtown Dubai",
        property_type=PropertyType.APARTMENT,
        transaction=Transaction.RENT,
        bedrooms=Bedrooms.STUDIO,
        price=Money(amount=Decimal("85000.00"), currency="AED"),
        size_sqft=Decimal("480"),
        units_available=5,
        description="Furnished; rent per year, payable in four cheques.",
        image_url=_photo("downtown-studio"),
    ),
    # More for the conversation's cards to choose from (a scarce one, a plentiful one, a rental).
    Property(
        tenant_id=DEMO_TENANT_ID,
        property_id="01KE6P4YM0VS00000000000004",
        created_at=_LISTED,
        updated_at=_LISTED,
        title="Marina Gate 1-bedroom apartment",
        location="Dubai Marina",
        property_type=PropertyType.APARTMENT,
        transaction=Transaction.SALE,
        bedrooms=Bedrooms.ONE,
        price=Money(amount=Decimal("1650000.00"), currency="AED"),
        size_sqft=Decimal("780"),
        units_available=8,
        description="Ready to move in; marina and skyline views.",
        image_url=_photo("marina-gate-1br"),
    ),
    Property(
        tenant_id=DEMO_TENANT_ID,
        property_id="01KE6P4YM0VS00000000000005",
        created_at=_LISTED,
        updated_at=_LISTED,
        title="Arabian Ranches family villa",
        location="Arabian Ranches",
        property_type=PropertyType.VILLA,
        transaction=Transaction.SALE,
        bedrooms=Bedrooms.FOUR_PLUS,
        price=Money(amount=Decimal("4200000.00"), currency="AED"),
        size_sqft=Decimal("3600"),
        units_available=2,
        description="Four bedrooms and a maid's room, garden, community pool.",
        image_url=_photo("arabian-ranches-villa"),
    ),
    Property(
        tenant_id=DEMO_TENANT_ID,
        property_id="01KE6P4YM0VS00000000000006",
        created_at=_LISTED,
        updated_at=_LISTED,
        title="Business Bay 2-bedroom with canal view",
        location="Business Bay",
        property_type=PropertyType.APARTMENT,
        transaction=Transaction.RENT,
        bedrooms=Bedrooms.TWO,
        price=Money(amount=Decimal("140000.00"), currency="AED"),
        size_sqft=Decimal("1150"),
        units_available=4,
        description="Unfurnished; rent per year, payable in two cheques.",
        image_url=_photo("business-bay-2br"),
    ),
)


# The demo agency's brokers: a handoff goes to them in turn, their Telegram chats get the
# alerts (see /_local/outbox?chat_id=900000101).
DEMO_BROKER_CHATS = ("900000101", "900000102")
DEMO_BROKERS = (
    Broker(
        tenant_id=DEMO_TENANT_ID,
        broker_id="01KE6P4YM0VS000000000000B1",
        name="Omar Haddad",
        phone="+971501110101",
        email="omar@demo-realty.example",
        telegram_chat_id=DEMO_BROKER_CHATS[0],
        created_at=_LISTED,
    ),
    Broker(
        tenant_id=DEMO_TENANT_ID,
        broker_id="01KE6P4YM0VS000000000000B2",
        name="Elena Petrova",
        phone="+971501110102",
        email="elena@demo-realty.example",
        telegram_chat_id=DEMO_BROKER_CHATS[1],
        created_at=_LISTED + timedelta(minutes=1),
    ),
)

# The sample brochure (local.sample_brochure) on the Marina Residences listing; a stable id, so
# a stack restarted after a crash half-way overwrites its own chunks.
DEMO_BROCHURE_ID = "01KE6P4YM0VS00000000000B01"
DEMO_BROCHURE_LISTING = DEMO_LISTINGS[0]


def _demo_user(email: str, tenant_id: str, role: str) -> User:
    # The sub is stable across restarts and machines, as a Cognito user's is across sign-ins.
    sub = uuid.uuid5(uuid.NAMESPACE_URL, f"leadbot-local:{email}")
    return User(sub=str(sub), email=email, tenant_id=tenant_id, role=role)


# The users of the local stack's user pool: GET /_local/tokens answers a token for each key.
DEMO_USERS: Mapping[str, User] = {
    "admin": _demo_user("admin@demo.example", DEMO_TENANT_ID, "admin"),
    "agent": _demo_user("agent@demo.example", DEMO_TENANT_ID, "agent"),
    "demo2_agent": _demo_user("agent@demo2.example", DEMO2_TENANT_ID, "agent"),
    # Scripts that must not disturb the demo agency (the API contract fuzzing) act as this one.
    "demo2_admin": _demo_user("admin@demo2.example", DEMO2_TENANT_ID, "admin"),
}


def _param(tenant_id: str, name: str) -> str:
    return f"/leadbot/local/tenants/{tenant_id}/{name}"


# The approved templates the demo agency sends beyond WhatsApp's 24-hour window.
DEMO_WHATSAPP_TEMPLATES = (
    WhatsAppTemplate(
        language=Language.EN, name="leadbot_checkin", code="en_US", parameters=("name", "agency")
    ),
    WhatsAppTemplate(
        language=Language.AR, name="leadbot_checkin", code="ar", parameters=("name", "agency")
    ),
)


def demo_tenant(dashboard_url: str = "") -> Tenant:
    tenant = Tenant(
        tenant_id=DEMO_TENANT_ID,
        name="Demo Realty",
        currency="AED",
        phone_region="AE",
        timezone="Asia/Dubai",
        admin_chats=(DEMO_ADMIN_CHAT,),
        dashboard_url=dashboard_url,
        telegram_bot_token_param=_param(DEMO_TENANT_ID, "telegram_bot_token"),
        telegram_secret_param=_param(DEMO_TENANT_ID, "telegram_webhook_secret"),
        catalogs=DEMO_CATALOGS,
        airtable_token_param=_param(DEMO_TENANT_ID, "airtable_token"),
    )
    return with_demo_whatsapp(tenant)


def with_demo_whatsapp(tenant: Tenant) -> Tenant:
    """The demo agency with its WhatsApp number, secrets' names and approved templates."""
    return replace(
        tenant,
        whatsapp_phone_number_id=DEMO_WHATSAPP_PHONE_NUMBER_ID,
        whatsapp_token_param=_param(DEMO_TENANT_ID, "whatsapp_access_token"),
        whatsapp_app_secret_param=_param(DEMO_TENANT_ID, "whatsapp_app_secret"),
        whatsapp_verify_token_param=_param(DEMO_TENANT_ID, "whatsapp_verify_token"),
        whatsapp_templates=DEMO_WHATSAPP_TEMPLATES,
    )


def demo2_tenant(dashboard_url: str = "") -> Tenant:
    return Tenant(
        tenant_id=DEMO2_TENANT_ID,
        name="Second Demo Homes",
        currency="AED",
        phone_region="AE",
        timezone="Asia/Dubai",
        admin_chats=(DEMO2_ADMIN_CHAT,),
        dashboard_url=dashboard_url,
        telegram_bot_token_param=_param(DEMO2_TENANT_ID, "telegram_bot_token"),
        telegram_secret_param=_param(DEMO2_TENANT_ID, "telegram_webhook_secret"),
    )


def demo_secrets(stored: Mapping[str, str] | None = None) -> dict[str, str]:
    """What SSM holds in AWS, for the file-backed secrets of the local stack.

    The link-signing and dev-token keys are generated, once: a key already in `stored` is kept,
    so links sent and tokens handed out before a restart still work.
    """
    stored = stored or {}
    return {
        _param(DEMO_TENANT_ID, "telegram_bot_token"): DEMO_BOT_TOKEN,
        _param(DEMO_TENANT_ID, "telegram_webhook_secret"): DEMO_TELEGRAM_SECRET,
        _param(DEMO2_TENANT_ID, "telegram_bot_token"): DEMO2_BOT_TOKEN,
        _param(DEMO2_TENANT_ID, "telegram_webhook_secret"): DEMO2_TELEGRAM_SECRET,
        _param(DEMO_TENANT_ID, "whatsapp_access_token"): DEMO_WHATSAPP_ACCESS_TOKEN,
        _param(DEMO_TENANT_ID, "whatsapp_app_secret"): DEMO_WHATSAPP_APP_SECRET,
        _param(DEMO_TENANT_ID, "whatsapp_verify_token"): DEMO_WHATSAPP_VERIFY_TOKEN,
        OPENAI_KEY_PARAM: DEMO_OPENAI_KEY,
        _param(DEMO_TENANT_ID, "airtable_token"): DEMO_AIRTABLE_TOKEN,
        LINK_SIGNING_KEY_PARAM: stored.get(LINK_SIGNING_KEY_PARAM) or secrets.token_urlsafe(32),
        DEV_TOKEN_KEY_PARAM: stored.get(DEV_TOKEN_KEY_PARAM) or secrets.token_urlsafe(32),
    }


def seed(
    repos: Repositories, dashboard_url: str = "", brochures: BrochureStore | None = None
) -> None:
    """Create the demo tenants and the demo agency's listings unless they exist (restarts keep
    admins registered and listings changed since), and, given where brochures are kept, the
    sample brochure of the Marina listing.

    A demo tenant made before catalogs or WhatsApp existed gets the demo catalogs and number.
    """
    from leadbot.domain import PropertyConflict, TenantNotFound

    try:
        tenant = repos.tenants.get(DEMO_TENANT_ID)
    except TenantNotFound:
        repos.tenants.put(demo_tenant(dashboard_url))
    else:
        if not tenant.catalogs:
            tenant = replace(tenant, catalogs=DEMO_CATALOGS)
            repos.tenants.put(tenant)
        if not tenant.whatsapp_phone_number_id:
            repos.tenants.put(with_demo_whatsapp(tenant))
        if not tenant.airtable_token_param:
            token_param = _param(DEMO_TENANT_ID, "airtable_token")
            repos.tenants.set_airtable(DEMO_TENANT_ID, tenant.airtable_base_id, token_param)
    repos.tenants.route_whatsapp(
        DEMO_TENANT_ID, DEMO_WHATSAPP_PHONE_NUMBER_ID, DEMO_WHATSAPP_VERIFY_TOKEN
    )
    try:
        repos.tenants.get(DEMO2_TENANT_ID)
    except TenantNotFound:
        repos.tenants.put(demo2_tenant(dashboard_url))
    for listing in DEMO_LISTINGS:
        # Seeded before, it stays as it is: admins may have changed or archived it since.
        with contextlib.suppress(PropertyConflict):
            repos.properties.create(listing)
    for broker in DEMO_BROKERS:
        with contextlib.suppress(PutError):  # seeded before: kept as admins left it
            repos.brokers.create(broker)
    if brochures is not None:
        seed_brochure(repos, brochures)


def seed_brochure(repos: Repositories, store: BrochureStore) -> None:
    """Ingest the sample brochure onto the Marina listing, unless it has a brochure already
    (seeded before, or one an admin uploaded)."""
    from leadbot.domain import PropertyConflict
    from leadbot.services.brochures import save_brochure

    listing = repos.properties.get(DEMO_TENANT_ID, DEMO_BROCHURE_LISTING.property_id)
    if listing.brochure_ids:
        return
    brochure, pdf = _sample_brochure()
    with contextlib.suppress(PropertyConflict):  # another process seeded it meanwhile
        save_brochure(repos, store, brochure, pdf)


@cache
def _sample_brochure() -> tuple[Brochure, bytes]:
    """Read once a process: every test's stack seeds the same brochure."""
    from leadbot.services.brochures import read_brochure
    from local.sample_brochure import SAMPLE_TITLE, sample_brochure

    pdf = sample_brochure()
    brochure = read_brochure(DEMO_BROCHURE_LISTING, pdf, DEMO_BROCHURE_ID, title=SAMPLE_TITLE)
    return brochure, pdf
