"""Setting up an agency's Airtable base: connecting it, and creating LeadBot's tables in it."""

from __future__ import annotations

from dataclasses import dataclass

from leadbot.domain import Tenant
from leadbot.domain.errors import DomainError
from leadbot.domain.settings import AIRTABLE_BASE_ID
from leadbot.integrations.crm import SchemaChanges
from leadbot.services.runtime import Repositories, crm


class AirtableNotConfigured(DomainError):
    """The agency has no Airtable base, or no token parameter for it; the message says which."""


@dataclass(frozen=True, slots=True)
class InitReport:
    tenant_id: str
    base_id: str
    changes: SchemaChanges


def connect(
    repos: Repositories,
    tenant_id: str,
    *,
    base_id: str | None = None,
    token_param: str | None = None,
) -> Tenant:
    """Store the base and/or the token's parameter name given (the others stay as they are);
    TenantNotFound, or ValueError for a malformed base id."""
    tenant = repos.tenants.get(tenant_id, consistent=True)
    if base_id is not None and not AIRTABLE_BASE_ID.fullmatch(base_id):
        raise ValueError(f"{base_id!r} is not an Airtable base id (app and 14 letters or digits)")
    new_base = base_id if base_id is not None else tenant.airtable_base_id
    new_param = token_param if token_param is not None else tenant.airtable_token_param
    if (new_base, new_param) != (tenant.airtable_base_id, tenant.airtable_token_param):
        repos.tenants.set_airtable(tenant_id, new_base, new_param)
    return repos.tenants.get(tenant_id, consistent=True)


def init_base(repos: Repositories, tenant_id: str) -> InitReport:
    """Create in the agency's base the tables and fields of our schema it lacks (nothing is
    deleted, renamed or retyped; a second run creates nothing). AirtableNotConfigured without
    a base or token parameter; CrmUnauthorized when Airtable refuses the token; CrmUnavailable
    when it cannot be reached."""
    from leadbot.integrations.airtable import SCHEMA

    tenant = repos.tenants.get(tenant_id, consistent=True)
    if not tenant.airtable_base_id:
        raise AirtableNotConfigured(f"tenant {tenant_id!r} has no Airtable base configured")
    if not tenant.airtable_token_param:
        raise AirtableNotConfigured(
            f"tenant {tenant_id!r} has no Airtable token parameter configured"
        )
    base = crm(tenant)
    if base is None:
        raise AirtableNotConfigured(f"tenant {tenant_id!r} has no Airtable base configured")
    return InitReport(tenant_id, tenant.airtable_base_id, base.ensure_schema(SCHEMA))
