"""Typed domain errors; callers match on the type, never on the text."""


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


class TenantNotFound(DomainError):
    pass


class TenantExists(DomainError):
    """A tenant with this id exists already (creating one never overwrites another)."""


class TenantDisabled(DomainError):
    """The agency is disabled by ops: its dashboard users are refused, its webhooks ignored."""


class TenantConflict(DomainError):
    """Another admin changed the tenant's settings since they were read (optimistic locking)."""


class InvalidSettings(DomainError):
    """A tenant's settings break a rule; the message says which, in words an admin can act on."""


class LeadNotFound(DomainError):
    pass


class BrokerNotFound(DomainError):
    pass


class DealNotFound(DomainError):
    pass


class DealConflict(DomainError):
    """Another writer changed the deal since it was read (optimistic locking)."""


class PropertyNotFound(DomainError):
    pass


class PropertyConflict(DomainError):
    """Another writer changed the listing since it was read (optimistic locking)."""


class LinkNotFound(DomainError):
    """A tracked link is forged, damaged or points at nothing that exists (any of them: a 404)."""


class LeadConflict(DomainError):
    """Another writer changed the lead since it was read (optimistic locking)."""


class ChannelError(DomainError):
    """A channel API refused or failed a call; `retryable` says whether trying later may help."""

    def __init__(self, message: str, *, code: int | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


class ChannelBlocked(ChannelError):
    """The user blocked the bot or cannot be written to (Telegram 403)."""

    def __init__(self, message: str, *, code: int | None = 403) -> None:
        super().__init__(message, code=code, retryable=False)


class BrochureUnreadable(DomainError):
    """A brochure PDF cannot be read: damaged, locked with a password, or without any text (a
    scan), or too big. `reason` is "corrupt", "encrypted", "no_text" or "too_big"; the message
    says what to do."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
