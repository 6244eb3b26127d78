"""Errors a transport answers with an HTTP status (DESIGN.md §9)."""

from leadbot.domain import DomainError


class WebhookRejected(DomainError):
    status = 400


class Unauthorized(WebhookRejected):
    status = 401


class BadRequest(WebhookRejected):
    status = 400


class PayloadTooLarge(WebhookRejected):
    status = 413


class RetryLater(WebhookRejected):
    """The same update is being processed right now; the sender should retry (Telegram does)."""

    status = 503


class Forbidden(WebhookRejected):
    """The caller is known but its role may not do this (an agent on an admin route)."""

    status = 403


class Conflict(WebhookRejected):
    """The request is fine but the lead's state forbids it now (an opted-out lead)."""

    status = 409


class Unavailable(WebhookRejected):
    """This deployment lacks what the request needs (no brochure storage configured)."""

    status = 503
