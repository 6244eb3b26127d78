"""What admins change about their agency from the dashboard, each change traced in Timeline.

Languages act at once (the conversation offers only these to new leads) and commission rates
apply from the next deal. Flow mode, follow-up timings and templates and the scarcity threshold
are stored and served only: the Q&A-first flow and honest urgency (issue 6) and the follow-ups
(issue 7) will read them from the Tenant; nothing acts on them yet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

from leadbot import clock
from leadbot.domain import (
    FlowMode,
    FollowupStep,
    FollowupTemplate,
    Language,
    Tenant,
    TenantConflict,
    TimelineEntry,
    TimelineKind,
)
from leadbot.domain.settings import check
from leadbot.services import admin
from leadbot.services.errors import BadRequest
from leadbot.services.runtime import Repositories
from leadbot.store import ADMIN_STREAM, TENANT_SETTINGS

CHANGEABLE = TENANT_SETTINGS  # in the order a change is described
NULLABLE = frozenset({"airtable_base_id"})  # null disconnects the agency's Airtable base
MAX_CONFLICT_RETRIES = 3
# Templates arrive as {step: {language: text, or null to drop the agency's own}}.
TemplateChanges = Mapping[str, Mapping[str, str | None]]

E = TypeVar("E", bound=StrEnum)


def current(repos: Repositories, tenant_id: str) -> Tenant:
    """As stored now, not as this Lambda cached it: the admin sees what they last saved."""
    return repos.tenants.get(tenant_id, consistent=True)


def change(
    repos: Repositories,
    tenant_id: str,
    changes: dict[str, Any],
    *,
    by: str,
    now: Callable[[], datetime] = clock.now,
) -> Tenant:
    """Apply `changes` (setting → new value, only those given), check every rule on the
    result, and store what differs with a `settings_changed` event (who, old → new)."""
    unknown = set(changes) - set(CHANGEABLE)
    if unknown:
        raise BadRequest(f"cannot change {', '.join(sorted(unknown))}")
    if not changes:
        raise BadRequest(f"nothing to change: give any of {', '.join(CHANGEABLE)}")
    nulls = [
        name
        for name in CHANGEABLE
        if name in changes and changes[name] is None and name not in NULLABLE
    ]
    if nulls:
        raise BadRequest(f"{', '.join(nulls)} cannot be null")
    for _ in range(MAX_CONFLICT_RETRIES):
        before = repos.tenants.get(tenant_id, consistent=True)
        after = _applied(before, changes)
        check(after)  # InvalidSettings, a 400 naming the rule
        if after == before:
            return before
        detail = {"by": by, **_described(before, after)}
        event = TimelineEntry(
            kind=TimelineKind.EVENT, at=now(), text="settings_changed", detail=detail
        )
        try:
            return repos.tenants.update_settings(before, after, event)
        except TenantConflict:
            continue  # another admin saved first: apply these changes to theirs
    raise TenantConflict(tenant_id)


def issue_admin_code(
    repos: Repositories,
    tenant_id: str,
    *,
    by: str,
    now: Callable[[], datetime] = clock.now,
) -> tuple[str, datetime]:
    """A one-time `/set_admin` code valid 24 h (only its hash is stored), and an
    `admin_code_issued` event in the tenant's own Timeline that never holds the code."""
    at = now()
    code, expires = admin.issue_admin_code(repos, tenant_id, at)
    detail = {"by": by, "expires_at": expires.isoformat()}
    event = TimelineEntry(kind=TimelineKind.EVENT, at=at, text="admin_code_issued", detail=detail)
    # If this fails the code is never shown, so nobody can use a code that left no trace.
    repos.timeline.append(tenant_id, ADMIN_STREAM, [event])
    return code, expires


def _applied(tenant: Tenant, changes: dict[str, Any]) -> Tenant:
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "languages":
            values[name] = tuple(_enum(Language, code, name) for code in value)
        elif name == "default_language":
            values[name] = _enum(Language, value, name)
        elif name == "flow_mode":
            values[name] = _enum(FlowMode, value, name)
        elif name in ("campaign_days", "business_days"):
            values[name] = tuple(_whole(day, name) for day in value)
        elif name == "followup_templates":
            values[name] = _templates(tenant.followup_templates, value)
        elif name == "airtable_base_id":
            values[name] = _base_id(value)
        elif name.endswith("_rate"):
            values[name] = _rate(value, name)
        else:
            values[name] = _whole(value, name)
    return replace(tenant, **values)


def _templates(
    current: tuple[FollowupTemplate, ...], changes: TemplateChanges
) -> tuple[FollowupTemplate, ...]:
    texts = {(x.step, x.language): x.text for x in current}
    for step_name, by_language in changes.items():
        step = _enum(FollowupStep, step_name, "followup_templates")
        for code, text in by_language.items():
            key = (step, _enum(Language, code, f"followup_templates.{step.value}"))
            if text is None:
                texts.pop(key, None)
            else:
                texts[key] = text.strip()
    if texts == {(x.step, x.language): x.text for x in current}:
        return current
    steps, languages = list(FollowupStep), list(Language)
    ordered = sorted(texts, key=lambda k: (steps.index(k[0]), languages.index(k[1])))
    return tuple(FollowupTemplate(step=k[0], language=k[1], text=texts[k]) for k in ordered)


def _enum(cls: type[E], value: Any, where: str) -> E:
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(member.value for member in cls)
        raise BadRequest(f"{where}: {value!r} is not one of {allowed}") from None


def _whole(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{name} must be a whole number")
    return value


def _base_id(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest("airtable_base_id must be a string or null")
    return value.strip()


def _rate(value: Any, name: str) -> Decimal:
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        raise BadRequest(f'{name} must be a decimal string such as "0.02"') from None
    return rate


def _described(before: Tenant, after: Tenant) -> dict[str, str]:
    """Setting → "old → new" for what changed; templates as which were added, changed, removed."""
    described = {}
    for name in CHANGEABLE:
        old, new = getattr(before, name), getattr(after, name)
        if old == new:
            continue
        if name == "followup_templates":
            described[name] = _templates_described(old, new)
        else:
            described[name] = f"{_shown(old)} → {_shown(new)}"
    return described


def _templates_described(
    before: tuple[FollowupTemplate, ...], after: tuple[FollowupTemplate, ...]
) -> str:
    old = {(x.step.value, x.language.value): x.text for x in before}
    new = {(x.step.value, x.language.value): x.text for x in after}
    parts = []
    for key in sorted(old.keys() | new.keys()):
        where = "/".join(key)
        if key not in new:
            parts.append(f"{where} removed")
        elif key not in old:
            parts.append(f"{where} added ({len(new[key])} characters)")
        elif old[key] != new[key]:
            parts.append(f"{where} changed ({len(new[key])} characters)")
    return ", ".join(parts)


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(_shown(v) for v in value) or "none"
    return value.value if isinstance(value, StrEnum) else str(value)
