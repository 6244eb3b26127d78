"""Repositories: domain objects in, domain objects out; conditional writes for every race."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pynamodb.constants import ALL_NEW, ATTRIBUTES
from pynamodb.exceptions import (
    DeleteError,
    DoesNotExist,
    PutError,
    PynamoDBException,
    TransactWriteError,
    UpdateError,
)
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite
from ulid import ULID

from leadbot import clock
from leadbot.domain import (
    Bedrooms,
    Catalog,
    Channel,
    DeliveryStatus,
    FlowMode,
    FollowupStep,
    FollowupTemplate,
    Goal,
    Language,
    Lead,
    LeadConflict,
    LeadNotFound,
    LeadStatus,
    Money,
    PaymentMethod,
    PropertyType,
    Stage,
    Tenant,
    TenantConflict,
    TenantExists,
    TenantNotFound,
    Timeline,
    TimelineEntry,
    TimelineKind,
    WhatsAppTemplate,
)
from leadbot.domain.followups import PendingFollowup
from leadbot.domain.handoff import CLOSED
from leadbot.store.models import (
    CatalogAttribute,
    FollowupTemplateAttribute,
    LeadModel,
    Tables,
    TenantModel,
    TimelineModel,
    WhatsAppTemplateAttribute,
)

_CONDITION_FAILED = "ConditionalCheckFailedException"
ADMIN_STREAM = "_admin"  # Timeline key of a tenant's own events (admin chats, settings)
GAPS_STREAM = "_gaps"  # Timeline key of a tenant's knowledge gaps (questions left unanswered)
FOLLOWUP_SHARDS = 8  # followups_due index partitions; a sweep queries each


class IdentityTaken(Exception):
    """The channel identity is already bound to a lead."""


class TimelineUnavailable(Exception):
    """Timeline entries could not be written."""


def _conflict(exc: PutError | UpdateError | DeleteError) -> bool:
    return exc.cause_response_code == _CONDITION_FAILED


class TenantRepository:
    """Tenants, cached per warm Lambda for `ttl_s` so an ordinary message costs no read."""

    def __init__(self, tables: Tables, ttl_s: float, clock: Callable[[], float] = time.monotonic):
        self._model = tables.tenants
        self._identities = tables.identities
        self._timeline = tables.timeline
        self._ttl = ttl_s
        self._clock = clock
        self._cache: dict[str, tuple[float, Tenant]] = {}
        self._routes: dict[str, tuple[float, str | None]] = {}  # WhatsApp number → tenant
        self._lock = threading.Lock()

    def get(self, tenant_id: str, *, consistent: bool = False) -> Tenant:
        """The tenant, from this Lambda's cache unless `consistent` (as stored now)."""
        with self._lock:
            hit = self._cache.get(tenant_id)
        if not consistent and hit is not None and self._clock() - hit[0] < self._ttl:
            return hit[1]
        try:
            item = self._model.get(tenant_id, consistent_read=consistent)
        except DoesNotExist:
            raise TenantNotFound(tenant_id) from None
        tenant = _tenant(item)
        with self._lock:
            self._cache[tenant_id] = (self._clock(), tenant)
        return tenant

    def put(self, tenant: Tenant) -> None:
        """The whole item (seeding, ops tools); the dashboard changes settings with
        update_settings, which cannot write over a chat registered meanwhile."""
        self._model(**_stored(tenant)).save()
        self.forget(tenant.tenant_id)

    def create(self, tenant: Tenant) -> None:
        """A new tenant's item; TenantExists, writing nothing, if the id is taken."""
        try:
            self._model(**_stored(tenant)).save(condition=self._model.tenant_id.does_not_exist())
        except PutError as exc:
            if _conflict(exc):
                raise TenantExists(tenant.tenant_id) from None
            raise
        finally:
            self.forget(tenant.tenant_id)

    def delete(self, tenant_id: str) -> None:
        """Remove a tenant's item: only to undo a creation that could not be completed."""
        self._model(tenant_id).delete()
        self.forget(tenant_id)

    def all(self) -> list[Tenant]:
        """Every tenant, by id (a scan: for admin tools, never on a request path)."""
        return sorted((_tenant(item) for item in self._model.scan()), key=lambda t: t.tenant_id)

    def set_channel(self, tenant_id: str, values: Mapping[str, str | bool | None]) -> None:
        """Ops change an agency's channel settings (secrets' parameter names, its WhatsApp
        number, `active`): one UpdateItem of those attributes only, so settings and chats
        written meanwhile stay. TenantNotFound if there is no such tenant."""
        unknown = set(values) - set(TENANT_CHANNEL)
        if unknown:
            raise ValueError(f"not channel settings: {', '.join(sorted(unknown))}")
        model = self._model
        actions = [
            _set_or_remove(getattr(model, name), None if value == "" else value)
            for name, value in values.items()
        ]
        try:
            model(tenant_id).update(actions=actions, condition=model.tenant_id.exists())
        except UpdateError as exc:
            if _conflict(exc):
                raise TenantNotFound(tenant_id) from None
            raise
        finally:
            self.forget(tenant_id)

    def update_settings(self, before: Tenant, after: Tenant, event: TimelineEntry) -> Tenant:
        """Write the settings that differ from `before`, and `event` in the tenant's own
        Timeline, in one transaction: the change is never stored without its trace.

        One UpdateItem of only those attributes, so what others write meanwhile (an admin chat
        registering) stays; conditioned on the settings being as `before` was read
        (TenantConflict if not), so two admins' changes never mix into settings neither checked
        (languages from one, a default_language from the other).
        """
        changed = [
            f.name
            for f in fields(Tenant)
            if f.name != "settings_version" and getattr(before, f.name) != getattr(after, f.name)
        ]
        others = set(changed) - set(TENANT_SETTINGS)
        if others:
            raise ValueError(f"not settings: {', '.join(sorted(others))}")
        model = self._model
        stored = _stored(after)
        version = before.settings_version + 1
        actions = [_set_or_remove(getattr(model, name), stored[name]) for name in changed]
        actions.append(model.settings_version.set(version))
        as_read = model.settings_version == before.settings_version
        if before.settings_version == 0:
            as_read = as_read | model.settings_version.does_not_exist()
        table = model._get_connection()
        update = table.get_operation_kwargs(
            before.tenant_id, actions=actions, condition=model.tenant_id.exists() & as_read
        )
        pk = f"{before.tenant_id}#{ADMIN_STREAM}"
        put = timeline_item(self._timeline, pk, event).get_save_kwargs_from_instance()
        try:
            table.connection.transact_write_items(
                condition_check_items=[], delete_items=[], put_items=[put], update_items=[update]
            )
        except TransactWriteError as exc:
            # Only the tenant's update carries a condition; the Timeline put is a new item.
            reasons = exc.cancellation_reasons or []
            if any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons):
                raise TenantConflict(before.tenant_id) from None
            raise
        finally:
            self.forget(before.tenant_id)
        return replace(after, settings_version=version)

    def ids(self) -> list[str]:
        """Every tenant's id (a scan: for admin tools, never on a request path)."""
        return sorted(item.tenant_id for item in self._model.scan(attributes_to_get=["tenant_id"]))

    def set_airtable(self, tenant_id: str, base_id: str | None, token_param: str) -> None:
        """Connect the agency's Airtable base (ops): one UpdateItem of these two attributes, so
        settings and chats written meanwhile stay. TenantNotFound if there is no such tenant."""
        model = self._model
        actions = [
            _set_or_remove(model.airtable_base_id, base_id or None),
            _set_or_remove(model.airtable_token_param, token_param or None),
        ]
        try:
            model(tenant_id).update(actions=actions, condition=model.tenant_id.exists())
        except UpdateError as exc:
            if _conflict(exc):
                raise TenantNotFound(tenant_id) from None
            raise
        finally:
            self.forget(tenant_id)

    def add_admin_chat(self, tenant_id: str, chat_id: str) -> None:
        self._model(tenant_id).update(actions=[self._model.admin_chats.add({chat_id})])
        self.forget(tenant_id)

    def forget(self, tenant_id: str) -> None:
        with self._lock:
            self._cache.pop(tenant_id, None)

    def route_whatsapp(self, tenant_id: str, phone_number_id: str, verify_token: str) -> None:
        """Let Meta's calls find the agency: its messages by the business number they name,
        its subscription check (GET) by the verify token, kept only as a hash."""
        now = clock.now()
        for key in (_number_key(phone_number_id), _verify_key(verify_token)):
            self._identities(key, tenant_id=tenant_id, created_at=now).save()
        with self._lock:
            self._routes.pop(_number_key(phone_number_id), None)

    def unroute_whatsapp(
        self, tenant_id: str, phone_number_id: str = "", verify_token: str = ""
    ) -> None:
        """Stop routing a number or verify token to the agency (after a rotation or a change);
        a route another agency has taken since is left alone."""
        keys = [_number_key(phone_number_id)] if phone_number_id else []
        keys += [_verify_key(verify_token)] if verify_token else []
        for key in keys:
            try:
                self._identities(key).delete(condition=self._identities.tenant_id == tenant_id)
            except DeleteError as exc:
                if not _conflict(exc):
                    raise
            with self._lock:
                self._routes.pop(key, None)

    def by_whatsapp_number(self, phone_number_id: str) -> str | None:
        """The tenant owning a WhatsApp business number; remembered per warm Lambda for the
        tenant cache's time, like the tenants themselves."""
        key = _number_key(phone_number_id)
        with self._lock:
            routes = self._routes.get(key)
        if routes is not None and self._clock() - routes[0] < self._ttl:
            return routes[1]
        tenant_id = self._route(key)
        with self._lock:
            self._routes[key] = (self._clock(), tenant_id)
        return tenant_id

    def by_verify_token(self, verify_token: str) -> str | None:
        """The tenant whose verify token this is (Meta's GET carries nothing else)."""
        return self._route(_verify_key(verify_token))

    def _route(self, key: str) -> str | None:
        try:
            return self._identities.get(key, attributes_to_get=["tenant_id"]).tenant_id
        except DoesNotExist:
            return None


def _number_key(phone_number_id: str) -> str:
    return f"_whatsapp#number#{phone_number_id}"


def _verify_key(verify_token: str) -> str:
    digest = hashlib.sha256(verify_token.encode()).hexdigest()
    return f"_whatsapp#verify#{digest}"


def _plain(value: Tenant | Lead) -> dict[str, Any]:
    """Field → value with enums as their strings, as pynamodb stores them."""
    data = {f.name: getattr(value, f.name) for f in fields(value)}
    return {k: v.value if isinstance(v, StrEnum) else v for k, v in data.items()}


def _known(cls: type[Tenant] | type[Lead], item: Model) -> dict[str, Any]:
    """The item's attributes the domain type has; others belong to other writers (scores…)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in item.attribute_values.items() if v is not None and k in names}


# What update_settings may write (never admin chats, channel ids or secrets' names), in the
# order the dashboard shows them.
TENANT_SETTINGS = (
    "languages",
    "default_language",
    "flow_mode",
    "qa_first_after",
    "ghost_after_minutes",
    "campaign_days",
    "quiet_hours_start",
    "quiet_hours_end",
    "followup_templates",
    "scarcity_threshold",
    "business_hours_start",
    "business_hours_end",
    "business_days",
    "handoff_sla_minutes",
    "broker_commission_rate",
    "platform_commission_rate",
    "airtable_base_id",
)
# What ops change with `python -m leadbot.admin tenant …` (set_channel), never the dashboard.
TENANT_CHANNEL = (
    "telegram_bot_token_param",
    "telegram_secret_param",
    "whatsapp_phone_number_id",
    "whatsapp_token_param",
    "whatsapp_app_secret_param",
    "whatsapp_verify_token_param",
    "active",
)
_TENANT_NUMBERS = (
    "qa_first_after",
    "ghost_after_minutes",
    "quiet_hours_start",
    "quiet_hours_end",
    "scarcity_threshold",
    "business_hours_start",
    "business_hours_end",
    "handoff_sla_minutes",
    "settings_version",
)


def _stored(tenant: Tenant) -> dict[str, Any]:
    """Field → value as the Tenants item holds it; None: no attribute."""
    data = _plain(tenant)
    data["languages"] = [lang.value for lang in tenant.languages]
    data["admin_chats"] = set(tenant.admin_chats) or None
    data["broker_commission_rate"] = str(tenant.broker_commission_rate)
    data["platform_commission_rate"] = str(tenant.platform_commission_rate)
    # pynamodb leaves MapAttribute.__init__ unannotated
    data["catalogs"] = [
        CatalogAttribute(catalog_id=c.catalog_id, title=c.title, url=c.url)  # type: ignore[no-untyped-call]
        for c in tenant.catalogs
    ] or None
    data["campaign_days"] = list(tenant.campaign_days)
    data["business_days"] = list(tenant.business_days)
    data["followup_templates"] = [
        FollowupTemplateAttribute(step=x.step.value, language=x.language.value, text=x.text)  # type: ignore[no-untyped-call]
        for x in tenant.followup_templates
    ] or None
    data["whatsapp_templates"] = [
        WhatsAppTemplateAttribute(  # type: ignore[no-untyped-call]
            language=x.language.value, name=x.name, code=x.code, parameters=list(x.parameters)
        )
        for x in tenant.whatsapp_templates
    ] or None
    for name in (
        "whatsapp_phone_number_id",
        "whatsapp_token_param",
        "whatsapp_app_secret_param",
        "whatsapp_verify_token_param",
        "airtable_base_id",
        "airtable_token_param",
    ):
        data[name] = data[name] or None
    return data


def _set_or_remove(attribute: Any, value: Any) -> Any:
    return attribute.set(value) if value is not None else attribute.remove()


def _tenant(item: TenantModel) -> Tenant:
    data = _known(Tenant, item)
    data["admin_chats"] = tuple(sorted(data.get("admin_chats", ())))
    if "languages" in data:
        data["languages"] = tuple(Language(code) for code in data["languages"])
    if "catalogs" in data:
        data["catalogs"] = tuple(
            Catalog(catalog_id=c.catalog_id, title=c.title, url=c.url) for c in data["catalogs"]
        )
    for name in ("default_language", "admin_language"):
        if name in data:
            data[name] = Language(data[name])
    for name in ("broker_commission_rate", "platform_commission_rate"):
        if name in data:
            data[name] = Decimal(data[name])
    if "flow_mode" in data:
        data["flow_mode"] = FlowMode(data["flow_mode"])
    for name in _TENANT_NUMBERS:
        if name in data:
            data[name] = int(data[name])
    for name in ("campaign_days", "business_days"):
        if name in data:
            data[name] = tuple(int(day) for day in data[name])
    if "followup_templates" in data:
        data["followup_templates"] = tuple(
            FollowupTemplate(step=FollowupStep(x.step), language=Language(x.language), text=x.text)
            for x in data["followup_templates"]
        )
    if "whatsapp_templates" in data:
        data["whatsapp_templates"] = tuple(
            WhatsAppTemplate(
                language=Language(x.language),
                name=x.name,
                code=x.code,
                parameters=tuple(x.parameters or ()),
            )
            for x in data["whatsapp_templates"]
        )
    return Tenant(**data)


class IdentityRepository:
    """Maps a channel user to a lead (bound with the lead itself, see LeadRepository.create).

    A binding never changes once made, so a warm Lambda remembers the ones it has seen and an
    ordinary message costs no read for it.
    """

    MAX_REMEMBERED = 50_000

    def __init__(self, tables: Tables) -> None:
        self._model = tables.identities
        self._seen: dict[str, str] = {}

    @staticmethod
    def key(tenant_id: str, channel: Channel, external_id: str) -> str:
        return f"{tenant_id}#{channel.value}#{external_id}"

    @staticmethod
    def contact_key(tenant_id: str, kind: str, value: str) -> str:
        """A way to reach a person ("phone", "email", "linkedin") → the lead it belongs to."""
        return f"{tenant_id}#{kind}#{value}"

    def lookup(self, keys: Iterable[str], consistent: bool = False) -> dict[str, str]:
        """key → lead_id for those of `keys` that are bound (BatchGetItem, 100 keys a request)."""
        wanted = list(dict.fromkeys(keys))
        items = self._model.batch_get(
            wanted, consistent_read=consistent, attributes_to_get=["pk", "lead_id"]
        )
        return {item.pk: item.lead_id for item in items if item.lead_id is not None}

    def bind(self, key: str, lead_id: str, now: datetime) -> str:
        """Bind `key` to `lead_id` unless it is bound already; the lead it belongs to now."""
        try:
            self._model(key, lead_id=lead_id, created_at=now).save(
                condition=self._model.pk.does_not_exist()
            )
        except PutError as exc:
            if not _conflict(exc):
                raise
            owner = self.lead_id(key, consistent=True)
            return owner if owner is not None else lead_id
        self.remember(key, lead_id)
        return lead_id

    def lead_id(
        self, key: str, *, remembered_only: bool = False, consistent: bool = False
    ) -> str | None:
        """The lead bound to `key`; `consistent` to see a binding made a moment ago."""
        if key in self._seen or remembered_only:
            return self._seen.get(key)
        try:
            lead_id = self._model.get(key, consistent_read=consistent).lead_id
        except DoesNotExist:
            return None
        if lead_id is not None:
            self.remember(key, lead_id)
        return lead_id

    def keys_of(self, lead_id: str) -> list[str]:
        """Every key bound to the lead (the by_lead index), whatever the lead holds now."""
        return sorted(item.pk for item in self._model.by_lead.query(lead_id))

    def unbind(self, key: str, lead_id: str) -> bool:
        """Delete the binding if it is still the lead's (False if it is not, or is gone)."""
        self.forget(key)
        try:
            self._model(key).delete(condition=self._model.lead_id == lead_id)
        except DeleteError as exc:
            if _conflict(exc):
                return False
            raise
        return True

    def forget(self, key: str) -> None:
        """Drop what this process remembers of the key (its lead was forgotten)."""
        self._seen.pop(key, None)

    def remember(self, key: str, lead_id: str) -> None:
        if len(self._seen) >= self.MAX_REMEMBERED:
            self._seen.clear()
        self._seen[key] = lead_id

    @staticmethod
    def _admin_code_key(tenant_id: str, code: str) -> str:
        return f"{tenant_id}#admin_code#{hashlib.sha256(code.encode()).hexdigest()}"

    def put_admin_code(self, tenant_id: str, code: str, now: datetime, ttl: timedelta) -> datetime:
        expires = now + ttl
        self._model(
            self._admin_code_key(tenant_id, code),
            created_at=now,
            expires_at=int(expires.timestamp()),
        ).save(condition=self._model.pk.does_not_exist())
        return expires

    def consume_admin_code(self, tenant_id: str, code: str, now: datetime) -> bool:
        """Delete the code if it exists and has not expired: one use, however many race for it."""
        item = self._model(self._admin_code_key(tenant_id, code))
        condition = self._model.pk.exists() & (self._model.expires_at > int(now.timestamp()))
        try:
            item.delete(condition=condition)
        except DeleteError as exc:
            if _conflict(exc):
                return False
            raise
        return True


class LeadRepository:
    """Leads with optimistic locking.

    A warm Lambda remembers the leads it last saved: the next message of the same conversation
    starts from that copy instead of a read. The copy is only a guess of `before`; if anyone
    wrote since, the versioned update fails and the caller reads the lead afresh.

    Every write derives the lead's place in the followups_due index from the lead itself
    (`followup_index`), so no caller has to remember it: a phone captured or a new message
    sets when the ghost follow-up falls due, a step sent moves it to the next step's day, a
    reply, an opt-out, a handoff or a viewing clears it. `pending(lead)` says which follow-up
    the lead waits for and from when, by its tenant's settings (None: none).
    """

    MAX_REMEMBERED = 2_000

    def __init__(self, tables: Tables, pending: Callable[[Lead], PendingFollowup | None]) -> None:
        self._model = tables.leads
        self._pending = pending
        self._identities = tables.identities
        self._recent: OrderedDict[tuple[str, str], Lead] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, tenant_id: str, lead_id: str) -> Lead:
        """The lead as stored now (a consistent read)."""
        try:
            lead = _lead(self._model.get(tenant_id, lead_id, consistent_read=True))
        except DoesNotExist:
            raise LeadNotFound(lead_id) from None
        self._remember(lead)
        return lead

    def recent(self, tenant_id: str, lead_id: str) -> Lead:
        """The lead as this process last saw it, else as stored now."""
        with self._lock:
            lead = self._recent.get((tenant_id, lead_id))
        return lead if lead is not None else self.get(tenant_id, lead_id)

    def item(self, tenant_id: str, lead_id: str) -> dict[str, Any] | None:
        """Every attribute the lead's item holds, as stored (for a data export); None if none."""
        try:
            stored = self._model.get(tenant_id, lead_id, consistent_read=True)
        except DoesNotExist:
            return None
        return {k: v for k, v in stored.attribute_values.items() if v is not None}

    def delete(self, tenant_id: str, lead_id: str) -> bool:
        """Remove the lead's item (forgetting a lead); False if there was none."""
        self.forget(tenant_id, lead_id)
        try:
            # The table connection, not Model.delete: that one would condition on a version.
            self._model._get_connection().delete_item(
                tenant_id, lead_id, condition=self._model.lead_id.exists()
            )
        except DeleteError as exc:
            if _conflict(exc):
                return False
            raise
        return True

    def forget(self, tenant_id: str, lead_id: str) -> None:
        """Drop this process's copy of the lead."""
        with self._lock:
            self._recent.pop((tenant_id, lead_id), None)

    def _remember(self, lead: Lead) -> None:
        with self._lock:
            self._recent[(lead.tenant_id, lead.lead_id)] = lead
            self._recent.move_to_end((lead.tenant_id, lead.lead_id))
            if len(self._recent) > self.MAX_REMEMBERED:
                self._recent.popitem(last=False)

    def create(self, lead: Lead, *identity_keys: str) -> Lead:
        """Save a new lead and bind its identities (channel, phone, email…) to it, all or none.

        IdentityTaken, naming the keys, when any of them already belongs to a lead (a
        concurrent first message, or a returning lead this process had not met).
        """
        identities = [
            self._identities(key, lead_id=lead.lead_id, created_at=lead.created_at)
            for key in identity_keys
        ]
        data = {**_item(lead), **self._followup(lead)}
        item = self._model(**{k: v for k, v in data.items() if k != "version"})
        try:
            with TransactWrite(connection=self._model._get_connection().connection) as tx:
                for identity in identities:
                    tx.save(identity, condition=self._identities.pk.does_not_exist())
                tx.save(item)  # with no version yet, pynamodb requires the lead to be new
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons or []
            taken = [
                key
                for key, reason in zip(identity_keys, reasons, strict=False)
                if reason is not None and reason.code == "ConditionalCheckFailed"
            ]
            if taken:
                raise IdentityTaken(*taken) from None
            raise
        saved = replace(lead, version=item.version)
        self._remember(saved)
        return saved

    def phones(self, tenant_id: str) -> dict[str, str]:
        """Every phone of the tenant's leads → the oldest lead with it (the by_phone index,
        keys only: a page holds thousands)."""
        owners: dict[str, str] = {}
        for item in self._model.by_phone.query(tenant_id):
            if item.phone is not None and (
                item.phone not in owners or item.lead_id < owners[item.phone]
            ):
                owners[item.phone] = item.lead_id
        return owners

    def ids_with_phone(self, tenant_id: str, phone: str) -> list[str]:
        """The tenant's leads with this E.164 phone, oldest first (the by_phone index)."""
        return sorted(
            item.lead_id
            for item in self._model.by_phone.query(tenant_id, self._model.phone == phone)
        )

    def save(self, before: Lead, after: Lead) -> Lead:
        """Write what changed since `before` if nobody else wrote in between (LeadConflict if so).

        Only changed attributes are written, so fields other writers own (scores, follow-up
        state) are never overwritten by a stale copy; and the lead's place in the followups_due
        index, derived from `after`.
        """
        old, new = _item(before), _item(after)
        changed = {
            name: value
            for name, value in new.items()
            if value != old.get(name) and name != "version"
        }
        if not changed:
            return after
        # The index attributes go with every write, changed or not: what is stored may not be
        # what `before` derives (a sweep's claim took the lead out of the index; a lead stored
        # before the index existed), and the write settles it.
        changed.update(self._followup(after))
        actions = [
            getattr(self._model, name).set(value)
            if value is not None
            else getattr(self._model, name).remove()
            for name, value in changed.items()
        ]
        item = self._model(after.tenant_id, after.lead_id, version=before.version)
        try:
            item.update(actions=actions)
        except UpdateError as exc:
            if _conflict(exc):
                raise LeadConflict(after.lead_id) from None
            raise
        saved = replace(after, version=item.version)
        self._remember(saved)
        return saved

    def open_leads(self, tenant_id: str, broker_id: str) -> int:
        """How many leads the broker has whose deal is neither won nor lost (the sparse
        open_by_broker index, counted: no item comes back)."""
        return int(self._model.open_by_broker.count(f"{tenant_id}#{broker_id}"))

    def _followup(self, lead: Lead) -> dict[str, str | None]:
        return followup_index(lead, self._pending(lead))

    def count_catalog_view(self, tenant_id: str, lead_id: str, now: datetime) -> Lead:
        """One more catalog view, in one UpdateItem that also bumps the version.

        ADD needs no read and cannot lose a concurrent click; the version bump makes a webhook
        holding an older copy re-read before it saves, so its save never writes over the count.
        LeadNotFound, creating nothing, if the lead does not exist.
        """
        model = self._model
        actions = [
            model.catalog_views.add(1),
            model.version.add(1),
            model.last_catalog_view_at.set(now),
            model.updated_at.set(now),
        ]
        try:
            # The table connection, not Model.update: that one would condition on a version.
            data = model._get_connection().update_item(
                tenant_id,
                lead_id,
                actions=actions,
                condition=model.lead_id.exists(),
                return_values=ALL_NEW,
            )
        except UpdateError as exc:
            if _conflict(exc):
                raise LeadNotFound(lead_id) from None
            raise
        lead = _lead(model.from_raw_data(data[ATTRIBUTES]))
        self._remember(lead)
        return lead


_LEAD_ENUMS: dict[str, type[StrEnum]] = {
    "channel": Channel,
    "language": Language,
    "stage": Stage,
    "status": LeadStatus,
    "goal": Goal,
    "property_type": PropertyType,
    "timeline": Timeline,
    "bedrooms": Bedrooms,
    "payment_method": PaymentMethod,
}
_LEAD_COUNTERS = (
    "qr_scans",
    "catalog_views",
    "messages_count",
    "voice_count",
    "invalid_answers",
    "urgency_score",
    "fomo_messages_sent",
    "qualification_score",
    "campaign_steps_sent",
    "handoff_alerts",
)
# Absent on leads stored before they existed: written only once they are set, so an ordinary
# message's update carries nothing new.
_LEAD_OPTIONAL_ZEROS = (
    "urgency_score",
    "fomo_messages_sent",
    "qualification_score",
    "campaign_steps_sent",
    "handoff_alerts",
)


def followup_index(lead: Lead, pending: PendingFollowup | None) -> dict[str, str | None]:
    """The lead's followups_due index attributes: both set while a follow-up is pending, both
    None (removed) otherwise. The sort key is its due time, then "#campaign_N" for a campaign
    step or "#matches" for listings held in quiet hours (the ghost follow-up's is the time
    alone), so a claim knows which step it takes."""
    if pending is None:
        return {"followup_shard": None, "followup_due_at": None}
    due = index_time(pending.due_at)
    if pending.step is not FollowupStep.GHOST:
        due = f"{due}#{pending.step.value}"
    return {"followup_shard": followup_shard(lead.lead_id), "followup_due_at": due}


def open_broker_key(lead: Lead) -> str | None:
    """The lead's key in the open_by_broker index: while a broker has it and its deal is
    neither won nor lost."""
    if lead.broker_id is None or lead.status in CLOSED:
        return None
    return f"{lead.tenant_id}#{lead.broker_id}"


def followup_shard(lead_id: str) -> str:
    return str(zlib.crc32(lead_id.encode()) % FOLLOWUP_SHARDS)


def index_time(at: datetime) -> str:
    """Fixed width, so that index keys sort as times."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _item(lead: Lead) -> dict[str, Any]:
    data = _plain(lead)
    budget = data.pop("budget")
    data["budget_amount"] = str(budget.amount) if budget else None
    data["budget_currency"] = budget.currency if budget else None
    data["offered_property_ids"] = list(lead.offered_property_ids) or None
    data["matched_property_ids"] = set(lead.matched_property_ids) or None
    data["held_property_ids"] = list(lead.held_property_ids) or None
    data["open_broker"] = open_broker_key(lead)
    for name in _LEAD_OPTIONAL_ZEROS:
        data[name] = data[name] or None
    data["is_qualified"] = lead.is_qualified or None
    return data


def _lead(item: LeadModel) -> Lead:
    data = _known(Lead, item)
    amount, currency = item.budget_amount, item.budget_currency
    if amount is not None and currency is not None:
        data["budget"] = Money(amount=Decimal(amount), currency=currency)
    for name, enum in _LEAD_ENUMS.items():
        if name in data:
            data[name] = enum(data[name])
    for name in _LEAD_COUNTERS:
        data[name] = int(data.get(name, 0))
    if "offered_property_ids" in data:
        data["offered_property_ids"] = tuple(str(i) for i in data["offered_property_ids"])
    if "matched_property_ids" in data:
        data["matched_property_ids"] = tuple(sorted(data["matched_property_ids"]))
    if "held_property_ids" in data:
        data["held_property_ids"] = tuple(str(i) for i in data["held_property_ids"])
    return Lead(**data)


def timeline_item(model: type[TimelineModel], pk: str, entry: TimelineEntry) -> TimelineModel:
    tracked = entry.kind is TimelineKind.OUTBOUND
    return model(
        pk,
        f"{entry.at.isoformat()}#{ULID()}",
        kind=entry.kind.value,
        channel=entry.channel.value if entry.channel else None,
        text=entry.text or None,
        detail=json.dumps(entry.detail, ensure_ascii=False) if entry.detail else None,
        status=entry.status.value if entry.status else None,
        message_id=entry.message_id,
        message_key=(
            message_key(pk.split("#", 1)[0], entry.channel, entry.message_id)
            if tracked and entry.channel and entry.message_id
            else None
        ),
    )


def message_key(tenant_id: str, channel: Channel, message_id: str) -> str:
    return f"{tenant_id}#{channel.value}#{message_id}"


# Where each reported status may follow from: statuses only move forward, whatever order the
# channel's callbacks arrive in ("sent" is what the send itself stored).
_STATUS_AFTER = {
    DeliveryStatus.DELIVERED: (DeliveryStatus.SENT,),
    DeliveryStatus.READ: (DeliveryStatus.SENT, DeliveryStatus.DELIVERED),
    DeliveryStatus.FAILED: (DeliveryStatus.SENT, DeliveryStatus.DELIVERED),
}


class TimelineRepository:
    """Appends entries; one BatchWriteItem for all entries of one inbound message."""

    def __init__(self, tables: Tables) -> None:
        self._model = tables.timeline

    def append(self, tenant_id: str, lead_id: str, entries: Iterable[TimelineEntry]) -> None:
        """TimelineUnavailable if DynamoDB refuses after pynamodb's retries."""
        self.append_streams(tenant_id, {lead_id: entries})

    def append_streams(
        self, tenant_id: str, streams: Mapping[str, Iterable[TimelineEntry]]
    ) -> None:
        """Entries of several streams (a lead's, GAPS_STREAM…) of one tenant in one batch."""
        try:
            self._write(
                (f"{tenant_id}#{stream}", entry)
                for stream, entries in streams.items()
                for entry in entries
            )
        except PynamoDBException as exc:
            raise TimelineUnavailable(str(exc)) from exc

    def _write(self, entries: Iterable[tuple[str, TimelineEntry]]) -> None:
        with self._model.batch_write() as batch:
            for pk, entry in entries:
                batch.save(timeline_item(self._model, pk, entry))

    def history(self, tenant_id: str, lead_id: str) -> list[TimelineEntry]:
        return [timeline_entry(item) for item in self._model.query(f"{tenant_id}#{lead_id}")]

    def stored(self, tenant_id: str, stream: str) -> list[dict[str, Any]]:
        """Every item of a stream (a lead's, GAPS_STREAM…), oldest first, with every attribute
        as stored (`detail` parsed): for data exports and for forgetting."""
        found = []
        for item in self._model.query(f"{tenant_id}#{stream}", consistent_read=True):
            data = {k: v for k, v in item.attribute_values.items() if v is not None}
            if item.detail:
                data["detail"] = json.loads(item.detail)
            found.append(data)
        return found

    def delete(self, tenant_id: str, stream: str, sort_keys: Iterable[str]) -> int:
        """Delete the stream's items with these sort keys (BatchWriteItem); how many."""
        pk = f"{tenant_id}#{stream}"
        count = 0
        with self._model.batch_write() as batch:
            for sk in sort_keys:
                batch.delete(self._model(pk, sk))
                count += 1
        return count

    def update_delivery(
        self,
        tenant_id: str,
        channel: Channel,
        message_id: str,
        status: DeliveryStatus,
        at: datetime,
        error: str = "",
        error_code: int | None = None,
    ) -> bool:
        """What the channel later reports of a message we sent, onto its entry: True when
        stored; False when no entry has that id, or the entry already says as much or more
        (a late "delivered" after "read" changes nothing)."""
        allowed = _STATUS_AFTER.get(status)
        if not allowed:
            return False
        key = message_key(tenant_id, channel, message_id)
        stored = False
        for hit in self._model.by_message.query(key):
            actions: list[Any] = [
                self._model.status.set(status.value),
                self._model.status_at.set(at),
            ]
            if error:
                actions.append(self._model.error.set(error))
            if error_code is not None:
                actions.append(self._model.error_code.set(error_code))
            try:
                self._model(hit.pk, hit.sk).update(
                    actions=actions,
                    condition=self._model.status.is_in(*(s.value for s in allowed)),
                )
            except UpdateError as exc:
                if not _conflict(exc):
                    raise TimelineUnavailable(str(exc)) from exc
                continue
            stored = True
        return stored


def timeline_entry(item: TimelineModel) -> TimelineEntry:
    return TimelineEntry(
        kind=TimelineKind(item.kind),
        at=datetime.fromisoformat(item.sk.rsplit("#", 1)[0]),
        channel=Channel(item.channel) if item.channel else None,
        text=item.text or "",
        detail=_delivery_detail(item),
        status=DeliveryStatus(item.status) if item.status else None,
        message_id=item.message_id,
    )


def _delivery_detail(item: TimelineModel) -> dict[str, str]:
    detail: dict[str, str] = json.loads(item.detail) if item.detail else {}
    if item.status_at:
        detail["status_at"] = item.status_at.isoformat()
    if item.error:
        detail["error"] = item.error
    if item.error_code is not None:
        detail["error_code"] = str(int(item.error_code))
    return detail
