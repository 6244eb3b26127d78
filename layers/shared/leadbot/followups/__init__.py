"""What a follow-up says (pure): the agency's own wording of a step in the lead's language,
else the catalogs'. Honest by construction (DESIGN.md §6): it knows only the lead's name and
the agency's, so it can neither invent a colleague nor a property."""

from __future__ import annotations

from leadbot.domain import FollowupStep, Lead, Outbound, Tenant
from leadbot.domain.followups import ghost_due_at, ghost_followup_due
from leadbot.i18n import placeholders, t

__all__ = ["ghost_due_at", "ghost_followup_due", "ghost_message"]


def ghost_message(lead: Lead, tenant: Tenant) -> Outbound:
    """The one ghost follow-up: a friendly check-in in the lead's language, with its name.

    A lead without a name gets the catalog's nameless wording rather than "Hi ," from an
    agency template that greets by {name}.
    """
    language = lead.language or tenant.default_language
    name = lead.name.strip()
    own = tenant.followup_template(FollowupStep.GHOST, language)
    if own is not None and (name or "name" not in placeholders(own)):
        return Outbound(text=own.format(name=name, agency=tenant.name))
    key = "followup.ghost" if name else "followup.ghost.no_name"
    return Outbound(text=t(key, language, name=name, agency=tenant.name))
