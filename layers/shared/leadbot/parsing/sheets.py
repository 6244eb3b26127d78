"""Sign-up sheets and contact exports (CSV) → rows of named fields, whatever their headers.

Expo sheets name their columns every way ("Full name", "Mobile", "E-mail"), Excel in much
of the world separates them with ";", and LinkedIn's Connections.csv starts with a few lines
of notes before its header. This module finds the header, maps the columns it knows and
says which it ignored; it does not judge the values (services.intake does).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Any

HEADER_SEARCH = 10  # records to look through for the header (LinkedIn puts notes first)

_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "full name", "fullname", "contact name", "lead name", "client name"),
    "first_name": ("first name", "firstname", "given name"),
    "last_name": ("last name", "lastname", "surname", "family name"),
    "phone": (
        "phone",
        "phone number",
        "mobile",
        "mobile number",
        "mobile phone",
        "cell",
        "tel",
        "telephone",
        "contact number",
    ),
    "email": ("email", "email address", "e mail", "e mail address", "mail"),
    "linkedin_url": ("linkedin", "linkedin url", "linkedin profile", "profile url", "url"),
    "telegram_id": ("telegram", "telegram id", "telegram chat id"),
    "whatsapp": ("whatsapp", "whatsapp number"),
    "language": ("language", "lang"),
    "source": ("source", "event", "campaign"),
    "note": ("note", "notes", "comment", "comments", "remarks"),
}
_FIELD_OF = {alias: field for field, aliases in _ALIASES.items() for alias in aliases}
_SEPARATORS = re.compile(r"[\s_\-./]+")


class SheetError(ValueError):
    """The file cannot be read as a sheet of people; the message says what to fix."""


@dataclass(frozen=True)
class SheetRow:
    line: int  # where the record ends in the file, as a spreadsheet numbers it (header = 1…)
    values: dict[str, str]  # field → the cell's text, stripped; blank cells left out


@dataclass(frozen=True)
class Sheet:
    rows: list[SheetRow]
    ignored_columns: list[str]


def field_of(header: str) -> str | None:
    """The field a column header names, or None if it names none we know."""
    return _FIELD_OF.get(_SEPARATORS.sub(" ", header.strip().lstrip("\ufeff").casefold()).strip())


def read_sheet(text: str, max_rows: int) -> Sheet:
    """The rows of a CSV text; SheetError without a name column or with more than `max_rows`."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise SheetError("the file is empty")
    found = _header(text)
    if found is None:
        raise SheetError(
            "no header with a name column: name the column 'Name' or 'Full name', "
            "or 'First name' and 'Last name'"
        )
    reader, header = found
    columns = _columns(header)
    ignored = [cell.strip() for i, cell in enumerate(header) if i not in columns and cell.strip()]
    try:
        return Sheet(rows=_rows(reader, columns, max_rows), ignored_columns=ignored)
    except csv.Error as exc:  # a cell past csv's field limit, a stray quote in strict mode…
        raise SheetError(f"line {reader.line_num} cannot be read: {exc}") from None


def _rows(reader: Any, columns: dict[int, str], max_rows: int) -> list[SheetRow]:
    rows: list[SheetRow] = []
    for record in reader:
        if not any(cell.strip() for cell in record):
            continue  # a blank line between blocks of sign-ups
        if len(rows) == max_rows:
            raise SheetError(f"more than {max_rows} rows: split the file and import each part")
        values = {
            field: cell.strip()
            for i, field in columns.items()
            if i < len(record) and (cell := record[i]).strip()
        }
        rows.append(SheetRow(line=reader.line_num, values=values))
    return rows


def _header(text: str) -> tuple[Any, list[str]] | None:
    """A reader positioned after the header, and the header: with whichever of comma,
    semicolon or tab makes a header that names the most known columns, a name among them."""
    best: tuple[int, Any, list[str]] | None = None
    for delimiter in ",;\t":
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        for _ in range(HEADER_SEARCH):
            try:
                record = next(reader, None)
            except csv.Error:
                break
            if record is None:
                break
            named = set(_columns(record).values())
            if named & {"name", "first_name"}:
                if best is None or len(named) > best[0]:
                    best = (len(named), reader, record)
                break
    return None if best is None else (best[1], best[2])


def _columns(header: list[str]) -> dict[int, str]:
    """Column index → field, for the first column of each field a header names."""
    seen: dict[str, int] = {}
    for index, cell in enumerate(header):
        field = field_of(cell)
        if field is not None:
            seen.setdefault(field, index)
    return {index: field for field, index in seen.items()}
