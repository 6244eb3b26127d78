"""An in-memory fake of Airtable's Web API (records and the meta API), in its wire format.

The local stack mounts it at `/_local/airtable`; pyairtable pointed at that address
(`Api(token, endpoint_url="<gateway>/_local/airtable")`) talks to it as to
`https://api.airtable.com`. What it does as Airtable does:

- Bearer tokens per base: none or an unknown one is 401 `AUTHENTICATION_REQUIRED`; a token of
  another base, an unknown base or an unknown table is 403
  `INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND` (Airtable does not tell the two apart).
- Records: list (`pageSize` ≤ 100, `offset`, `maxRecords`, `fields[]`, and `filterByFormula`
  as far as `{Field}='value'`, numbers, `TRUE()`/`FALSE()` and `AND(…)` of those go), get one,
  create (≤ 10, or one `{"fields"}`), update (PATCH merges, PUT replaces; ≤ 10), upsert with
  `performUpsert.fieldsToMergeOn` answering `records`, `createdRecords` and `updatedRecords`,
  delete. Values are checked against the column's type (`INVALID_VALUE_FOR_COLUMN`; a select
  option the field lacks is `INVALID_MULTIPLE_CHOICE_OPTIONS` unless `typecast`, which adds
  it); a field the table lacks is `UNKNOWN_FIELD_NAME`; more than 10 records, or a request of
  the wrong shape, is 422. A request is checked whole before anything is written.
- Meta: list tables, create a table with its fields, create a field; the types LeadBot uses
  (text, long text, email, URL, phone, number, currency, percent, single select, date,
  date-time, checkbox) with their options checked and answered as Airtable reads them back.
- More than 5 requests in a second to one base: 429 with Airtable's body
  `{"errors": [{"error": "RATE_LIMIT_REACHED", "message": …}]}` (the 30-second penalty
  Airtable adds for clients that keep going is not modelled).

Tests steer it with `fail_next` (the next N requests 429, 503, …: an outage) and read every
request it got with `requests()`. Thread-safe.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from local.gateway import LocalEndpoint, LocalRequest, LocalResponse

MAX_RECORDS_PER_REQUEST = 10
MAX_PAGE_SIZE = 100
RATE_LIMIT_PER_SECOND = 5
RATE_LIMIT_BODY = {
    "errors": [
        {"error": "RATE_LIMIT_REACHED", "message": "Rate limit exceeded. Please try again later"}
    ]
}
_NOT_FOUND_MESSAGE = (
    "Invalid permissions, or the requested model was not found. Check that both your user and "
    "your token have the required permissions, and that the model names and/or ids are correct."
)
_INVALID_REQUEST = "Invalid request: parameter validation failed. Check your request data."
_FAULT_BODIES: dict[int, tuple[str, str]] = {
    500: ("SERVER_ERROR", "Server error"),
    502: ("BAD_GATEWAY", "Bad gateway"),
    503: ("SERVICE_UNAVAILABLE", "Service unavailable. Please try again later"),
    504: ("GATEWAY_TIMEOUT", "Gateway timeout"),
}
TEXT_TYPES = frozenset({"singleLineText", "multilineText", "email", "url", "phoneNumber"})
NUMBER_TYPES = frozenset({"number", "currency", "percent"})
FIELD_TYPES = TEXT_TYPES | NUMBER_TYPES | {"singleSelect", "checkbox", "date", "dateTime"}
PRIMARY_TYPES = TEXT_TYPES | NUMBER_TYPES | {"date", "dateTime"}
# Computed types Airtable will not create through the API.
NOT_CREATABLE = frozenset(
    {
        "autoNumber",
        "button",
        "count",
        "createdBy",
        "createdTime",
        "formula",
        "lastModifiedBy",
        "lastModifiedTime",
        "lookup",
        "multipleLookupValues",
        "rollup",
    }
)
DATE_FORMATS = {
    "local": "l",
    "friendly": "LL",
    "us": "M/D/YYYY",
    "european": "D/M/YYYY",
    "iso": "YYYY-MM-DD",
}
TIME_FORMATS = {"12hour": "h:mma", "24hour": "HH:mm"}
CHECKBOX_ICONS = frozenset({"check", "xCheckbox", "star", "heart", "thumbsUp", "flag", "dot"})
CHECKBOX_COLORS = frozenset(
    f"{c}Bright"
    for c in ("green", "teal", "cyan", "blue", "purple", "pink", "red", "orange", "yellow", "gray")
)
_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

Response = tuple[int, dict[str, Any]]


class AirtableError(Exception):
    """Answer `status` with Airtable's error body."""

    def __init__(self, status: int, kind: str, message: str = "") -> None:
        super().__init__(message or kind)
        self.status = status
        self.kind = kind
        self.message = message

    def body(self) -> dict[str, Any]:
        if not self.message:
            return {"error": self.kind}  # as Airtable answers a plain 404
        return {"error": {"type": self.kind, "message": self.message}}


def _invalid(
    kind: str = "INVALID_REQUEST_UNKNOWN", message: str = _INVALID_REQUEST
) -> AirtableError:
    return AirtableError(422, kind, message)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def mask_token(token: str) -> str:
    return token[:6] + "…" if len(token) > 8 else "…"


@dataclass
class _Field:
    id: str
    name: str
    type: str
    options: dict[str, Any] | None = None
    description: str | None = None

    def model(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "name": self.name, "type": self.type}
        if self.description:
            data["description"] = self.description
        if self.options is not None:
            data["options"] = copy.deepcopy(self.options)
        return data


@dataclass
class _Record:
    id: str
    created_time: str
    fields: dict[str, Any]  # by field id; only cells with a value

    def model(self, table: _Table, only: Iterable[str] | None = None) -> dict[str, Any]:
        wanted = None if only is None else set(only)
        cells = {}
        for f in table.fields:
            if f.id in self.fields and (wanted is None or f.name in wanted or f.id in wanted):
                cells[f.name] = copy.deepcopy(self.fields[f.id])
        return {"id": self.id, "createdTime": self.created_time, "fields": cells}


@dataclass
class _Table:
    id: str
    name: str
    fields: list[_Field]
    view_id: str
    description: str | None = None
    records: dict[str, _Record] = field(default_factory=dict)

    def field(self, name_or_id: str) -> _Field | None:
        return next((f for f in self.fields if name_or_id in (f.name, f.id)), None)

    def model(self, visible_field_ids: bool = False) -> dict[str, Any]:
        view: dict[str, Any] = {"id": self.view_id, "name": "Grid view", "type": "grid"}
        if visible_field_ids:
            view["visibleFieldIds"] = [f.id for f in self.fields]
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "primaryFieldId": self.fields[0].id,
            "fields": [f.model() for f in self.fields],
            "views": [view],
        }
        if self.description:
            data["description"] = self.description
        return data


@dataclass
class _Base:
    id: str
    name: str
    tokens: set[str]
    tables: list[_Table] = field(default_factory=list)
    sent: deque[float] = field(default_factory=deque)

    def table(self, name_or_id: str) -> _Table | None:
        return next((t for t in self.tables if name_or_id in (t.name, t.id)), None)


@dataclass
class _Fault:
    base_id: str | None
    status: int
    remaining: int


class FakeAirtable:
    """Thread-safe, in-memory Airtable: bases with their tokens, tables and records; records
    every request it gets, oldest first."""

    def __init__(
        self,
        *,
        rate_limit: int = RATE_LIMIT_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._bases: dict[str, _Base] = {}
        self._faults: list[_Fault] = []
        self._requests: list[dict[str, Any]] = []
        self._rate_limit = rate_limit
        self._clock = clock
        self._ids = itertools.count(1)

    # -- test and local-stack controls ----------------------------------------------------

    def add_base(self, base_id: str, token: str, name: str = "LeadBot") -> None:
        """A base the `token` may use (adding it again adds another token)."""
        if not re.fullmatch(r"app[A-Za-z0-9]{14}", base_id):
            raise ValueError(f"not an Airtable base id: {base_id!r}")
        with self._lock:
            base = self._bases.setdefault(base_id, _Base(base_id, name, set()))
            base.tokens.add(token)

    def fail_next(self, status: int, *, times: int = 1, base_id: str | None = None) -> None:
        """Answer the next `times` authenticated requests (to `base_id`, or any) with `status`:
        429 as Airtable's rate limit, 5xx as its outage, 4xx with a generic error body."""
        if times < 1:
            raise ValueError("times must be at least 1")
        if not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        with self._lock:
            self._faults.append(_Fault(base_id, status, times))

    def requests(self, base_id: str | None = None) -> list[dict[str, Any]]:
        """Every request, oldest first: method, path (decoded, from /v0), base_id, table, query
        (name → list of values), body (parsed JSON), token (masked), status, at."""
        with self._lock:
            found = [r for r in self._requests if base_id in (None, r["base_id"])]
            return copy.deepcopy(found)

    def clear(self) -> None:
        """Forget the requests and pending faults; bases, tables and records stay."""
        with self._lock:
            self._requests.clear()
            self._faults.clear()
            for base in self._bases.values():
                base.sent.clear()

    def records(self, base_id: str, table: str) -> list[dict[str, Any]]:
        """A table's records as the API lists them, oldest first (for tests to read)."""
        with self._lock:
            found = self._bases[base_id].table(table)
            if found is None:
                raise KeyError(table)
            return [r.model(found) for r in found.records.values()]

    def tables(self, base_id: str) -> dict[str, list[str]]:
        """Table name → its field names, in order."""
        with self._lock:
            return {t.name: [f.name for f in t.fields] for t in self._bases[base_id].tables}

    # -- the API ----------------------------------------------------------------------------

    def handle(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        authorization: str | None,
        body: bytes,
    ) -> Response:
        """Answer one request to `path` (from `/v0`, still percent-encoded)."""
        segments = [unquote(s) for s in path.strip("/").split("/")]
        record: dict[str, Any] = {
            "method": method,
            "path": "/" + "/".join(segments),
            "base_id": _base_of(segments),
            "table": _table_of(segments),
            "query": _multi(query),
            "body": _parsed(body),
            "token": mask_token(_bearer(authorization)),
            "at": _now_iso(),
        }
        with self._lock:
            self._requests.append(record)
            try:
                status, answer = self._answer(method, segments, query, authorization, body)
            except AirtableError as exc:
                status, answer = exc.status, exc.body()
            record["status"] = status
            return status, copy.deepcopy(answer)

    def _answer(
        self,
        method: str,
        segments: list[str],
        query: list[tuple[str, str]],
        authorization: str | None,
        raw: bytes,
    ) -> Response:
        token = _bearer(authorization)
        if not token or not any(token in b.tokens for b in self._bases.values()):
            raise AirtableError(401, "AUTHENTICATION_REQUIRED", "Authentication required")
        if not segments or segments[0] != "v0" or len(segments) < 3:
            raise AirtableError(404, "NOT_FOUND")
        base_id = _base_of(segments)
        base = self._bases.get(base_id or "")
        if base is None or token not in base.tokens:
            raise AirtableError(403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", _NOT_FOUND_MESSAGE)
        fault = self._take_fault(base.id)
        if fault is not None:
            return _fault_answer(fault)
        now = self._clock()
        while base.sent and now - base.sent[0] >= 1.0:
            base.sent.popleft()
        if len(base.sent) >= self._rate_limit:
            return 429, copy.deepcopy(RATE_LIMIT_BODY)
        base.sent.append(now)
        body = _json_body(raw) if method in ("POST", "PATCH", "PUT") else {}
        if segments[1] == "meta":
            return self._meta(method, base, segments[4:], query, body)
        table = base.table(segments[2])
        if table is None:
            raise AirtableError(403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", _NOT_FOUND_MESSAGE)
        rest = segments[3:]
        if not rest:
            if method == "GET":
                return 200, self._list(table, _multi(query))
            if method == "POST":
                return 200, self._create(table, body)
            if method in ("PATCH", "PUT"):
                return 200, self._update_many(table, body, replace=method == "PUT")
            if method == "DELETE":
                return 200, self._delete_many(table, _multi(query).get("records[]", []))
        elif rest == ["listRecords"] and method == "POST":
            return 200, self._list(table, {k: _listed(v) for k, v in body.items()})
        elif len(rest) == 1:
            return 200, self._one(method, table, rest[0], body)
        raise AirtableError(404, "NOT_FOUND")

    def _take_fault(self, base_id: str) -> _Fault | None:
        for fault in self._faults:
            if fault.base_id in (None, base_id):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _id(self, prefix: str) -> str:
        digest = hashlib.sha256(f"{prefix}{next(self._ids)}".encode()).digest()
        return prefix + "".join(_ID_ALPHABET[b % 62] for b in digest[:14])

    # -- records ----------------------------------------------------------------------------

    def _list(self, table: _Table, params: Mapping[str, list[str]]) -> dict[str, Any]:
        page_size = _int_param(params, "pageSize", MAX_PAGE_SIZE)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise _invalid("INVALID_PAGE_SIZE", f"pageSize must be 1 to {MAX_PAGE_SIZE}")
        max_records = _int_param(params, "maxRecords", 0)
        formula = (params.get("filterByFormula") or [""])[-1]
        test = _formula(formula, table) if formula else None
        found = [r for r in table.records.values() if test is None or test(r)]
        if max_records > 0:
            found = found[:max_records]
        start = 0
        offset = (params.get("offset") or [""])[-1]
        if offset:
            match = re.fullmatch(rf"itr{table.id}/(\d+)", offset)
            if match is None or int(match[1]) > len(found):
                raise AirtableError(
                    422, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE", "Iterator is not available"
                )
            start = int(match[1])
        page = found[start : start + page_size]
        only = params.get("fields[]") or params.get("fields")
        answer: dict[str, Any] = {"records": [r.model(table, only) for r in page]}
        if start + page_size < len(found):
            answer["offset"] = f"itr{table.id}/{start + page_size}"
        return answer

    def _create(self, table: _Table, body: dict[str, Any]) -> dict[str, Any]:
        typecast = bool(body.get("typecast"))
        if "records" not in body and isinstance(body.get("fields"), dict):
            (one,) = self._write_new(table, [body["fields"]], typecast)
            return one.model(table)
        records = _records(body)
        for item in records:
            if set(item) - {"fields"} or not isinstance(item.get("fields"), dict):
                raise _invalid()
        made = self._write_new(table, [item["fields"] for item in records], typecast)
        return {"records": [r.model(table) for r in made]}

    def _write_new(
        self, table: _Table, writes: list[dict[str, Any]], typecast: bool
    ) -> list[_Record]:
        cells, choices = _checked(table, writes, typecast)
        _add_choices(choices)
        made = []
        for values in cells:
            created = _now_iso()
            record = _Record(self._id("rec"), created, _present(values))
            table.records[record.id] = record
            made.append(record)
        return made

    def _update_many(self, table: _Table, body: dict[str, Any], *, replace: bool) -> dict[str, Any]:
        typecast = bool(body.get("typecast"))
        records = _records(body)
        upsert = body.get("performUpsert")
        merge_on: list[_Field] = []
        if upsert is not None:
            names = upsert.get("fieldsToMergeOn") if isinstance(upsert, dict) else None
            if not isinstance(names, list) or not 1 <= len(names) <= 3:
                raise _invalid(
                    "INVALID_REQUEST_UNKNOWN",
                    "performUpsert.fieldsToMergeOn must list 1 to 3 field names or ids",
                )
            for name in names:
                merge_field = table.field(str(name))
                if merge_field is None:
                    raise _unknown_field(str(name))
                merge_on.append(merge_field)
        for item in records:
            allowed = {"id", "fields"}
            if set(item) - allowed or not isinstance(item.get("fields"), dict):
                raise _invalid()
            if "id" not in item and upsert is None:
                raise _invalid()
        cells, choices = _checked(table, [item["fields"] for item in records], typecast)
        # Which record each write goes to: an id, a match on the merge fields, or a new one.
        targets: list[_Record | None] = []
        keys_seen: set[tuple[Any, ...]] = set()
        for item, values in zip(records, cells, strict=True):
            if "id" in item:
                target = table.records.get(str(item["id"]))
                if target is None:
                    raise _invalid(
                        "ROW_DOES_NOT_EXIST", f"Record ID {item['id']} does not exist in this table"
                    )
                targets.append(target)
                continue
            key = tuple(values.get(f.id) for f in merge_on)
            if any(v is None for v in key):
                missing = [f.name for f, v in zip(merge_on, key, strict=True) if v is None]
                raise _invalid(
                    "INVALID_RECORDS",
                    f"Records must include a value for every field in fieldsToMergeOn: "
                    f"{', '.join(missing)}",
                )
            if key in keys_seen:
                raise _invalid(
                    "INVALID_RECORDS",
                    "Two records of the request have the same values for fieldsToMergeOn",
                )
            keys_seen.add(key)
            matches = [
                r
                for r in table.records.values()
                if all(r.fields.get(f.id) == v for f, v in zip(merge_on, key, strict=True))
            ]
            if len(matches) > 1:
                raise _invalid(
                    "INVALID_RECORDS",
                    "More than one record matches the fieldsToMergeOn values of a record",
                )
            targets.append(matches[0] if matches else None)
        _add_choices(choices)
        answered: list[_Record] = []
        created: list[str] = []
        updated: list[str] = []
        for target, values in zip(targets, cells, strict=True):
            if target is None:
                target = _Record(self._id("rec"), _now_iso(), _present(values))
                table.records[target.id] = target
                created.append(target.id)
            else:
                merged = values if replace else {**target.fields, **values}
                target.fields = _present(merged)
                updated.append(target.id)
            answered.append(target)
        answer: dict[str, Any] = {"records": [r.model(table) for r in answered]}
        if upsert is not None:
            answer["createdRecords"] = created
            answer["updatedRecords"] = updated
        return answer

    def _one(self, method: str, table: _Table, record_id: str, body: dict[str, Any]) -> Any:
        target = table.records.get(record_id)
        if target is None:
            raise AirtableError(404, "NOT_FOUND")
        if method == "GET":
            return target.model(table)
        if method == "DELETE":
            del table.records[record_id]
            return {"id": record_id, "deleted": True}
        if method in ("PATCH", "PUT"):
            if not isinstance(body.get("fields"), dict):
                raise _invalid()
            cells, choices = _checked(table, [body["fields"]], bool(body.get("typecast")))
            _add_choices(choices)
            merged = cells[0] if method == "PUT" else {**target.fields, **cells[0]}
            target.fields = _present(merged)
            return target.model(table)
        raise AirtableError(404, "NOT_FOUND")

    def _delete_many(self, table: _Table, ids: list[str]) -> dict[str, Any]:
        if not 1 <= len(ids) <= MAX_RECORDS_PER_REQUEST:
            raise _invalid()
        missing = [i for i in ids if i not in table.records]
        if missing:
            raise AirtableError(404, "NOT_FOUND")
        for record_id in ids:
            del table.records[record_id]
        return {"records": [{"id": i, "deleted": True} for i in ids]}

    # -- meta ------------------------------------------------------------------------------

    def _meta(
        self,
        method: str,
        base: _Base,
        rest: list[str],
        query: list[tuple[str, str]],
        body: dict[str, Any],
    ) -> Response:
        if rest == ["tables"] and method == "GET":
            visible = "visibleFieldIds" in [v for k, v in query if k in ("include", "include[]")]
            return 200, {"tables": [t.model(visible) for t in base.tables]}
        if rest == ["tables"] and method == "POST":
            return 200, self._create_table(base, body)
        if len(rest) == 3 and rest[0] == "tables" and rest[2] == "fields" and method == "POST":
            table = base.table(rest[1])
            if table is None:
                raise AirtableError(404, "NOT_FOUND")
            made = self._new_field(body, [f.name for f in table.fields])
            table.fields.append(made)
            return 200, made.model()
        raise AirtableError(404, "NOT_FOUND")

    def _create_table(self, base: _Base, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _invalid("INVALID_TABLE_NAME", "Table name must be a non-empty string")
        if any(t.name.casefold() == name.strip().casefold() for t in base.tables):
            raise _invalid("DUPLICATE_TABLE_NAME", f'Table name "{name}" is already in use')
        specs = body.get("fields")
        if not isinstance(specs, list) or not specs:
            raise _invalid("INVALID_REQUEST_UNKNOWN", "A table needs at least one field")
        fields: list[_Field] = []
        for spec in specs:
            fields.append(self._new_field(spec, [f.name for f in fields]))
        if fields[0].type not in PRIMARY_TYPES:
            raise _invalid(
                "INVALID_FIELD_TYPE_FOR_PRIMARY",
                f'Field type "{fields[0].type}" cannot be the primary field',
            )
        description = body.get("description")
        table = _Table(
            id=self._id("tbl"),
            name=name.strip(),
            fields=fields,
            view_id=self._id("viw"),
            description=description if isinstance(description, str) else None,
        )
        base.tables.append(table)
        return table.model()

    def _new_field(self, spec: object, taken: list[str]) -> _Field:
        if not isinstance(spec, dict):
            raise _invalid()
        name, kind = spec.get("name"), spec.get("type")
        if not isinstance(name, str) or not name.strip():
            raise _invalid("DUPLICATE_OR_EMPTY_FIELD_NAME", "Field name cannot be empty")
        if name.strip().casefold() in {t.casefold() for t in taken}:
            raise _invalid("DUPLICATE_OR_EMPTY_FIELD_NAME", f'Field name "{name}" already exists')
        if kind in NOT_CREATABLE:
            raise _invalid(
                "UNSUPPORTED_FIELD_TYPE_FOR_CREATE",
                f'Creating fields of type "{kind}" is not supported',
            )
        if kind not in FIELD_TYPES:
            raise _invalid(
                "UNSUPPORTED_FIELD_TYPE_FOR_CREATE",
                f'Field type "{kind}" is not one this fake models: '
                + ", ".join(sorted(FIELD_TYPES)),
            )
        description = spec.get("description")
        options = self._options(str(kind), spec.get("options"))
        return _Field(
            id=self._id("fld"),
            name=name.strip(),
            type=str(kind),
            options=options,
            description=description if isinstance(description, str) else None,
        )

    def _options(self, kind: str, given: object) -> dict[str, Any] | None:
        """The field's options as Airtable reads them back, or 422 as it refuses bad ones."""

        def bad(why: str) -> AirtableError:
            return _invalid(
                "INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE", f'Invalid options for "{kind}": {why}'
            )

        if kind in TEXT_TYPES:
            if given not in (None, {}):
                raise bad("this type takes no options")
            return None
        if not isinstance(given, dict):
            raise bad("options are required")
        options = dict(given)
        if kind in NUMBER_TYPES:
            allowed = {"precision", "symbol"} if kind == "currency" else {"precision"}
            precision = options.get("precision")
            top = 7 if kind == "currency" else 8
            if set(options) - allowed or not isinstance(precision, int):
                raise bad(f"expects {sorted(allowed)}")
            if not 0 <= precision <= top:
                raise bad(f"precision must be 0 to {top}")
            if kind == "currency" and not isinstance(options.get("symbol"), str):
                raise bad("symbol is required")
            return options
        if kind == "singleSelect":
            choices = options.get("choices")
            if set(options) != {"choices"} or not isinstance(choices, list):
                raise bad("expects choices")
            made: list[dict[str, Any]] = []
            for choice in choices:
                if not isinstance(choice, dict) or not isinstance(choice.get("name"), str):
                    raise bad("each choice needs a name")
                if set(choice) - {"name", "color"}:
                    raise bad("a choice has only a name and a color")
                if any(c["name"] == choice["name"] for c in made):
                    raise bad(f"choice {choice['name']!r} is given twice")
                made.append(
                    {
                        "id": self._id("sel"),
                        "name": choice["name"],
                        "color": choice.get("color") or "blueLight2",
                    }
                )
            return {"choices": made}
        if kind in ("date", "dateTime"):
            wanted = {"dateFormat"} | ({"timeFormat", "timeZone"} if kind == "dateTime" else set())
            if set(options) != wanted:
                raise bad(f"expects {sorted(wanted)}")
            read: dict[str, Any] = {"dateFormat": _format(options["dateFormat"], DATE_FORMATS)}
            if kind == "dateTime":
                read["timeFormat"] = _format(options["timeFormat"], TIME_FORMATS)
                if not isinstance(options["timeZone"], str) or not options["timeZone"]:
                    raise bad("timeZone is required")
                read["timeZone"] = options["timeZone"]
            return read
        # checkbox
        if set(options) != {"icon", "color"}:
            raise bad("expects icon and color")
        if options["icon"] not in CHECKBOX_ICONS or options["color"] not in CHECKBOX_COLORS:
            raise bad("unknown icon or color")
        return options


# -- cell values --------------------------------------------------------------------------------


def _unknown_field(name: str) -> AirtableError:
    return _invalid("UNKNOWN_FIELD_NAME", f'Unknown field name: "{name}"')


def _cannot_accept(field: _Field) -> AirtableError:
    return _invalid(
        "INVALID_VALUE_FOR_COLUMN", f'Field "{field.name}" cannot accept the provided value'
    )


def _checked(
    table: _Table, writes: list[dict[str, Any]], typecast: bool
) -> tuple[list[dict[str, Any]], list[tuple[_Field, str]]]:
    """Each write's cells by field id (None clears one), and the select options typecast adds;
    422 for the first value the table would refuse. Nothing is changed here."""
    if not writes:
        raise _invalid("INVALID_RECORDS", "You must provide at least one record")
    if len(writes) > MAX_RECORDS_PER_REQUEST:
        raise _invalid(
            "INVALID_RECORDS",
            f"You may only send {MAX_RECORDS_PER_REQUEST} records per request "
            f"(this request had {len(writes)})",
        )
    cells: list[dict[str, Any]] = []
    added: list[tuple[_Field, str]] = []
    for values in writes:
        row: dict[str, Any] = {}
        for name, value in values.items():
            target = table.field(name)
            if target is None:
                raise _unknown_field(name)
            row[target.id] = _cell(target, value, typecast, added)
        cells.append(row)
    return cells, added


def _cell(field: _Field, value: Any, typecast: bool, added: list[tuple[_Field, str]]) -> Any:
    if value is None:
        return None
    kind = field.type
    if kind in TEXT_TYPES:
        if isinstance(value, str):
            return value or None
        if typecast and isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise _cannot_accept(field)
    if kind in NUMBER_TYPES:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if typecast and isinstance(value, str):
            try:
                number = float(value.replace(",", ""))
            except ValueError:
                raise _cannot_accept(field) from None
            return int(number) if number.is_integer() else number
        raise _cannot_accept(field)
    if kind == "checkbox":
        if isinstance(value, bool):
            return value or None
        raise _cannot_accept(field)
    if kind == "singleSelect":
        if not isinstance(value, str):
            raise _cannot_accept(field)
        if not value:
            return None
        choices = (field.options or {}).get("choices", [])
        known = next((c["name"] for c in choices if value in (c["name"], c["id"])), None)
        if known is not None:
            return known
        if not typecast:
            raise _invalid(
                "INVALID_MULTIPLE_CHOICE_OPTIONS",
                f'Insufficient permissions to create new select option ""{value}""',
            )
        if (field, value) not in added:
            added.append((field, value))
        return value
    if kind == "date":
        if isinstance(value, str):
            try:
                return date.fromisoformat(value[:10]).isoformat()
            except ValueError:
                pass
        raise _cannot_accept(field)
    # dateTime: any ISO 8601 time, kept in UTC as Airtable answers it
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise _cannot_accept(field) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    raise _cannot_accept(field)


def _add_choices(added: list[tuple[_Field, str]]) -> None:
    for target, name in added:
        options = target.options if target.options is not None else {"choices": []}
        digest = hashlib.sha256(f"{target.id}{name}".encode()).digest()
        choice_id = "sel" + "".join(_ID_ALPHABET[b % 62] for b in digest[:14])
        options["choices"].append({"id": choice_id, "name": name, "color": "grayLight2"})
        target.options = options


def _present(cells: Mapping[str, Any]) -> dict[str, Any]:
    # Airtable keeps no empty cells: a cleared one is gone from the record's fields.
    return {k: v for k, v in cells.items() if v is not None}


# -- filterByFormula (the part of the language lookups use) ------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<field>\{[^}]*\})|(?P<string>'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\")"
    r"|(?P<number>-?\d+(?:\.\d+)?)|(?P<call>[A-Z_]+\()|(?P<punct>[=,)]))"
)

Test = Callable[[_Record], bool]
Tokens = list[tuple[str, str]]


def _formula(text: str, table: _Table) -> Test:
    tokens: Tokens = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.lastgroup is None:
            raise _bad_formula(text)
        tokens.append((match.lastgroup, match[match.lastgroup]))
        pos = match.end()
    test, rest = _expression(tokens, table, text)
    if rest:
        raise _bad_formula(text)
    return test


def _bad_formula(text: str) -> AirtableError:
    return _invalid(
        "INVALID_FILTER_BY_FORMULA", f"The formula for filtering records is invalid: {text}"
    )


def _expression(tokens: Tokens, table: _Table, text: str) -> tuple[Test, Tokens]:
    if not tokens:
        raise _bad_formula(text)
    kind, value = tokens[0]
    if kind == "call" and value == "AND(":
        parts: list[Test] = []
        rest = tokens[1:]
        while True:
            part, rest = _expression(rest, table, text)
            parts.append(part)
            if rest and rest[0] == ("punct", ","):
                rest = rest[1:]
                continue
            if rest and rest[0] == ("punct", ")"):
                return (lambda r: all(p(r) for p in parts)), rest[1:]
            raise _bad_formula(text)
    if kind != "field" or len(tokens) < 3 or tokens[1] != ("punct", "="):
        raise _bad_formula(text)
    name = value[1:-1]
    target = table.field(name)
    if target is None:
        raise _invalid("INVALID_FILTER_BY_FORMULA", f"Unknown field names: {name.lower()}")
    literal, rest = _literal(tokens[2:], text)

    def equal(record: _Record) -> bool:
        cell = record.fields.get(target.id)
        if isinstance(literal, bool):
            return bool(cell) == literal
        if isinstance(literal, float):
            return isinstance(cell, int | float) and float(cell) == literal
        return ("" if cell is None else str(cell)) == literal

    return equal, rest


def _literal(tokens: Tokens, text: str) -> tuple[str | float | bool, Tokens]:
    kind, value = tokens[0]
    if kind == "string":
        return re.sub(r"\\(.)", r"\1", value[1:-1]), tokens[1:]
    if kind == "number":
        return float(value), tokens[1:]
    if kind == "call" and value in ("TRUE(", "FALSE(") and tokens[1:2] == [("punct", ")")]:
        return value == "TRUE(", tokens[2:]
    raise _bad_formula(text)


# -- small helpers ------------------------------------------------------------------------------


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _base_of(segments: list[str]) -> str | None:
    if len(segments) >= 4 and segments[1:3] == ["meta", "bases"]:
        return segments[3]
    if len(segments) >= 2 and segments[1] != "meta":
        return segments[1]
    return None


def _table_of(segments: list[str]) -> str | None:
    if len(segments) >= 6 and segments[1] == "meta":
        return segments[5]
    if len(segments) >= 3 and segments[1] != "meta":
        return segments[2]
    return None


def _multi(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for key, value in pairs:
        found.setdefault(key, []).append(value)
    return found


def _listed(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _parsed(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", errors="replace")


def _json_body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise AirtableError(
            400, "INVALID_REQUEST_BODY", "The request body could not be parsed as JSON"
        ) from None
    if not isinstance(body, dict):
        raise _invalid()
    return body


def _records(body: dict[str, Any]) -> list[dict[str, Any]]:
    records = body.get("records")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise _invalid()
    if not records:
        raise _invalid("INVALID_RECORDS", "You must provide at least one record")
    if len(records) > MAX_RECORDS_PER_REQUEST:
        raise _invalid(
            "INVALID_RECORDS",
            f"You may only send {MAX_RECORDS_PER_REQUEST} records per request "
            f"(this request had {len(records)})",
        )
    return records


def _int_param(params: Mapping[str, list[str]], name: str, default: int) -> int:
    values = params.get(name)
    if not values:
        return default
    try:
        return int(values[-1])
    except ValueError:
        raise _invalid("INVALID_REQUEST_UNKNOWN", f"{name} must be a whole number") from None


def _format(given: object, known: Mapping[str, str]) -> dict[str, str]:
    name = given.get("name") if isinstance(given, dict) else None
    if name not in known:
        raise _invalid(
            "INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE", f"format name must be one of {sorted(known)}"
        )
    return {"name": str(name), "format": known[str(name)]}


def _fault_answer(fault: _Fault) -> Response:
    if fault.status == 429:
        return 429, copy.deepcopy(RATE_LIMIT_BODY)
    kind, message = _FAULT_BODIES.get(fault.status, (f"HTTP_{fault.status}", "Request failed"))
    return fault.status, {"error": {"type": kind, "message": message}}


# -- the gateway's /_local/airtable ----------------------------------------------------------


def airtable_endpoint(fake: FakeAirtable) -> LocalEndpoint:
    """`/_local/airtable`: the API under /v0 (pyairtable's endpoint_url is
    `<gateway>/_local/airtable`), `/faults` (POST) to make it fail, `/requests` (GET, DELETE)
    to read what it got."""

    def serve(request: LocalRequest) -> LocalResponse:
        path, method = request.path, request.method
        if path == "/v0" or path.startswith("/v0/"):
            pairs = parse_qsl(request.raw_query, keep_blank_values=True)
            authorization = request.headers.get("authorization")
            status, body = fake.handle(method, path, pairs, authorization, request.body)
            return LocalResponse(status, body)
        if path == "/faults":
            if method != "POST":
                return LocalResponse(405, allow="POST")
            return _add_fault(fake, request.body)
        if path == "/requests":
            if method == "GET":
                return LocalResponse(200, fake.requests(request.query.get("base_id")))
            if method == "DELETE":
                fake.clear()
                return LocalResponse(204)
            return LocalResponse(405, allow="GET, DELETE")
        return LocalResponse(404, {"message": f"no local endpoint /_local/airtable{path}"})

    return serve


def _add_fault(fake: FakeAirtable, body: bytes) -> LocalResponse:
    """{"status": 429 or 503 or …, "times": 1, "base_id": null}"""
    try:
        spec = json.loads(body or b"{}")
    except ValueError:
        return LocalResponse(400, {"message": "body is not JSON"})
    if not isinstance(spec, dict):
        return LocalResponse(400, {"message": "body must be a JSON object"})
    status, times, base_id = spec.get("status"), spec.get("times", 1), spec.get("base_id")
    if isinstance(status, bool) or not isinstance(status, int):
        return LocalResponse(400, {"message": "status must be an integer"})
    if isinstance(times, bool) or not isinstance(times, int):
        return LocalResponse(400, {"message": "times must be an integer"})
    if base_id is not None and not isinstance(base_id, str):
        return LocalResponse(400, {"message": "base_id must be a string or null"})
    try:
        fake.fail_next(status, times=times, base_id=base_id)
    except ValueError as exc:
        return LocalResponse(400, {"message": str(exc)})
    return LocalResponse(204)
