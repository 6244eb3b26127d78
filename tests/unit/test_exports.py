"""Export files: CSV quoting, BOM and formula cells; sizes against Lambda's limit; lazy openpyxl."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from decimal import Decimal

from leadbot.services.exports import (
    HEADERS,
    ExportFormat,
    neutralised,
    response_size,
    to_csv,
    to_xlsx,
)
from tests.support import REPO


def test_formula_cells_get_an_apostrophe_and_nothing_else_does() -> None:
    for cell in ("=1+1", "+971", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert neutralised(cell) == "'" + cell
    for cell in ("Hana", "سارا", "a=b", 5, Decimal("2.5"), None):
        assert neutralised(cell) == cell


def test_csv_is_utf8_with_a_bom_and_quotes_what_needs_it() -> None:
    body = to_csv([["Ali, Jr.", 'say "hi"', "two\nlines", "Мария", 7, None]])
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert rows == [list(HEADERS), ["Ali, Jr.", 'say "hi"', "two\nlines", "Мария", "7", ""]]
    assert b'"Ali, Jr."' in body and b'"say ""hi"""' in body


def test_response_size_counts_base64_and_escaped_text() -> None:
    assert response_size(b"x" * 300, ExportFormat.XLSX) == 400
    assert response_size("س".encode(), ExportFormat.CSV) == len('"\\u0633"')


def test_xlsx_keeps_control_characters_out() -> None:
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(to_xlsx([["bad\x01name"]]))).active
    assert sheet is not None and sheet.cell(2, 1).value == "badname"


def test_the_api_does_not_import_openpyxl_until_an_export_is_built() -> None:
    code = "import sys; from leadbot.api import app; app(); print('openpyxl' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
