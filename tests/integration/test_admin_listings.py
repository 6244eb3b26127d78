"""`python -m leadbot.admin listings add|import` on moto: listings added, a CSV imported with each
bad row reported by line, and a second import of the same file adding nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from leadbot.admin.__main__ import main as admin
from leadbot.domain import Bedrooms, Money, PropertyType
from leadbot.domain.listings import ListingStatus, Property, Transaction
from local.seed import DEMO_LISTINGS
from tests.support import InProcessStack

SHEET = """title,location,type,transaction,price,currency,bedrooms,size_sqft,units,description,notes
Creek Harbour 2BR,Dubai Creek Harbour,apartment,sale,"2,150,000",AED,2,1100,3,Off-plan,hot
Bluewaters studio,Bluewaters,apartment,rent,95000,,studio,,6,,
JLT office,Jumeirah Lakes Towers,office,sale,-5,AED,,,1,,
Nowhere villa,,villa,sale,3000000,AED,4,,2,,
Hills townhouse,Dubai Hills,townhouse,lease,3000000,AED,3,,2,,
Sports City flat,Sports City,apartment,sale,900000,AED,1,700,many,,
"""


def _listings(stack: InProcessStack) -> dict[str, Property]:
    seeded = {p.property_id for p in DEMO_LISTINGS}
    walk = stack.repos.properties.walk("demo", None, page_size=100)
    return {p.title: p for p in walk if p.property_id not in seeded}


def test_ops_add_a_listing(stack: InProcessStack, capsys: pytest.CaptureFixture[str]) -> None:
    code = admin(
        [
            "listings",
            "add",
            "--tenant",
            "demo",
            "--title",
            "Emaar Beachfront 3BR",
            "--location",
            "Dubai Harbour",
            "--type",
            "apartment",
            "--transaction",
            "sale",
            "--price",
            "4,800,000",
            "--bedrooms",
            "3",
            "--size-sqft",
            "1800",
            "--units",
            "2",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    (listing,) = _listings(stack).values()
    assert out.startswith(f"added {listing.property_id} to demo: Emaar Beachfront 3BR")
    assert "4,800,000 AED" in out  # the agency's currency
    assert (listing.price, listing.units_available, listing.bedrooms) == (
        Money(amount=Decimal("4800000.00"), currency="AED"),
        2,
        Bedrooms.THREE,
    )
    assert listing.status is ListingStatus.ACTIVE and listing.size_sqft == Decimal("1800")

    base = ["listings", "add", "--title", "x", "--location", "y", "--type", "villa"]
    base += ["--transaction", "sale", "--price", "1000000", "--units", "1"]
    assert admin([*base, "--tenant", "nope"]) == 2
    assert "no tenant 'nope'" in capsys.readouterr().err
    assert admin([*base[:-1], "-1", "--tenant", "demo"]) == 2
    assert "units_available cannot be negative" in capsys.readouterr().err


def test_ops_import_listings_and_importing_again_adds_nothing(
    stack: InProcessStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "listings.csv"
    sheet.write_text("\ufeff" + SHEET, encoding="utf-8")
    assert admin(["listings", "import", "--tenant", "demo", str(sheet)]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out.splitlines()[-1]) == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "failed": 4,
        "ignored_columns": ["notes"],
    }
    assert err.splitlines() == [
        "line 4: JLT office: price must be more than zero",
        "line 5: Nowhere villa: location is required",
        "line 6: Hills townhouse: transaction must be sale or rent",
        "line 7: Sports City flat: units must be a whole number, 0 or more",
    ]
    saved = _listings(stack)
    assert sorted(saved) == ["Bluewaters studio", "Creek Harbour 2BR"]
    creek = saved["Creek Harbour 2BR"]
    assert creek.price == Money(amount=Decimal("2150000.00"), currency="AED")
    assert (creek.units_available, creek.description) == (3, "Off-plan")
    studio = saved["Bluewaters studio"]
    assert (studio.transaction, studio.bedrooms) == (Transaction.RENT, Bedrooms.STUDIO)
    assert studio.property_type is PropertyType.APARTMENT and studio.size_sqft is None
    assert f"line 2: created {creek.property_id} Creek Harbour 2BR" in out

    # Again: nothing new. The same file with one price changed: that listing is updated.
    assert admin(["listings", "import", "--tenant", "demo", str(sheet)]) == 1
    again = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (again["created"], again["unchanged"], again["failed"]) == (0, 2, 4)
    sheet.write_text(SHEET.replace("95000", "99000"), encoding="utf-8")
    assert admin(["listings", "import", "--tenant", "demo", str(sheet)]) == 1
    changed = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (changed["updated"], changed["unchanged"]) == (1, 1)
    assert _listings(stack)["Bluewaters studio"].price.amount == Decimal("99000")
    assert len(_listings(stack)) == 2


def test_a_property_id_column_names_the_listing(
    stack: InProcessStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "ids.csv"
    sheet.write_text(
        "property_id;title;location;type;transaction;price;units\n"
        "01KE6P4YM0VS00000000000001;Marina Residences, 2 bedrooms;Dubai Marina;apartment;sale;"
        "2400000;2\n"
        "01KF0000000000000000000009;Sky villa;Palm Jumeirah;villa;sale;9000000;1\n"
        "not-a-ulid;Odd;Somewhere;villa;sale;1000000;1\n",
        encoding="utf-8",
    )
    assert admin(["listings", "import", "--tenant", "demo", str(sheet)]) == 1
    out, err = capsys.readouterr()
    summary = json.loads(out.splitlines()[-1])
    assert (summary["updated"], summary["created"], summary["failed"]) == (1, 1, 1)
    assert "line 4: Odd: property_id must be a ULID" in err
    marina = stack.repos.properties.get("demo", "01KE6P4YM0VS00000000000001")
    assert (marina.units_available, marina.price.amount) == (2, Decimal("2400000"))
    # The file has no image_url column: the seeded listing keeps its photo.
    assert marina.image_url == "https://demo-agency.example/photos/marina-residences.jpg"
    sky = stack.repos.properties.get("demo", "01KF0000000000000000000009")
    assert (sky.title, sky.image_url) == ("Sky villa", None)


def test_a_sheet_without_the_required_columns_is_refused_whole(
    stack: InProcessStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "bad.csv"
    sheet.write_text("title,location,price\nA,B,1\n", encoding="utf-8")
    assert admin(["listings", "import", "--tenant", "demo", str(sheet)]) == 2
    assert "no type, transaction, units column" in capsys.readouterr().err
    assert _listings(stack) == {}


PHOTO = "https://cdn.agency.example/photos/beachfront-3br.jpg"
ADD = ["listings", "add", "--tenant", "demo", "--title", "Emaar Beachfront 3BR", "--location"]
ADD += ["Dubai Harbour", "--type", "apartment", "--transaction", "sale", "--price", "4800000"]
ADD += ["--units", "2"]


def test_ops_add_a_listing_with_a_photo(
    stack: InProcessStack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert admin([*ADD, "--image-url", PHOTO]) == 0
    (listing,) = _listings(stack).values()
    assert listing.image_url == PHOTO
    assert capsys.readouterr().out.rstrip().endswith("2 units, with a photo")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://cdn.agency.example/a.jpg", "image_url must be an absolute https URL"),
        ("cdn.agency.example/a.jpg", "image_url must be an absolute https URL"),
        ("https://cdn.agency.example/my photo.jpg", "image_url cannot contain spaces"),
        ("https://cdn.agency.example/" + "a" * 1000, "image_url can be at most 1024 characters"),
    ],
)
def test_ops_add_with_a_bad_photo_url_is_refused(
    stack: InProcessStack, capsys: pytest.CaptureFixture[str], url: str, message: str
) -> None:
    assert admin([*ADD, "--image-url", url]) == 2
    assert capsys.readouterr().err.startswith(f"error: {message}")
    assert _listings(stack) == {}


PHOTOS = """title,location,type,transaction,price,units,Image URL
Creek Harbour 2BR,Dubai Creek Harbour,apartment,sale,2150000,3,https://cdn.agency.example/creek.jpg
Bluewaters studio,Bluewaters,apartment,rent,95000,6,
Marina loft,Dubai Marina,apartment,sale,1900000,2,http://cdn.agency.example/loft.jpg
"""


def test_an_import_with_an_image_url_column(
    stack: InProcessStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "photos.csv"
    sheet.write_text(PHOTOS, encoding="utf-8")
    assert admin(["listings", "import", "--tenant", "demo", str(sheet)]) == 1
    out, err = capsys.readouterr()
    summary = json.loads(out.splitlines()[-1])
    assert (summary["created"], summary["failed"], summary["ignored_columns"]) == (2, 1, [])
    assert err.splitlines() == [
        "line 4: Marina loft: image_url must be an absolute https URL, "
        "e.g. https://agency.example/photo.jpg"
    ]
    saved = _listings(stack)
    assert saved["Creek Harbour 2BR"].image_url == "https://cdn.agency.example/creek.jpg"
    assert saved["Bluewaters studio"].image_url is None

    # Again: unchanged. A new photo in the column changes it; a blank cell removes it.
    assert admin(["listings", "import", "--tenant", "demo", str(sheet)]) == 1
    again = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    sheet.write_text(
        PHOTOS.replace("creek.jpg", "creek-2.jpg").replace(
            "6,\n", "6,https://cdn.agency.example/bluewaters.jpg\n"
        ),
        encoding="utf-8",
    )
    assert admin(["listings", "import", "--tenant", "demo", str(sheet)]) == 1
    changed = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (changed["updated"], changed["unchanged"]) == (2, 0)
    saved = _listings(stack)
    assert saved["Creek Harbour 2BR"].image_url == "https://cdn.agency.example/creek-2.jpg"
    assert saved["Bluewaters studio"].image_url == "https://cdn.agency.example/bluewaters.jpg"
    sheet.write_text(PHOTOS.replace("https://cdn.agency.example/creek.jpg", ""), encoding="utf-8")
    assert admin(["listings", "import", "--tenant", "demo", str(sheet)]) == 1
    capsys.readouterr()
    saved = _listings(stack)
    assert saved["Creek Harbour 2BR"].image_url is None
    assert saved["Bluewaters studio"].image_url is None
