"""Reading a PDF into pages of positioned text lines and tables (pdfplumber, imported on use);
every way a PDF can fail to open becomes BrochureUnreadable."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from leadbot.domain.errors import BrochureUnreadable

if TYPE_CHECKING:
    from pdfplumber.page import Page

Progress = Callable[[int, int], None]

# Glyphs a font maps to no character come out as "(cid:127)" (bullets, dingbats).
_CID = re.compile(r"\(cid:\d+\)")


@dataclass(frozen=True, slots=True)
class Line:
    """One line of running text and where it sits on the page (points, from the top left)."""

    text: str
    top: float
    bottom: float
    x0: float
    x1: float
    bullet: bool = False  # it began with a bullet glyph (removed from `text`)


Row = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PageContent:
    number: int  # 1-based
    width: float
    lines: tuple[Line, ...]  # the text outside tables, top to bottom
    tables: tuple[tuple[Row, ...], ...]  # each table's rows, the first one its header


def read_pages(pdf: bytes, progress: Progress | None = None) -> list[PageContent]:
    """Every page's lines and tables; BrochureUnreadable if the PDF is damaged or locked."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfplumber.utils.exceptions import PdfminerException

    def unreadable(exc: BaseException) -> BrochureUnreadable:
        cause = exc.args[0] if isinstance(exc, PdfminerException) and exc.args else exc
        if isinstance(cause, PDFPasswordIncorrect | PDFEncryptionError):
            return BrochureUnreadable(
                "the PDF is locked with a password: save an unlocked copy and ingest that",
                reason="encrypted",
            )
        return BrochureUnreadable(
            f"the file is not a readable PDF ({type(cause).__name__}): export it again",
            reason="corrupt",
        )

    if not pdf.startswith(b"%PDF-") and b"%PDF-" not in pdf[:1024]:
        raise BrochureUnreadable(
            "the file is not a PDF: export the brochure as PDF", reason="corrupt"
        )
    pages: list[PageContent] = []
    try:
        # An empty password opens PDFs that only restrict printing or copying, as viewers do.
        with pdfplumber.open(io.BytesIO(pdf), password="") as document:
            total = len(document.pages)
            for page in document.pages:
                pages.append(_page(page))
                if progress is not None:
                    progress(page.page_number, total)
    except BrochureUnreadable:
        raise
    except Exception as exc:  # a parser on damaged input raises anything (KeyError, ...)
        raise unreadable(exc) from exc
    if not pages:
        raise BrochureUnreadable("the PDF has no pages", reason="corrupt")
    if not any(p.lines or p.tables for p in pages):
        raise BrochureUnreadable(
            "the PDF has no text to read (a scan?): export it with text, or run OCR on it first",
            reason="no_text",
        )
    return pages


def _page(page: Page) -> PageContent:
    found = page.find_tables()
    boxes = [table.bbox for table in found]
    tables = tuple(rows for rows in (_rows(table.extract()) for table in found) if len(rows) >= 1)

    def outside_tables(obj: dict[str, Any]) -> bool:
        x = (obj["x0"] + obj["x1"]) / 2
        y = (obj["top"] + obj["bottom"]) / 2
        return not any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)

    text_page = page.filter(outside_tables) if boxes else page
    lines = []
    for raw in text_page.extract_text_lines(return_chars=False):
        text = str(raw["text"])
        bullet = bool(_BULLET.match(text))
        text = " ".join(_CID.sub(" ", _BULLET.sub("", text)).split())
        if text:
            lines.append(
                Line(
                    text=text,
                    top=float(raw["top"]),
                    bottom=float(raw["bottom"]),
                    x0=float(raw["x0"]),
                    x1=float(raw["x1"]),
                    bullet=bullet,
                )
            )
    return PageContent(
        number=page.page_number, width=float(page.width), lines=tuple(lines), tables=tables
    )


_BULLET = re.compile(r"^\s*(?:\(cid:\d+\)|[•·▪◦●■►▶✓✔\-–—*])\s+")


def _rows(raw: list[list[str | None]]) -> tuple[Row, ...]:
    rows = []
    for cells in raw:
        row = tuple(" ".join(_CID.sub(" ", cell or "").split()) for cell in cells)
        if any(row):
            rows.append(row)
    return tuple(rows)
