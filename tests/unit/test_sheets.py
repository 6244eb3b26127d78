"""Reading sign-up sheets and contact details as people write them."""

from __future__ import annotations

import pytest

from leadbot.domain import Language
from leadbot.parsing.contacts import parse_email, parse_language, parse_linkedin
from leadbot.parsing.sheets import SheetError, field_of, read_sheet


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Full Name", "name"),
        ("\ufeffName", "name"),
        ("first_name", "first_name"),
        ("E-mail", "email"),
        ("Email Address", "email"),
        ("Mobile Number", "phone"),
        ("WhatsApp", "whatsapp"),
        ("URL", "linkedin_url"),
        ("LinkedIn Profile", "linkedin_url"),
        ("Telegram chat id", "telegram_id"),
        ("Company", None),
    ],
)
def test_headers_are_recognised_however_they_are_written(header: str, field: str | None) -> None:
    assert field_of(header) == field


def test_semicolons_blank_lines_and_quoted_cells() -> None:
    sheet = read_sheet(
        'Name;Phone;Notes\n"Khalid, Omar";050 555 0111;"two\nlines"\n;;\n\nLi;;\n', max_rows=10
    )
    assert [(row.line, row.values) for row in sheet.rows] == [
        (3, {"name": "Khalid, Omar", "phone": "050 555 0111", "note": "two\nlines"}),
        (6, {"name": "Li"}),
    ]


def test_tabs_and_a_second_column_of_the_same_field_is_ignored() -> None:
    sheet = read_sheet("Name\tPhone\tMobile\tBudget\nSara\t1\t2\t3M\n", max_rows=10)
    assert sheet.rows[0].values == {"name": "Sara", "phone": "1"}
    assert sheet.ignored_columns == ["Mobile", "Budget"]


def test_the_header_is_found_below_notes() -> None:
    text = 'Notes:\n"Some emails are missing."\n\nFirst Name,Last Name,URL\nA,B,u\n'
    sheet = read_sheet(text, max_rows=10)
    assert sheet.rows[0].values == {"first_name": "A", "last_name": "B", "linkedin_url": "u"}
    assert sheet.rows[0].line == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("Phone,Email\n1,2\n", "no header with a name column"),
        ("Name\na\nb\nc\n", "more than 2 rows"),
    ],
)
def test_unreadable_sheets(text: str, message: str) -> None:
    with pytest.raises(SheetError, match=message):
        read_sheet(text, max_rows=2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://www.linkedin.com/in/Jane-Doe/", "linkedin.com/in/jane-doe"),
        ("ae.linkedin.com/in/jane-doe?trk=abc", "linkedin.com/in/jane-doe"),
        ("http://linkedin.com/pub/jane/1/2/3", "linkedin.com/pub/jane"),
        ("https://www.linkedin.com/company/emaar", None),
        ("https://notlinkedin.com/in/jane", None),
        ("jane-doe", None),
        ("", None),
    ],
)
def test_linkedin_profiles(text: str, expected: str | None) -> None:
    assert parse_linkedin(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" Omar@Example.COM ", "omar@example.com"),
        ("mailto:a@b.ae", "a@b.ae"),
        ("omar@", None),
        ("omar@example", None),
        ("two words@example.com", None),
    ],
)
def test_emails(text: str, expected: str | None) -> None:
    assert parse_email(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fa", Language.FA),
        ("ru-RU", Language.RU),
        ("Farsi", Language.FA),
        ("العربية", Language.AR),
        ("Русский", Language.RU),
        ("klingon", None),
    ],
)
def test_languages_by_code_or_name(text: str, expected: Language | None) -> None:
    assert parse_language(text) == expected


def test_a_cell_past_the_csv_field_limit_is_a_sheet_error() -> None:
    with pytest.raises(SheetError, match="line 2 cannot be read"):
        read_sheet('Name,Notes\nA,"' + "x" * 200_000 + '"\n', max_rows=10)
