"""The CRM interface LeadBot codes against (tables of records); `airtable` implements it.

Nothing here imports an SDK: services may import this module on any path for free.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

# A record as the CRM takes it: field name → JSON value (str, int, float, bool or None; None
# clears the cell on an update).
Fields = dict[str, Any]


class CrmError(Exception):
    """The CRM did not take a write; callers match on the subclass, never on the text."""


class CrmUnavailable(CrmError):
    """Retryable: rate limited beyond the retries, the CRM's outage (5xx), a network failure or
    timeout. The same write may succeed later, so stream consumers retry it or park it."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class CrmRejected(CrmError):
    """Not retryable as it is: the CRM refused the request (an unknown field or table, a value
    its column cannot take, too many records). `error_type` is the CRM's own code
    (Airtable's `UNKNOWN_FIELD_NAME`, `INVALID_VALUE_FOR_COLUMN`, ...)."""

    def __init__(self, message: str, *, status: int | None = None, error_type: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type


class CrmUnauthorized(CrmRejected):
    """The token was refused (401) or may not touch this base (403): an operator must fix it."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One column: its name, the CRM's type name and that type's options."""

    name: str
    type: str
    options: Mapping[str, Any] | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A table and its columns; the first column is the table's primary field. `merge_key`
    names the column upserts match records on."""

    name: str
    fields: tuple[FieldSpec, ...]
    merge_key: str
    description: str = ""

    def field(self, name: str) -> FieldSpec:
        return next(f for f in self.fields if f.name == name)


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """The CRM's ids of the records an upsert created and of those it updated."""

    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SchemaChanges:
    """What ensure_schema did: tables created, (table, field) columns added to existing tables,
    and (table, field, their type, our type) columns left alone though their type differs."""

    tables_created: tuple[str, ...] = ()
    fields_created: tuple[tuple[str, str], ...] = ()
    type_mismatches: tuple[tuple[str, str, str, str], ...] = field(default=())

    @property
    def nothing_created(self) -> bool:
        return not self.tables_created and not self.fields_created


class Crm(Protocol):
    """A tenant's CRM base. Every method raises CrmUnavailable (retry later) or CrmRejected."""

    def upsert(
        self, table: str, records: Sequence[Fields], merge_on: Sequence[str]
    ) -> UpsertResult:
        """Create or update each record, matched on the `merge_on` fields (every record must
        carry them): writing the same records twice leaves the table as after once."""
        ...

    def create(self, table: str, records: Sequence[Fields]) -> tuple[str, ...]:
        """Append the records; their new ids, in order. Not idempotent: a replay appends again
        (upsert on a key field where replays happen)."""
        ...

    def ensure_schema(self, schema: Sequence[TableSpec]) -> SchemaChanges:
        """Create the tables and columns of `schema` the base lacks; never deletes, renames or
        retypes anything. A second run creates nothing."""
        ...

    def records_where(self, table: str, field: str, value: str) -> tuple[str, ...]:
        """The ids of the records whose `field` is exactly `value` (a lead's rows by Lead ID)."""
        ...

    def delete(self, table: str, record_ids: Sequence[str]) -> int:
        """Delete these records (a forgotten lead's rows); how many were deleted. Records
        already gone count as deleted: forgetting twice is not an error."""
        ...
