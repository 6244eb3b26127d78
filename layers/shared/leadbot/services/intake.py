"""Leads from elsewhere: typed in by an agent or imported from a sheet (expo sign-ups,
LinkedIn exports), merged into the lead a person already is, never duplicated.

A person is the same lead when any way to reach them is: a chat (Telegram chat id, WhatsApp
number), a phone, an email or a LinkedIn profile. Each is an Identities key bound to one lead
of one tenant (keys start with the tenant id, so tenants never match). Conversational leads
bind only their chat; their phones are found through the by_phone index.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime

from ulid import ULID

from leadbot import clock
from leadbot.domain import (
    Channel,
    Language,
    Lead,
    LeadConflict,
    Tenant,
    TimelineEntry,
    TimelineKind,
)
from leadbot.metrics import Metric, count
from leadbot.parsing import parse_phone
from leadbot.parsing.contacts import parse_email, parse_language, parse_linkedin
from leadbot.parsing.sheets import SheetError, read_sheet
from leadbot.services.errors import BadRequest
from leadbot.services.runtime import Repositories
from leadbot.store import IdentityRepository, IdentityTaken

MAX_IMPORT_ROWS = 1_000
MAX_IMPORT_BYTES = 2_000_000  # characters of CSV in one request (well inside API Gateway's 10 MB)
IMPORT_WORKERS = 8  # rows in flight at once: each waits on DynamoDB, not on the CPU
MAX_ATTEMPTS = 3  # a key taken or a lead changed under us: look again, then merge
# As POST /api/leads limits them: a sheet's cells get no more room than a typed-in lead's.
LIMITS = {"name": 200, "source": 64, "note": 4000, "email": 254, "linkedin_url": 300}
_TELEGRAM_ID = re.compile(r"^[0-9]{1,20}$")
# The order in which a match decides which lead a person is, strongest first.
MATCH_ORDER = ("telegram", "whatsapp", "phone", "email", "linkedin")


@dataclass(frozen=True, kw_only=True)
class Contact:
    """A person as an agent or a sheet gives them, validated and normalised."""

    name: str
    phone: str | None = None  # E.164
    email: str | None = None
    linkedin_url: str | None = None
    telegram_id: str | None = None
    whatsapp: str | None = None  # E.164; WhatsApp's own id is its digits
    language: Language | None = None
    source: str | None = None
    note: str | None = None

    def keys(self, tenant_id: str) -> dict[str, str]:
        """match kind → Identities key, strongest first."""
        values = {
            "telegram": self.telegram_id,
            "whatsapp": self.whatsapp.lstrip("+") if self.whatsapp else None,
            "phone": self.phone,
            "email": self.email,
            "linkedin": self.linkedin_url,
        }
        return {
            kind: _identity_key(tenant_id, kind, v) for kind, v in values.items() if v is not None
        }


def _identity_key(tenant_id: str, kind: str, value: str) -> str:
    if kind in (Channel.TELEGRAM.value, Channel.WHATSAPP.value):
        return IdentityRepository.key(tenant_id, Channel(kind), value)
    return IdentityRepository.contact_key(tenant_id, kind, value)


def contact(values: dict[str, str | None], region: str) -> Contact:
    """Validate what an agent typed or a sheet row holds; BadRequest says what is wrong."""
    text = {k: (v or "").strip() for k, v in values.items()}
    name = " ".join(
        (text.get("name") or f"{text.get('first_name', '')} {text.get('last_name', '')}").split()
    )
    if not name:
        raise BadRequest("a name is required")
    sizes = {**{k: len(v) for k, v in text.items()}, "name": len(name)}
    problems = [
        f"{field} is longer than {limit} characters"
        for field, limit in LIMITS.items()
        if sizes.get(field, 0) > limit
    ]
    phone = whatsapp = email = linkedin = telegram = None
    language = None
    if text.get("phone"):
        phone = parse_phone(text["phone"], region)
        if phone is None:
            problems.append(f"phone {_quoted(text['phone'])} is not a valid phone number")
    if text.get("whatsapp"):
        whatsapp = parse_phone(text["whatsapp"], region)
        if whatsapp is None:
            problems.append(f"whatsapp {_quoted(text['whatsapp'])} is not a valid phone number")
    if text.get("email"):
        email = parse_email(text["email"])
        if email is None:
            problems.append(f"email {_quoted(text['email'])} is not an email address")
    if text.get("linkedin_url"):
        linkedin = parse_linkedin(text["linkedin_url"])
        if linkedin is None:
            problems.append(f"{_quoted(text['linkedin_url'])} is not a LinkedIn profile URL")
    if text.get("telegram_id"):
        telegram = text["telegram_id"]
        if not _TELEGRAM_ID.match(telegram):
            problems.append(f"telegram id {_quoted(telegram)} is not a Telegram chat id (digits)")
    if text.get("language"):
        language = parse_language(text["language"])
        if language is None:
            problems.append(f"language {_quoted(text['language'])} is not one of en, fa, ar, ru")
    if problems:
        raise BadRequest("; ".join(problems))
    if not (phone or whatsapp or email or linkedin or telegram):
        raise BadRequest("give a way to reach them: phone, email, LinkedIn URL or chat id")
    return Contact(
        name=name,
        phone=phone or whatsapp,
        email=email,
        linkedin_url=linkedin,
        telegram_id=telegram,
        whatsapp=whatsapp,
        language=language,
        source=text.get("source") or None,
        note=text.get("note") or None,
    )


def _quoted(value: str) -> str:
    """A value in a message, cut short: a sheet's cell can be anything."""
    return repr(value if len(value) <= 60 else f"{value[:57]}...")


@dataclass(frozen=True)
class Added:
    """What became of one person: a new lead, or merged into the lead they already were."""

    lead: Lead
    created: bool
    matched_on: str | None = None  # which way to reach them matched (phone, email…)
    added: tuple[str, ...] = ()  # fields the merge filled in
    also_matches: tuple[str, ...] = ()  # other leads the person's details point at


@dataclass
class Known:
    """What adding people has learned so far: Identities key → lead id ("" for a key bound to
    nobody), and for an import the tenant's phones and the Timeline entries to write in
    batches at the end. Rows of one import that share a key run one after another."""

    leads: dict[str, str] = field(default_factory=dict)
    phones: dict[str, str] | None = None  # phone → lead; None: ask the by_phone index each time
    entries: dict[str, list[TimelineEntry]] | None = None  # None: write each lead's at once

    def learn(self, repos: Repositories, keys: Iterable[str], consistent: bool = False) -> None:
        missing = [key for key in keys if consistent or key not in self.leads]
        if missing:
            found = repos.identities.lookup(missing, consistent=consistent)
            self.leads.update({key: found.get(key, "") for key in missing})

    def record(
        self, repos: Repositories, tenant_id: str, lead_id: str, entries: list[TimelineEntry]
    ) -> None:
        if self.entries is None:
            repos.timeline.append(tenant_id, lead_id, entries)
        else:
            self.entries.setdefault(lead_id, []).extend(entries)


def add_lead(
    repos: Repositories,
    tenant: Tenant,
    person: Contact,
    *,
    by: str,
    how: str,
    known: Known | None = None,
    now: Callable[[], datetime] = clock.now,
) -> Added:
    """Create the lead, or merge `person` into the lead they already are in this tenant."""
    added = _add(repos, tenant, person, by=by, how=how, known=known, now=now)
    if added.created:
        count(Metric.LEADS_CREATED)
    return added


def _add(
    repos: Repositories,
    tenant: Tenant,
    person: Contact,
    *,
    by: str,
    how: str,
    known: Known | None,
    now: Callable[[], datetime],
) -> Added:
    keys = person.keys(tenant.tenant_id)
    known = known if known is not None else Known()
    known.learn(repos, keys.values())
    for _ in range(MAX_ATTEMPTS):
        matches = _matches(repos, tenant.tenant_id, person, keys, known)
        if matches:
            kind, lead_id = matches[0]
            others = tuple(sorted({other for _, other in matches if other != lead_id}))
            added = _merge(
                repos, tenant, person, lead_id, kind, others, known, by=by, how=how, now=now
            )
        else:
            try:
                added = _create(repos, tenant, person, keys, known, by=by, how=how, now=now)
            except IdentityTaken as taken:  # someone else just bound one: look again
                known.learn(repos, taken.args, consistent=True)
                continue
        known.leads.update({key: added.lead.lead_id for key in keys.values()})
        if person.phone and known.phones is not None:
            known.phones.setdefault(person.phone, added.lead.lead_id)
        return added
    raise LeadConflict(person.name)


def _matches(
    repos: Repositories, tenant_id: str, person: Contact, keys: dict[str, str], known: Known
) -> list[tuple[str, str]]:
    """(match kind, lead id) for every way to reach the person that belongs to a lead."""
    found = [(kind, known.leads[key]) for kind, key in keys.items() if known.leads.get(key)]
    if person.phone and not any(kind == "phone" for kind, _ in found):
        # A lead who shared this phone in a chat carries it, though no key binds it.
        if known.phones is None:
            holders = repos.leads.ids_with_phone(tenant_id, person.phone)
        else:
            holders = [known.phones[person.phone]] if person.phone in known.phones else []
        found += [("phone", lead_id) for lead_id in holders]
        found.sort(key=lambda match: MATCH_ORDER.index(match[0]))
    return found


def _create(
    repos: Repositories,
    tenant: Tenant,
    person: Contact,
    keys: dict[str, str],
    known: Known,
    *,
    by: str,
    how: str,
    now: Callable[[], datetime],
) -> Added:
    at = now()
    channel, external_id = _chat(person)
    lead_id = str(ULID.from_datetime(at))
    lead = Lead(
        tenant_id=tenant.tenant_id,
        lead_id=lead_id,
        channel=channel,
        external_id=external_id or lead_id,
        name=person.name,
        language=person.language,
        phone=person.phone,
        email=person.email,
        linkedin_url=person.linkedin_url,
        source=person.source or how,
        created_at=at,
        updated_at=at,
    )
    saved = repos.leads.create(lead, *keys.values())
    event = {"by": by, "how": how, "source": saved.source or how}
    created = TimelineEntry(kind=TimelineKind.EVENT, at=at, text="lead_created", detail=event)
    known.record(repos, tenant.tenant_id, lead_id, [created, *_note(person, by, at)])
    return Added(lead=saved, created=True)


def _merge(
    repos: Repositories,
    tenant: Tenant,
    person: Contact,
    lead_id: str,
    matched_on: str,
    others: tuple[str, ...],
    known: Known,
    *,
    by: str,
    how: str,
    now: Callable[[], datetime],
) -> Added:
    """Fill in what the lead lacks (never overwrite what it has) and bind the person's other
    keys to it, so the next import of the same person matches at once."""
    for _ in range(MAX_ATTEMPTS):
        before = repos.leads.get(tenant.tenant_id, lead_id)
        at = now()
        after, added = _filled(before, person, at)
        try:
            saved = repos.leads.save(before, after) if added else before
        except LeadConflict:
            continue
        break
    else:
        raise LeadConflict(lead_id)
    elsewhere = list(others)
    for key in person.keys(tenant.tenant_id).values():
        if known.leads.get(key) == lead_id:
            continue
        owner = repos.identities.bind(key, lead_id, at)
        if owner != lead_id and owner not in elsewhere:
            elsewhere.append(owner)
    detail = {"by": by, "how": how, "matched_on": matched_on}
    if added:
        detail["added"] = ", ".join(added)
    if person.source:
        detail["source"] = person.source
    if elsewhere:
        detail["also_matches"] = ", ".join(sorted(elsewhere))
    entry = TimelineEntry(kind=TimelineKind.EVENT, at=at, text="lead_merged", detail=detail)
    known.record(repos, tenant.tenant_id, lead_id, [entry, *_note(person, by, at)])
    return Added(
        lead=saved,
        created=False,
        matched_on=matched_on,
        added=added,
        also_matches=tuple(sorted(elsewhere)),
    )


def _filled(lead: Lead, person: Contact, at: datetime) -> tuple[Lead, tuple[str, ...]]:
    """The lead with the blanks `person` can fill, and the names of the fields filled."""
    values: dict[str, object] = {}
    if not lead.name.strip():
        values["name"] = person.name
    for name in ("phone", "email", "linkedin_url", "language"):
        if getattr(lead, name) is None and getattr(person, name) is not None:
            values[name] = getattr(person, name)
    if lead.channel is Channel.MANUAL:
        channel, external_id = _chat(person)
        if channel is not Channel.MANUAL:  # now the bot (and agents) can write to them
            values["channel"], values["external_id"] = channel, external_id
    if not values:
        return lead, ()
    added = tuple(name for name in values if name != "external_id")
    return replace(lead, **values, updated_at=at), added  # type: ignore[arg-type]


def _chat(person: Contact) -> tuple[Channel, str]:
    if person.telegram_id:
        return Channel.TELEGRAM, person.telegram_id
    if person.whatsapp:
        return Channel.WHATSAPP, person.whatsapp.lstrip("+")
    return Channel.MANUAL, ""


def _note(person: Contact, by: str, at: datetime) -> list[TimelineEntry]:
    if not person.note:
        return []
    detail = {"by": by, "note": person.note}
    return [TimelineEntry(kind=TimelineKind.EVENT, at=at, text="note", detail=detail)]


@dataclass(frozen=True)
class RowReport:
    line: int
    name: str
    status: str  # created, merged or failed
    lead_id: str | None = None
    matched_on: str | None = None
    added: tuple[str, ...] = ()
    message: str = ""


@dataclass(frozen=True)
class ImportReport:
    rows: list[RowReport]
    ignored_columns: list[str]

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)


def import_sheet(
    repos: Repositories,
    tenant_id: str,
    text: str,
    *,
    by: str,
    source: str | None = None,
    now: Callable[[], datetime] = clock.now,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Every row of a CSV sheet as a lead, each row reported on its own: a bad row fails
    alone and the rest are imported. `source` is for rows without a source column.

    Rows that share a way to reach someone run in file order (the first creates, the rest
    merge); other rows run IMPORT_WORKERS at a time. Keys are looked up 100 to a request and
    the tenant's phones read once; Timeline entries are written 25 to a request at the end.
    """
    tenant = repos.tenants.get(tenant_id)
    try:
        sheet = read_sheet(text, MAX_IMPORT_ROWS)
    except SheetError as exc:
        raise BadRequest(str(exc)) from None
    if not sheet.rows:
        raise BadRequest("the file has a header but no rows")
    people: list[tuple[int, Contact | str]] = []
    for row in sheet.rows:
        values: dict[str, str | None] = {"source": source, **row.values}
        try:
            people.append((row.line, contact(values, tenant.phone_region)))
        except BadRequest as exc:
            people.append((row.line, str(exc)))
    valid = [p for _, p in people if isinstance(p, Contact)]
    has_phones = any(p.phone for p in valid)
    known = Known(phones=repos.leads.phones(tenant_id) if has_phones else {}, entries={})
    known.learn(repos, [key for p in valid for key in p.keys(tenant_id).values()])
    reports: dict[int, RowReport] = {}
    done = threading.Lock()

    def run(group: list[int]) -> None:
        for index in group:
            line, person = people[index]
            report = _row(repos, tenant, line, person, by=by, known=known, now=now)
            with done:
                reports[index] = report
                if progress is not None:
                    progress(len(reports), len(people))

    try:
        with ThreadPoolExecutor(max_workers=IMPORT_WORKERS) as pool:
            for finished in [pool.submit(run, g) for g in _groups(people, tenant_id)]:
                finished.result()
    finally:
        if known.entries:
            repos.timeline.append_streams(tenant_id, known.entries)  # 25 to a request
    report = ImportReport(
        rows=[reports[i] for i in range(len(people))], ignored_columns=sheet.ignored_columns
    )
    # One value for the whole sheet: a thousand rows are one import, not a thousand samples.
    if created := report.count("created"):
        count(Metric.LEADS_CREATED, created)
    return report


def _groups(people: list[tuple[int, Contact | str]], tenant_id: str) -> list[list[int]]:
    """Row indexes in groups that share no key with each other, each in file order."""
    parent = list(range(len(people)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with: dict[str, int] = {}
    for index, (_, person) in enumerate(people):
        if isinstance(person, Contact):
            for key in person.keys(tenant_id).values():
                other = first_with.setdefault(key, index)
                parent[root(index)] = root(other)
    groups: dict[int, list[int]] = {}
    for index in range(len(people)):
        groups.setdefault(root(index), []).append(index)
    return list(groups.values())


def _row(
    repos: Repositories,
    tenant: Tenant,
    line: int,
    person: Contact | str,
    *,
    by: str,
    known: Known,
    now: Callable[[], datetime],
) -> RowReport:
    if isinstance(person, str):
        return RowReport(line=line, name="", status="failed", message=person)
    try:
        added = _add(repos, tenant, person, by=by, how="import", known=known, now=now)
    except LeadConflict:
        message = "the lead kept changing while it was merged; import this row again"
        return RowReport(line=line, name=person.name, status="failed", message=message)

    message = ""
    if added.also_matches:
        message = f"also matches lead {', '.join(added.also_matches)}"
    return RowReport(
        line=line,
        name=person.name,
        status="created" if added.created else "merged",
        lead_id=added.lead.lead_id,
        matched_on=added.matched_on,
        added=added.added,
        message=message,
    )
