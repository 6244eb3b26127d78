"""The rules an agency's settings keep (pure): every writer checks them, every reader may rely
on them. Not imported by the webhook: it only reads settings that were checked when written."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from itertools import pairwise
from string import Formatter

from leadbot.domain.enums import FollowupStep
from leadbot.domain.errors import InvalidSettings
from leadbot.domain.models import FollowupTemplate, Tenant

# What a follow-up template may say: the lead's name and the agency's. Nothing else is known
# for certain when a follow-up goes out, and wording must never promise what is not there.
PLACEHOLDERS = ("name", "agency")
TEMPLATE_MAX_CHARS = 1000
# Inclusive bounds of the numbers.
QA_FIRST_AFTER = (1, 20)
GHOST_AFTER_MINUTES = (30, 7 * 24 * 60)  # the sweep runs every 30 minutes: less means nothing
CAMPAIGN_DAY = (1, 90)
MAX_CAMPAIGN_STEPS = 5  # FollowupStep.CAMPAIGN_1 … CAMPAIGN_5
HOUR = (0, 23)
SCARCITY_THRESHOLD = (0, 50)
HANDOFF_SLA_MINUTES = (1, 240)  # the SLA sweep runs every minute
WEEKDAY = (0, 6)  # Monday … Sunday
RATE = (Decimal(0), Decimal(1))
# An Airtable base id, as Airtable makes them (the part of a base's URL after airtable.com/).
AIRTABLE_BASE_ID = re.compile(r"app[A-Za-z0-9]{14}")


def template_steps(campaign_days: tuple[int, ...]) -> tuple[FollowupStep, ...]:
    """The follow-ups there are with these campaign days: the ghost one, then one per day."""
    campaign = (FollowupStep(f"campaign_{n}") for n in range(1, len(campaign_days) + 1))
    return (FollowupStep.GHOST, *campaign)


def check(tenant: Tenant) -> None:
    """InvalidSettings naming the first rule the tenant's settings break."""
    _languages(tenant)
    _within("qa_first_after", tenant.qa_first_after, QA_FIRST_AFTER)
    _within("ghost_after_minutes", tenant.ghost_after_minutes, GHOST_AFTER_MINUTES)
    _campaign(tenant.campaign_days)
    _within("quiet_hours_start", tenant.quiet_hours_start, HOUR)
    _within("quiet_hours_end", tenant.quiet_hours_end, HOUR)
    if tenant.quiet_hours_start == tenant.quiet_hours_end:
        raise InvalidSettings("quiet_hours_start and quiet_hours_end must be different hours")
    _timezone(tenant.timezone)
    _within("scarcity_threshold", tenant.scarcity_threshold, SCARCITY_THRESHOLD)
    _business_hours(tenant)
    for name in ("broker_commission_rate", "platform_commission_rate"):
        rate: Decimal = getattr(tenant, name)
        if not rate.is_finite() or not RATE[0] <= rate <= RATE[1]:
            raise InvalidSettings(f"{name} must be between 0 and 1")
    _templates(tenant)
    base = tenant.airtable_base_id
    if base is not None and not AIRTABLE_BASE_ID.fullmatch(base):
        raise InvalidSettings(
            "airtable_base_id must be an Airtable base id: app and 14 letters or digits, as in "
            "the base's address airtable.com/appXXXXXXXXXXXXXX"
        )


def _placeholders(where: str, text: str) -> None:
    """InvalidSettings, naming `where`, for a placeholder `text` may not use or a stray brace."""
    try:
        parsed = list(Formatter().parse(text))
    except ValueError:
        raise InvalidSettings(
            f"{where} has a {{ or }} that is not a placeholder; write {{{{ or }}}} for a brace"
        ) from None
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in PLACEHOLDERS:
            allowed = " and ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            raise InvalidSettings(f"{where} uses {{{field}}}; a template may use only {allowed}")
        if spec or conversion:
            raise InvalidSettings(f"{where}: write {{{field}}} without a format")


def _languages(tenant: Tenant) -> None:
    if not tenant.languages:
        raise InvalidSettings("languages cannot be empty: the bot needs one to speak")
    twice = sorted(lang.value for lang, n in Counter(tenant.languages).items() if n > 1)
    if twice:
        raise InvalidSettings(f"languages lists {', '.join(twice)} more than once")
    if tenant.default_language not in tenant.languages:
        spoken = ", ".join(lang.value for lang in tenant.languages)
        raise InvalidSettings(
            f"default_language {tenant.default_language.value} is not one of the languages"
            f" ({spoken})"
        )


def _within(name: str, value: int, bounds: tuple[int, int]) -> None:
    if not bounds[0] <= value <= bounds[1]:
        raise InvalidSettings(f"{name} must be between {bounds[0]} and {bounds[1]}")


def _timezone(name: str) -> None:
    """The agency's zone: the quiet hours of leads whose phone names none are kept on it."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidSettings(
            f"timezone {name!r} is not an IANA time zone, for example Asia/Dubai"
        ) from None


def _business_hours(tenant: Tenant) -> None:
    """When brokers call back (the handoff's promise and its SLA clock)."""
    _within("business_hours_start", tenant.business_hours_start, HOUR)
    _within("business_hours_end", tenant.business_hours_end, (1, 24))
    if tenant.business_hours_end <= tenant.business_hours_start:
        raise InvalidSettings("business_hours_end must be after business_hours_start")
    days = tenant.business_days
    if not days or any(not WEEKDAY[0] <= d <= WEEKDAY[1] for d in days):
        raise InvalidSettings("business_days must name at least one day, 0 (Monday) to 6 (Sunday)")
    if len(set(days)) != len(days):
        raise InvalidSettings("business_days lists a day more than once")
    _within("handoff_sla_minutes", tenant.handoff_sla_minutes, HANDOFF_SLA_MINUTES)


def _campaign(days: tuple[int, ...]) -> None:
    if len(days) > MAX_CAMPAIGN_STEPS:
        raise InvalidSettings(f"campaign_days can have at most {MAX_CAMPAIGN_STEPS} steps")
    low, high = CAMPAIGN_DAY
    if any(not low <= day <= high for day in days):
        raise InvalidSettings(f"campaign_days must each be between {low} and {high}")
    if any(later <= earlier for earlier, later in pairwise(days)):
        raise InvalidSettings("campaign_days must increase: each step on a later day")


def _templates(tenant: Tenant) -> None:
    steps = template_steps(tenant.campaign_days)
    seen: set[tuple[str, str]] = set()
    for template in tenant.followup_templates:
        where = _where(template)
        if (template.step, template.language) in seen:
            raise InvalidSettings(f"{where} is given twice")
        seen.add((template.step, template.language))
        if template.step not in steps:
            raise InvalidSettings(
                f"{where} is for a campaign step there is not: campaign_days has"
                f" {len(tenant.campaign_days)}; remove the template (null) or add the step"
            )
        if not template.text.strip():
            raise InvalidSettings(f"{where} is empty; send null for the built-in wording")
        if len(template.text) > TEMPLATE_MAX_CHARS:
            raise InvalidSettings(
                f"{where} has {len(template.text)} characters; at most {TEMPLATE_MAX_CHARS}"
            )
        _placeholders(where, template.text)


def _where(template: FollowupTemplate) -> str:
    return f"followup_templates.{template.step.value}.{template.language.value}"
