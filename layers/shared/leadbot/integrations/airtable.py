"""Airtable behind LeadBot's Crm: our four tables, domain objects as their fields, and pyairtable.

The mapping functions are pure (values in, field dicts out). `AirtableCrm` wraps pyairtable,
which (with `requests`) is imported by the first request, never when this module is imported.
Every HTTP request of a base goes through one session that keeps Airtable's rate limit (5
requests per second per base) with a `Pacer` and retries 429s, 5xx answers and network failures
with exponential backoff; the clock and sleep are injectable, so tests never really wait.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from leadbot.domain import (
    Bedrooms,
    Goal,
    Language,
    Lead,
    LeadStatus,
    Money,
    PaymentMethod,
    PropertyType,
    ScoreState,
    Temperature,
    Timeline,
)
from leadbot.domain.deals import Broker, Deal, DealStatus, to_minor
from leadbot.domain.settings import AIRTABLE_BASE_ID
from leadbot.integrations.crm import (
    CrmRejected,
    CrmUnauthorized,
    CrmUnavailable,
    Fields,
    FieldSpec,
    SchemaChanges,
    TableSpec,
    UpsertResult,
)

if TYPE_CHECKING:
    import pyairtable
    import requests

AIRTABLE_API = "https://api.airtable.com"
# Airtable's limits: records per create/update call, and requests per second per base.
MAX_RECORDS_PER_REQUEST = 10
REQUESTS_PER_SECOND = 5
# Answers worth trying again: rate limited, or Airtable's own trouble.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Methods whose request may be repeated after a read timeout (the first may have been applied):
# an upsert (PATCH with performUpsert) matches on its key, so a second one changes nothing.
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"})

_T = TypeVar("_T")

LEADS = "Qualified Leads"
DEALS = "Deals"
BROKERS = "Brokers"
ACTIVITY = "Activity Log"
LEAD_ID = "Lead ID"
DEAL_ID = "Deal ID"
BROKER_ID = "Broker ID"
ACTIVITY_ID = "Activity ID"

# How Timeline answers read in the CRM (its select's choices, in order).
TIMELINE_LABELS = {
    Timeline.NOW: "within a month",
    Timeline.MONTHS_3: "1-3 months",
    Timeline.MONTHS_6: "3-6 months",
    Timeline.LATER: "later",
}


def _text(name: str, description: str = "") -> FieldSpec:
    return FieldSpec(name, "singleLineText", description=description)


def _select(name: str, choices: Sequence[str]) -> FieldSpec:
    return FieldSpec(name, "singleSelect", {"choices": [{"name": c} for c in choices]})


def _number(name: str, precision: int) -> FieldSpec:
    return FieldSpec(name, "number", {"precision": precision})


def _percent(name: str) -> FieldSpec:
    return FieldSpec(name, "percent", {"precision": 2})


def _time(name: str) -> FieldSpec:
    # Shown in UTC, as written: the agency's users may sit in several time zones.
    return FieldSpec(
        name,
        "dateTime",
        {"dateFormat": {"name": "iso"}, "timeFormat": {"name": "24hour"}, "timeZone": "utc"},
    )


def _checkbox(name: str) -> FieldSpec:
    # The only icon and colour every Airtable plan allows.
    return FieldSpec(name, "checkbox", {"icon": "check", "color": "greenBright"})


def _values(enum: Any) -> list[str]:
    return [member.value for member in enum]


LEADS_TABLE = TableSpec(
    LEADS,
    (
        _text(LEAD_ID, "LeadBot's id of the lead (a ULID); upserts match on it"),
        _text("Name"),
        FieldSpec("Phone", "phoneNumber"),
        FieldSpec("Email", "email"),
        _select("Language", _values(Language)),
        _text("Source"),
        _select("Status", _values(LeadStatus)),
        _select("Temperature", _values(Temperature)),
        _number("Score", 0),
        _select("Goal", _values(Goal)),
        _number("Budget", 2),
        _text("Currency"),
        _select("Property Type", _values(PropertyType)),
        _text("Location"),
        _select("Bedrooms", _values(Bedrooms)),
        _select("Timeline", list(TIMELINE_LABELS.values())),
        _select("Payment Method", _values(PaymentMethod)),
        _text("Broker"),
        _time("Qualified At"),
        _time("Updated At"),
        FieldSpec("Dashboard Link", "url"),
    ),
    merge_key=LEAD_ID,
    description="Leads LeadBot qualified, kept current by LeadBot",
)
DEALS_TABLE = TableSpec(
    DEALS,
    (
        _text(DEAL_ID, "LeadBot's id of the deal; upserts match on it"),
        _text(LEAD_ID),
        _text("Broker"),
        _number("Value", 2),
        _text("Currency"),
        _percent("Broker Commission Rate"),
        _number("Broker Commission", 2),
        _percent("Platform Commission Rate"),
        _number("Platform Commission", 2),
        _select("Status", _values(DealStatus)),
        _time("Created At"),
        _time("Closed At"),
    ),
    merge_key=DEAL_ID,
    description="Deals and both commissions, kept current by LeadBot",
)
BROKERS_TABLE = TableSpec(
    BROKERS,
    (
        _text(BROKER_ID, "LeadBot's id of the broker; upserts match on it"),
        _text("Name"),
        FieldSpec("Phone", "phoneNumber"),
        FieldSpec("Email", "email"),
        _text("Telegram Chat"),
        _checkbox("Active"),
        _checkbox("Away"),
        _number("Max Open Leads", 0),
        _time("Created At"),
    ),
    merge_key=BROKER_ID,
    description="The agency's brokers, kept current by LeadBot",
)
ACTIVITY_TABLE = TableSpec(
    ACTIVITY,
    (
        _text(ACTIVITY_ID, "Unique per activity, so a replayed one is written once"),
        _time("Time"),
        _text(LEAD_ID),
        _text("Kind"),
        FieldSpec("Detail", "multilineText"),
    ),
    merge_key=ACTIVITY_ID,
    description="What happened to leads: broker requests, assignments, status changes, deals",
)
# Our tables in an agency's base, created by `python -m leadbot.admin airtable-init`.
SCHEMA: tuple[TableSpec, ...] = (LEADS_TABLE, DEALS_TABLE, BROKERS_TABLE, ACTIVITY_TABLE)


# -- domain objects as fields (pure) -----------------------------------------------------------


def iso_utc(at: datetime | None) -> str | None:
    """`2026-01-05T09:00:00.000Z`, the form Airtable answers with; None stays None."""
    if at is None:
        return None
    if at.tzinfo is None:
        raise ValueError("times are timezone-aware")
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def money_number(amount: Decimal, currency: str) -> int | float:
    """A Decimal amount as the JSON number Airtable takes, rounded half up to the currency's
    minor units. The float's shortest repr is that exact decimal (checked), so what is written
    is the amount to the cent, never a binary approximation of it."""
    if not isinstance(amount, Decimal):
        raise ValueError("money is a Decimal, never a float")
    rounded = to_minor(amount, currency)
    if rounded == rounded.to_integral_value():
        return int(rounded)
    number = float(rounded)
    if Decimal(repr(number)) != rounded:
        raise ValueError(f"{rounded} {currency} does not fit a JSON number exactly")
    return number


def _rate(rate: Decimal) -> float:
    number = float(rate)
    if Decimal(repr(number)) != rate.normalize():
        raise ValueError(f"rate {rate} does not fit a JSON number exactly")
    return number


def _blank(value: str | None) -> str | None:
    return value if value and value.strip() else None


def lead_fields(
    lead: Lead,
    broker_name: str | None,
    dashboard_url: str,
    *,
    score: ScoreState | None = None,
) -> Fields:
    """A lead as a Qualified Leads record. Every column is present, None where the lead has no
    value, so an upsert also clears what was removed (an unassigned broker). `dashboard_url`
    is the lead's page on the dashboard (Tenant.lead_url), "" for none."""
    budget: Money | None = lead.budget
    return {
        LEAD_ID: lead.lead_id,
        "Name": _blank(lead.name),
        "Phone": lead.phone,
        "Email": lead.email,
        "Language": lead.language.value if lead.language else None,
        "Source": _blank(lead.source),
        "Status": lead.status.value,
        "Temperature": score.temperature.value if score and score.temperature else None,
        "Score": score.value if score else None,
        "Goal": lead.goal.value if lead.goal else None,
        "Budget": money_number(budget.amount, budget.currency) if budget else None,
        "Currency": budget.currency if budget else None,
        "Property Type": lead.property_type.value if lead.property_type else None,
        "Location": _blank(lead.location),
        "Bedrooms": lead.bedrooms.value if lead.bedrooms else None,
        "Timeline": TIMELINE_LABELS[lead.timeline] if lead.timeline else None,
        "Payment Method": lead.payment_method.value if lead.payment_method else None,
        "Broker": _blank(broker_name),
        "Qualified At": iso_utc(lead.qualified_at),
        "Updated At": iso_utc(lead.updated_at),
        "Dashboard Link": dashboard_url or None,
    }


def deal_fields(deal: Deal, broker_name: str | None) -> Fields:
    """A deal as a Deals record, with both commissions and the rates they were made at."""
    currency = deal.value.currency
    return {
        DEAL_ID: deal.deal_id,
        LEAD_ID: deal.lead_id,
        "Broker": _blank(broker_name),
        "Value": money_number(deal.value.amount, currency),
        "Currency": currency,
        "Broker Commission Rate": _rate(deal.broker_commission_rate),
        "Broker Commission": money_number(deal.broker_commission.amount, currency),
        "Platform Commission Rate": _rate(deal.platform_commission_rate),
        "Platform Commission": money_number(deal.platform_commission.amount, currency),
        "Status": deal.status.value,
        "Created At": iso_utc(deal.created_at),
        "Closed At": iso_utc(deal.closed_at),
    }


def broker_fields(broker: Broker) -> Fields:
    return {
        BROKER_ID: broker.broker_id,
        "Name": broker.name,
        "Phone": broker.phone,
        "Email": broker.email,
        "Telegram Chat": broker.telegram_chat_id,
        "Active": broker.active,
        "Away": broker.away,
        "Max Open Leads": broker.max_open_leads,
        "Created At": iso_utc(broker.created_at),
    }


def activity_fields(
    activity_id: str, at: datetime, lead_id: str, kind: str, detail: str = ""
) -> Fields:
    """One Activity Log line. `activity_id` must be the same every time the same activity is
    written (e.g. its Timeline entry's key), so that upserting on it makes replays harmless."""
    return {
        ACTIVITY_ID: activity_id,
        "Time": iso_utc(at),
        LEAD_ID: lead_id,
        "Kind": kind,
        "Detail": detail or None,
    }


def chunks(records: Sequence[_T], size: int = MAX_RECORDS_PER_REQUEST) -> Iterator[list[_T]]:
    """The records in lists of at most `size`, in order."""
    for start in range(0, len(records), size):
        yield list(records[start : start + size])


# -- pacing and retries ------------------------------------------------------------------------


class Pacer:
    """At most `rate` requests in any `per` seconds: `wait()` before each request sleeps until
    the oldest of the last `rate` is `per` seconds old. Thread-safe."""

    def __init__(
        self,
        rate: int = REQUESTS_PER_SECOND,
        per: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate < 1 or per <= 0:
            raise ValueError("a pacer needs a positive rate and period")
        self.rate = rate
        self.per = per
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque(maxlen=rate)
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Block until a request may go; how long it slept."""
        with self._lock:
            slept = 0.0
            if len(self._sent) == self.rate:
                due = self._sent[0] + self.per - self._clock()
                if due > 0:
                    self._sleep(due)
                    slept = due
            self._sent.append(self._clock())
            return slept


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`retries` more attempts after the first, waiting base × 2^n seconds (at most `max_s`),
    or longer when the answer says so (Retry-After)."""

    retries: int = 3
    base_s: float = 1.0
    max_s: float = 8.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        wait: float = min(self.max_s, self.base_s * float(2**attempt))
        if retry_after and retry_after.strip().isdigit():
            wait = max(wait, float(retry_after.strip()))
        return wait


def _paced_session(
    pacer: Pacer, policy: RetryPolicy, sleep: Callable[[float], None]
) -> requests.Session:
    """A requests Session whose every request is paced and retried per `policy`. After the last
    retry the answer (or the network error) goes back to pyairtable, which raises on it."""
    import requests

    class PacedSession(requests.Session):
        def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
            verb = (method.decode() if isinstance(method, bytes) else method).upper()
            target = url.decode() if isinstance(url, bytes) else url
            attempt = 0
            while True:
                pacer.wait()
                try:
                    response = super().request(verb, target, *args, **kwargs)
                except requests.ConnectionError:
                    # Refused, reset or timed out connecting: any method may go again.
                    if attempt >= policy.retries:
                        raise
                    sleep(policy.delay(attempt))
                except requests.Timeout:
                    # Timed out reading the answer: a POST may have been applied already.
                    if attempt >= policy.retries or verb not in _IDEMPOTENT:
                        raise
                    sleep(policy.delay(attempt))
                else:
                    if response.status_code not in RETRY_STATUSES or attempt >= policy.retries:
                        return response
                    sleep(policy.delay(attempt, response.headers.get("Retry-After")))
                attempt += 1

    return PacedSession()


# -- the adapter ----------------------------------------------------------------------------


class AirtableCrm:
    """One Airtable base of one agency, through pyairtable. Implements leadbot's Crm."""

    def __init__(
        self,
        base_id: str,
        token: Callable[[], str],
        *,
        endpoint_url: str = AIRTABLE_API,
        timeout_s: float = 10.0,
        retry: RetryPolicy | None = None,
        pacer: Pacer | None = None,
        sleep: Callable[[float], None] = time.sleep,
        typecast: bool = True,
    ) -> None:
        """`token` is asked when the client is made (the secrets reader caches it).
        `typecast` lets Airtable add a select option it lacks (a status added to LeadBot after
        the base was set up) instead of refusing the record."""
        if not AIRTABLE_BASE_ID.fullmatch(base_id):
            raise ValueError(f"not an Airtable base id: {base_id!r}")
        self.base_id = base_id
        self._token = token
        self._endpoint_url = endpoint_url.rstrip("/")
        self._timeout_s = timeout_s
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self.pacer = pacer or Pacer(sleep=sleep)
        self._typecast = typecast
        self._lock = threading.Lock()
        self._api: pyairtable.Api | None = None

    def api(self) -> pyairtable.Api:
        with self._lock:
            if self._api is None:
                import pyairtable

                try:
                    token = self._token()
                except Exception as exc:  # SSM or the secrets file: nothing to write with
                    raise CrmUnavailable(f"no Airtable token: {type(exc).__name__}") from exc
                if not token:
                    raise CrmUnauthorized("no Airtable token: the parameter is empty")
                api = pyairtable.Api(
                    token,
                    endpoint_url=self._endpoint_url,
                    retry_strategy=None,
                    timeout=(self._timeout_s, self._timeout_s),  # type: ignore[arg-type]
                )
                api.session = _paced_session(self.pacer, self._retry, self._sleep)
                api.api_key = token  # the setter puts the Bearer header on the new session
                self._api = api
            return self._api

    def upsert(
        self, table: str, records: Sequence[Fields], merge_on: Sequence[str]
    ) -> UpsertResult:
        for record in records:
            missing = [name for name in merge_on if record.get(name) in (None, "")]
            if missing:
                raise CrmRejected(f"{table}: a record lacks {', '.join(missing)} to merge on")
        created: list[str] = []
        updated: list[str] = []
        for chunk in chunks(records):
            with _mapped_errors(table):
                answer = (
                    self.api()
                    .table(self.base_id, table)
                    .batch_upsert(
                        [{"fields": fields} for fields in chunk],
                        key_fields=list(merge_on),
                        typecast=self._typecast,
                    )
                )
            created += answer["createdRecords"]
            updated += answer["updatedRecords"]
        return UpsertResult(created=tuple(created), updated=tuple(updated))

    def create(self, table: str, records: Sequence[Fields]) -> tuple[str, ...]:
        ids: list[str] = []
        for chunk in chunks(records):
            with _mapped_errors(table):
                made = (
                    self.api()
                    .table(self.base_id, table)
                    .batch_create(chunk, typecast=self._typecast)
                )
            ids += [record["id"] for record in made]
        return tuple(ids)

    def records_where(self, table: str, field: str, value: str) -> tuple[str, ...]:
        formula = f"{{{field}}}='{_quoted(value)}'"
        with _mapped_errors(table):
            found = self.api().table(self.base_id, table).all(formula=formula, fields=[field])
        return tuple(record["id"] for record in found)

    def delete(self, table: str, record_ids: Sequence[str]) -> int:
        deleted = 0
        for chunk in chunks(list(record_ids)):
            try:
                with _mapped_errors(table):
                    deleted += len(self.api().table(self.base_id, table).batch_delete(chunk))
            except CrmRejected as exc:
                if exc.status != 404:
                    raise
                # Airtable refuses the whole request when one id is gone (deleted meanwhile,
                # by a person or an earlier forget): delete the others one by one.
                deleted += sum(self._delete_one(table, record_id) for record_id in chunk)
        return deleted

    def _delete_one(self, table: str, record_id: str) -> int:
        try:
            with _mapped_errors(table):
                self.api().table(self.base_id, table).delete(record_id)
        except CrmRejected as exc:
            if exc.status != 404:
                raise
        return 1

    def ensure_schema(self, schema: Sequence[TableSpec]) -> SchemaChanges:
        api = self.api()
        base = api.base(self.base_id)
        with _mapped_errors("the base's schema"):
            existing = {t.name.casefold(): t for t in base.schema(force=True).tables}
        tables: list[str] = []
        fields: list[tuple[str, str]] = []
        mismatched: list[tuple[str, str, str, str]] = []
        for spec in schema:
            found = existing.get(spec.name.casefold())
            if found is None:
                with _mapped_errors(spec.name):
                    api.post(base.urls.tables, json=_table_payload(spec))
                tables.append(spec.name)
                continue
            theirs = {f.name.casefold(): f for f in found.fields}
            for wanted in spec.fields:
                field = theirs.get(wanted.name.casefold())
                if field is None:
                    with _mapped_errors(spec.name):
                        api.table(self.base_id, found.id).create_field(
                            wanted.name,
                            wanted.type,
                            description=wanted.description or None,
                            options=dict(wanted.options) if wanted.options else None,
                        )
                    fields.append((spec.name, wanted.name))
                    continue
                # pyairtable reads known types as its FieldType enum, others as strings.
                kind = str(getattr(field.type, "value", field.type))
                if kind != wanted.type:
                    mismatched.append((spec.name, wanted.name, kind, wanted.type))
        return SchemaChanges(
            tables_created=tuple(tables),
            fields_created=tuple(fields),
            type_mismatches=tuple(mismatched),
        )


def _quoted(value: str) -> str:
    """A value inside a formula's single-quoted string."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _field_payload(spec: FieldSpec) -> dict[str, Any]:
    payload: dict[str, Any] = {"name": spec.name, "type": spec.type}
    if spec.options:
        payload["options"] = dict(spec.options)
    if spec.description:
        payload["description"] = spec.description
    return payload


def _table_payload(spec: TableSpec) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": spec.name,
        "fields": [_field_payload(f) for f in spec.fields],
    }
    if spec.description:
        payload["description"] = spec.description
    return payload


class _mapped_errors:  # lower case: it reads as a `with` block, like contextlib's
    """Turns what pyairtable and requests raise into CrmUnavailable or CrmRejected."""

    def __init__(self, where: str) -> None:
        self.where = where

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if exc is None:
            return
        import requests

        if isinstance(exc, requests.HTTPError) and exc.response is not None:
            raise _from_response(self.where, exc.response) from exc
        if isinstance(exc, requests.RequestException):
            raise CrmUnavailable(f"{self.where}: {type(exc).__name__} reaching Airtable") from exc


def _from_response(where: str, response: requests.Response) -> CrmUnavailable | CrmRejected:
    status = response.status_code
    error_type, message = _airtable_error(response)
    text = f"{where}: Airtable answered {status} {error_type}: {message}".rstrip(": ")
    if status in RETRY_STATUSES:
        return CrmUnavailable(text, status=status)
    if status in (401, 403):
        return CrmUnauthorized(text, status=status, error_type=error_type)
    return CrmRejected(text, status=status, error_type=error_type)


def _airtable_error(response: requests.Response) -> tuple[str, str]:
    """(type, message) from Airtable's error bodies: {"error": {"type", "message"}},
    {"error": "NOT_FOUND"} or, for rate limits, {"errors": [{"error", "message"}]}."""
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:200]
    if not isinstance(body, Mapping):
        return "", ""
    return _error_fields(body)


def _error_fields(body: Mapping[str, Any]) -> tuple[str, str]:
    error = body.get("error")
    if isinstance(error, Mapping):
        return str(error.get("type", "")), str(error.get("message", ""))
    if isinstance(error, str):
        return error, str(body.get("message", ""))
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
        return str(errors[0].get("error", "")), str(errors[0].get("message", ""))
    return "", ""
