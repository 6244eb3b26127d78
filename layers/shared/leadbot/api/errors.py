"""Domain and request errors → HTTP answers with a message, one place for the whole API."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from leadbot.domain import (
    BrokerNotFound,
    DealConflict,
    DealNotFound,
    InvalidSettings,
    LeadConflict,
    LeadNotFound,
    PropertyConflict,
    PropertyNotFound,
    TenantConflict,
    TenantDisabled,
    TenantNotFound,
)
from leadbot.services.errors import WebhookRejected

Answer = Response[dict[str, Any]]


def _answer(status: int, message: str, **extra: Any) -> Answer:
    return Response(status, "application/json", {"message": message, **extra})


def invalid(exc: RequestValidationError) -> Answer:
    errors = [
        {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
        for e in exc.errors()
    ]
    return _answer(400, "the request is not valid", errors=errors)


def rejected(exc: WebhookRejected) -> Answer:
    return _answer(exc.status, str(exc))


def lead_not_found(exc: LeadNotFound) -> Answer:
    return _answer(404, "no such lead")


def broker_not_found(exc: BrokerNotFound) -> Answer:
    return _answer(404, "no such broker")


def deal_not_found(exc: DealNotFound) -> Answer:
    return _answer(404, "no such deal")


def deal_conflict(exc: DealConflict) -> Answer:
    return _answer(409, "the deal is changing right now; try again")


def property_not_found(exc: PropertyNotFound) -> Answer:
    return _answer(404, "no such listing")


def property_conflict(exc: PropertyConflict) -> Answer:
    return _answer(409, "the listing changed since it was read; load it again and retry")


def tenant_not_found(exc: TenantNotFound) -> Answer:
    return _answer(403, "this account's agency is not set up")


def tenant_disabled(exc: TenantDisabled) -> Answer:
    return _answer(
        403,
        "this agency's account is disabled; its data is kept. Ask LeadBot support to enable it",
        code="tenant_disabled",
    )


def invalid_settings(exc: InvalidSettings) -> Answer:
    return _answer(400, str(exc))


def settings_conflict(exc: TenantConflict) -> Answer:
    return _answer(409, "another admin is changing the settings right now; try again")


def conflict(exc: LeadConflict) -> Answer:
    return _answer(409, "the lead is changing right now; try again")


HANDLERS: dict[type[Exception], Any] = {
    RequestValidationError: invalid,
    WebhookRejected: rejected,
    LeadNotFound: lead_not_found,
    TenantNotFound: tenant_not_found,
    TenantDisabled: tenant_disabled,
    LeadConflict: conflict,
    BrokerNotFound: broker_not_found,
    DealNotFound: deal_not_found,
    DealConflict: deal_conflict,
    InvalidSettings: invalid_settings,
    TenantConflict: settings_conflict,
    PropertyNotFound: property_not_found,
    PropertyConflict: property_conflict,
}


def register(app: APIGatewayRestResolver) -> None:
    for error, handler in HANDLERS.items():
        app.exception_handler(error)(handler)
