"""Lead exports for agents: the filtered board as CSV or XLSX, inline or through a link."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum

from leadbot.services.errors import PayloadTooLarge
from leadbot.services.leads import LeadFilter, every_lead
from leadbot.services.runtime import Repositories
from leadbot.store import ScoredLead
from leadbot.store.exports import ExportStore

Cell = str | int | Decimal | None


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES[self]


_CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class ExportTooLarge(PayloadTooLarge):
    """Too big to answer inline and nowhere configured to store it (413)."""


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z") if at else None


def _last_interaction(s: ScoredLead) -> datetime | None:
    seen = [at for at in (s.lead.last_inbound_at, s.lead.last_catalog_view_at) if at]
    return max(seen, default=None)


# Headers are for agents reading the file, not for leads: plain English, one place.
COLUMNS: tuple[tuple[str, Callable[[ScoredLead], Cell]], ...] = (
    ("Lead ID", lambda s: s.lead.lead_id),
    ("Name", lambda s: s.lead.name),
    ("Username", lambda s: s.lead.username),
    ("Phone", lambda s: s.lead.phone),
    ("Email", lambda s: s.lead.email),
    ("LinkedIn", lambda s: s.lead.linkedin_url),
    ("Channel", lambda s: s.lead.channel.value),
    ("Language", lambda s: s.lead.language.value if s.lead.language else None),
    ("Source", lambda s: s.lead.source),
    ("Status", lambda s: s.lead.status.value),
    ("Broker ID", lambda s: s.lead.broker_id),
    ("Score", lambda s: s.state.value),
    ("Temperature", lambda s: s.state.temperature.value if s.state.temperature else None),
    ("Grade", lambda s: s.state.temperature.grade.value if s.state.temperature else None),
    ("Goal", lambda s: s.lead.goal.value if s.lead.goal else None),
    ("Budget amount", lambda s: s.lead.budget.amount if s.lead.budget else None),
    ("Budget currency", lambda s: s.lead.budget.currency if s.lead.budget else None),
    ("Property type", lambda s: s.lead.property_type.value if s.lead.property_type else None),
    ("Location", lambda s: s.lead.location),
    ("Timeline", lambda s: s.lead.timeline.value if s.lead.timeline else None),
    ("Bedrooms", lambda s: s.lead.bedrooms.value if s.lead.bedrooms else None),
    ("Payment method", lambda s: s.lead.payment_method.value if s.lead.payment_method else None),
    ("QR scans", lambda s: s.lead.qr_scans),
    ("Catalog views", lambda s: s.lead.catalog_views),
    ("Messages", lambda s: s.lead.messages_count),
    ("Voice", lambda s: s.lead.voice_count),
    ("Created at (UTC)", lambda s: _iso(s.lead.created_at)),
    ("Last interaction (UTC)", lambda s: _iso(_last_interaction(s))),
)
HEADERS = tuple(name for name, _ in COLUMNS)


def row(scored: ScoredLead) -> list[Cell]:
    return [value(scored) for _, value in COLUMNS]


# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection");
# names, usernames and locations come from leads, so none may.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralised(cell: Cell) -> Cell:
    if isinstance(cell, str) and cell.startswith(_FORMULA_START):
        return "'" + cell
    return cell


def to_csv(rows: Iterable[Sequence[Cell]]) -> bytes:
    """UTF-8 with a BOM (Excel then reads Persian, Arabic and Russian right), RFC 4180 quoting."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for values in rows:
        writer.writerow(["" if v is None else neutralised(v) for v in values])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(rows: Iterable[Sequence[Cell]]) -> bytes:
    """One sheet; every text cell is stored as text, so nothing a lead typed becomes a formula."""
    from openpyxl import Workbook  # only exports pay for importing openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Leads")
    sheet.append(list(HEADERS))
    for values in rows:
        cells = []
        for value in values:
            if isinstance(value, str):
                cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
                cell.data_type = "s"  # openpyxl would otherwise take "=…" for a formula
                cells.append(cell)
            else:
                # openpyxl writes a Decimal as a number (exactly); its stubs only say float.
                cells.append(WriteOnlyCell(sheet, value=value))  # type: ignore[arg-type]
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def response_size(body: bytes, fmt: ExportFormat) -> int:
    """Bytes the body takes in the Lambda response (JSON, 6 MB at most): binary (XLSX) travels
    base64, a third bigger; text as a JSON string, where the runtime may escape every
    non-ASCII letter (a Persian name) as \\uXXXX, three times its UTF-8 size."""
    if fmt is ExportFormat.XLSX:
        return 4 * math.ceil(len(body) / 3)
    return len(json.dumps(body.decode("utf-8")))


def filename(tenant_id: str, fmt: ExportFormat, today: date) -> str:
    return f"leads-{tenant_id}-{today.isoformat()}.{fmt.value}"


@dataclass(frozen=True)
class InlineExport:
    filename: str
    content_type: str
    body: bytes


@dataclass(frozen=True)
class LinkedExport:
    filename: str
    url: str
    expires_in: int
    size: int
    rows: int


def export_leads(
    repos: Repositories,
    tenant_id: str,
    filters: LeadFilter,
    fmt: ExportFormat,
    *,
    store: ExportStore | None,
    inline_max_bytes: int,
    now: datetime,
) -> InlineExport | LinkedExport:
    """Every lead matching `filters`, hottest first, as a file.

    Built in memory (a Lambda response cannot stream), then answered inline when its response
    body stays under `inline_max_bytes`, else stored and linked; ExportTooLarge when there is
    nowhere to store it. Reads the tenant's whole by_score index (every_lead).
    """
    rows = [row(scored) for scored in every_lead(repos, tenant_id, filters)]
    body = to_csv(rows) if fmt is ExportFormat.CSV else to_xlsx(rows)
    name = filename(tenant_id, fmt, now.astimezone(UTC).date())
    if response_size(body, fmt) <= inline_max_bytes:
        return InlineExport(filename=name, content_type=fmt.content_type, body=body)
    if store is None:
        raise ExportTooLarge("this export is too large to download directly; narrow the filters")
    stored = store.put(tenant_id, name, body, fmt.content_type)
    return LinkedExport(
        filename=name, url=stored.url, expires_in=stored.expires_in, size=len(body), rows=len(rows)
    )
