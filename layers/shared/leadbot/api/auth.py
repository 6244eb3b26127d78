"""Who is calling: only from the claims API Gateway's Cognito authorizer verified (DESIGN.md §9)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from leadbot.domain import TenantDisabled, TenantNotFound
from leadbot.services.errors import Forbidden, Unauthorized


class Role(StrEnum):
    AGENT = "agent"
    ADMIN = "admin"


@dataclass(frozen=True)
class Caller:
    tenant_id: str
    role: Role
    user_id: str
    email: str

    @property
    def name(self) -> str:
        """How Timeline names who did something."""
        return self.email or self.user_id


def caller(router: APIGatewayRouter) -> Caller:
    """The verified caller of the current request; Unauthorized without usable claims.

    API Gateway refuses requests without a valid token before they get here; this is the
    second lock, so a route wired without the authorizer fails closed.
    """
    authorizer = router.current_event.request_context.authorizer
    claims = (authorizer.claims if authorizer is not None else None) or {}
    tenant_id = str(claims.get("custom:tenant_id") or "")
    role = str(claims.get("custom:role") or "")
    if not tenant_id or role not in Role.__members__.values():
        raise Unauthorized("no verified tenant and role")
    _refuse_disabled(tenant_id)
    return Caller(
        tenant_id=tenant_id,
        role=Role(role),
        user_id=str(claims.get("sub") or claims.get("cognito:username") or ""),
        email=str(claims.get("email") or ""),
    )


def admin(router: APIGatewayRouter) -> Caller:
    found = caller(router)
    if found.role is not Role.ADMIN:
        raise Forbidden("admins only")
    return found


def _refuse_disabled(tenant_id: str) -> None:
    """TenantDisabled (403) while ops have the agency disabled; the tenant comes from the
    per-Lambda cache, so this costs a read a minute, and takes effect within that minute."""
    from leadbot.services.runtime import repositories

    try:
        tenant = repositories().tenants.get(tenant_id)
    except TenantNotFound:
        return  # each route answers for an agency that is not set up
    if not tenant.active:
        raise TenantDisabled(tenant_id)
