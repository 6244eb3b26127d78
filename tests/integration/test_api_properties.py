"""/api/properties through the API function in-process: admins list and change the agency's
listings and upload brochures, agents read them, tenants apart."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from leadbot.services import properties as use
from leadbot.services import runtime
from leadbot.store.brochures import MAX_BROCHURE_BYTES, UPLOAD_SECONDS
from local.gateway import LocalRequest
from local.seed import DEMO_BROCHURE_ID, DEMO_LISTINGS
from local.uploads import uploads_endpoint
from tests.support import ADMIN, AGENT, OTHER_TENANT_AGENT, InProcessStack, api_call

OTHER_TENANT_ADMIN = {**OTHER_TENANT_AGENT, "custom:role": "admin", "sub": "u-demo2-admin"}
NOBODY = "01BX5ZZKBKACTAV9WEVGEMMVRZ"
SEEDED = {listing.property_id for listing in DEMO_LISTINGS}
VILLA = {
    "title": "  Emirates Hills   villa ",
    "location": "Emirates Hills",
    "property_type": "villa",
    "transaction": "sale",
    "bedrooms": "4+",
    "price": {"amount": "18500000"},  # the agency's currency (AED)
    "size_sqft": "7200.5",
    "units_available": 2,
    "description": "Golf course views.",
    "pool": True,  # unknown fields are ignored
}
SIZE = 2048
BROCHURE = {"filename": "Emirates Hills.pdf", "content_type": "application/pdf", "size": SIZE}


def _create(body: dict[str, Any] | None = None, claims: dict[str, str] = ADMIN) -> dict[str, Any]:
    status, listing = api_call("POST", "/api/properties", claims, body=body or VILLA)
    assert status == 201, listing
    return dict(listing)


def _all(claims: dict[str, str] = AGENT, query: str = "") -> list[dict[str, Any]]:
    status, page = api_call("GET", "/api/properties", claims, query=query)
    assert status == 200, page
    assert page["next_cursor"] is None
    return list(page["items"])


def _local_brochures(monkeypatch: pytest.MonkeyPatch, folder: Path) -> str:
    base = "http://127.0.0.1:8080/_local/uploads"
    monkeypatch.setenv("BROCHURES_DIR", str(folder))
    monkeypatch.setenv("BROCHURES_URL_BASE", base)
    runtime.reset()
    return base


def test_without_verified_claims_every_route_is_401(stack: InProcessStack) -> None:
    path = f"/api/properties/{NOBODY}"
    for method, route, body in (
        ("GET", "/api/properties", None),
        ("POST", "/api/properties", VILLA),
        ("GET", path, None),
        ("PATCH", path, {"units_available": 1}),
        ("DELETE", path, None),
        ("POST", f"{path}/brochures", BROCHURE),
        ("GET", "/api/knowledge/gaps", None),
    ):
        status, answer = api_call(method, route, None, body=body)
        assert (status, answer["message"]) == (401, "no verified tenant and role"), route


def test_the_demo_agency_starts_with_its_seeded_listings(stack: InProcessStack) -> None:
    listings = _all()
    assert {p["property_id"] for p in listings} == SEEDED
    assert all(p["status"] == "active" for p in listings)
    marina = next(p for p in listings if p["property_id"] == "01KE6P4YM0VS00000000000001")
    assert marina["price"] == {"amount": "2450000.00", "currency": "AED"}
    assert (marina["units_available"], marina["bedrooms"]) == (3, "2")
    # Created, then given the sample brochure; the others are as created.
    assert (marina["brochure_ids"], marina["version"]) == ([DEMO_BROCHURE_ID], 2)
    assert all((p["brochure_ids"], p["version"]) == ([], 1) for p in listings if p != marina)
    assert marina["image_url"] == "https://demo-agency.example/photos/marina-residences.jpg"
    assert {p["property_id"]: p["image_url"] for p in listings} == {
        p.property_id: p.image_url for p in DEMO_LISTINGS
    }
    assert _all(OTHER_TENANT_AGENT) == []


def test_an_admin_adds_a_listing_and_agents_see_it_first(stack: InProcessStack) -> None:
    listing = _create()
    assert listing["title"] == "Emirates Hills villa" and "pool" not in listing
    assert listing["price"] == {"amount": "18500000.00", "currency": "AED"}
    assert (listing["size_sqft"], listing["units_available"], listing["bedrooms"]) == (
        "7200.5",
        2,
        "4+",
    )
    assert (listing["status"], listing["brochure_ids"], listing["version"]) == ("active", [], 1)
    assert listing["image_url"] is None  # no photo given, none made up
    assert _all()[0] == listing  # newest first
    path = f"/api/properties/{listing['property_id']}"
    assert api_call("GET", path, AGENT) == (200, listing)


def test_agents_cannot_add_change_archive_or_upload(stack: InProcessStack) -> None:
    listing = _create()
    path = f"/api/properties/{listing['property_id']}"
    for method, route, body in (
        ("POST", "/api/properties", VILLA),
        ("PATCH", path, {"units_available": 0}),
        ("DELETE", path, None),
        ("POST", f"{path}/brochures", BROCHURE),
    ):
        status, answer = api_call(method, route, AGENT, body=body)
        assert (status, answer["message"]) == (403, "admins only"), (method, route)
    assert api_call("GET", path, AGENT) == (200, listing)
    assert len(_all()) == len(SEEDED) + 1


def test_changing_price_units_and_details(stack: InProcessStack) -> None:
    listing = _create()
    path = f"/api/properties/{listing['property_id']}"
    status, changed = api_call(
        "PATCH",
        path,
        ADMIN,
        body={
            "price": {"amount": "17900000.50", "currency": "USD"},
            "units_available": 0,
            "size_sqft": None,
            "bedrooms": None,
        },
    )
    assert status == 200, changed
    assert changed["price"] == {"amount": "17900000.50", "currency": "USD"}
    assert (changed["units_available"], changed["size_sqft"], changed["bedrooms"]) == (
        0,
        None,
        None,
    )
    assert (changed["title"], changed["version"]) == (listing["title"], 2)
    assert changed["updated_at"] >= listing["updated_at"]
    assert api_call("GET", path, AGENT) == (200, changed)
    # A price without a currency keeps the listing's.
    status, again = api_call("PATCH", path, ADMIN, body={"price": {"amount": "17000000"}})
    assert (status, again["price"]) == (200, {"amount": "17000000.00", "currency": "USD"})


PHOTO = "https://cdn.agency.example/listings/emirates-hills/front.jpg?v=2"


def test_a_listing_photo_is_added_changed_and_removed(stack: InProcessStack) -> None:
    listing = _create({**VILLA, "image_url": f"  {PHOTO} "})
    assert listing["image_url"] == PHOTO
    path = f"/api/properties/{listing['property_id']}"
    assert api_call("GET", path, AGENT)[1]["image_url"] == PHOTO
    other = "https://[2001:db8::7]/villa.jpg"  # an IPv6 host is a host too
    status, changed = api_call("PATCH", path, ADMIN, body={"image_url": other})
    assert (status, changed["image_url"], changed["version"]) == (200, other, 2)
    status, kept = api_call("PATCH", path, ADMIN, body={"units_available": 1})
    assert (status, kept["image_url"]) == (200, other)  # left out: left alone
    status, cleared = api_call("PATCH", path, ADMIN, body={"image_url": None})
    assert (status, cleared["image_url"]) == (200, None)
    assert api_call("GET", path, AGENT)[1]["image_url"] is None
    stored = stack.repos.properties.get("demo", listing["property_id"])
    assert stored.image_url is None


def test_a_stale_version_is_409_and_changes_nothing(stack: InProcessStack) -> None:
    listing = _create()
    path = f"/api/properties/{listing['property_id']}"
    first = api_call("PATCH", path, ADMIN, body={"units_available": 1, "version": 1})
    assert (first[0], first[1]["version"]) == (200, 2)
    # A second admin, still looking at version 1, would overwrite the first one's change.
    status, answer = api_call("PATCH", path, ADMIN, body={"units_available": 5, "version": 1})
    assert (status, answer["message"]) == (
        409,
        "the listing changed since it was read; load it again and retry",
    )
    assert api_call("GET", path, AGENT)[1]["units_available"] == 1
    assert api_call("PATCH", path, ADMIN, body={"units_available": 5, "version": 2})[0] == 200


def test_deleting_archives_and_keeps_the_listing(stack: InProcessStack) -> None:
    listing = _create()
    path = f"/api/properties/{listing['property_id']}"
    status, archived = api_call("DELETE", path, ADMIN)
    assert (status, archived["status"], archived["title"]) == (200, "archived", listing["title"])
    assert api_call("DELETE", path, ADMIN) == (200, archived)  # again: nothing more to do
    assert api_call("GET", path, AGENT) == (200, archived)
    assert listing["property_id"] not in {p["property_id"] for p in _all(query="status=active")}
    assert [p["property_id"] for p in _all(query="status=archived")] == [listing["property_id"]]
    status, back = api_call("PATCH", path, ADMIN, body={"status": "active"})
    assert (status, back["status"]) == (200, "active")


def test_filters_and_pages(stack: InProcessStack) -> None:
    for n in range(3):
        _create({**VILLA, "title": f"Villa {n}"})
    _create({**VILLA, "title": "Office", "property_type": "office", "transaction": "rent"})
    assert [p["title"] for p in _all(query="property_type=villa")] == [
        "Villa 2",
        "Villa 1",
        "Villa 0",
        "Arabian Ranches family villa",
        "Palm Jumeirah garden villa",
    ]
    assert [p["title"] for p in _all(query="transaction=rent&property_type=office")] == ["Office"]
    assert {p["title"] for p in _all(query="transaction=rent")} == {
        "Office",
        "Downtown studio near the Dubai Mall",
        "Business Bay 2-bedroom with canal view",
    }
    seen, cursor = [], None
    for _ in range(10):
        query = "limit=2&property_type=villa" + (f"&cursor={cursor}" if cursor else "")
        status, page = api_call("GET", "/api/properties", AGENT, query=query)
        assert status == 200 and len(page["items"]) <= 2
        seen += [p["title"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [
        "Villa 2",
        "Villa 1",
        "Villa 0",
        "Arabian Ranches family villa",
        "Palm Jumeirah garden villa",
    ]
    status, answer = api_call("GET", "/api/properties", AGENT, query="status=sold")
    assert (status, answer["message"]) == (400, "the request is not valid")


def test_another_tenant_cannot_list_read_change_archive_or_upload(
    stack: InProcessStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _local_brochures(monkeypatch, tmp_path / "brochures")
    listing = _create()
    path = f"/api/properties/{listing['property_id']}"
    assert _all(OTHER_TENANT_AGENT) == []
    assert api_call("GET", path, OTHER_TENANT_AGENT) == (404, {"message": "no such listing"})
    for method, route, body in (
        ("PATCH", path, {"title": "Mine now"}),
        ("DELETE", path, None),
        ("POST", f"{path}/brochures", BROCHURE),
    ):
        status, answer = api_call(method, route, OTHER_TENANT_ADMIN, body=body)
        assert (status, answer["message"]) == (404, "no such listing"), (method, route)
    assert api_call("GET", path, ADMIN) == (200, listing)
    assert not (tmp_path / "brochures" / "brochures").exists()
    _, page = api_call("GET", "/api/properties", ADMIN, query="limit=1")
    status, answer = api_call(
        "GET", "/api/properties", OTHER_TENANT_AGENT, query=f"cursor={page['next_cursor']}"
    )
    assert (status, answer["message"]) == (400, "cursor is not valid")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"price": {"amount": "0"}}, "price must be more than zero"),
        ({"price": {"amount": "10.005"}}, "price has more decimals than AED has"),
        ({"price": {"amount": "1.5", "currency": "JPY"}}, "price has more decimals than JPY has"),
        ({"price": {"amount": "-5"}}, "the request is not valid"),
        ({"price": {"amount": 2500000}}, "the request is not valid"),  # money is a string
        ({"title": "   "}, "a listing needs a title"),
        ({"size_sqft": "0"}, "size_sqft must be more than zero"),
        ({"units_available": -1}, "the request is not valid"),
        ({"property_type": "castle"}, "the request is not valid"),
        ({"transaction": "invest"}, "the request is not valid"),
        ({"image_url": "http://agency.example/a.jpg"}, "image_url must be an absolute https URL"),
        ({"image_url": "/photos/a.jpg"}, "image_url must be an absolute https URL"),
        ({"image_url": "https:///a.jpg"}, "image_url must be an absolute https URL"),
        ({"image_url": "https://localhost/a.jpg"}, "image_url must be an absolute https URL"),
        ({"image_url": "https://agency.example:99999/a.jpg"}, "image_url must be an absolute"),
        ({"image_url": "https://agency.example/a b.jpg"}, "image_url cannot contain spaces"),
        ({"image_url": "https://agency.example/\u200ba.jpg"}, "image_url cannot contain"),
        ({"image_url": "https://agency.example/" + "a" * 1002}, "the request is not valid"),
    ],
)
def test_bad_listings_are_400(stack: InProcessStack, change: dict[str, Any], message: str) -> None:
    status, answer = api_call("POST", "/api/properties", ADMIN, body={**VILLA, **change})
    assert status == 400 and answer["message"].startswith(message), answer
    assert len(_all()) == len(SEEDED)


def test_a_listing_needs_its_unit_count(stack: InProcessStack) -> None:
    """Scarcity wording comes from units_available: it is never a default the API made up."""
    body = {k: v for k, v in VILLA.items() if k != "units_available"}
    status, answer = api_call("POST", "/api/properties", ADMIN, body=body)
    assert status == 400 and answer["errors"][0]["where"] == "body.units_available"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "nothing to change"),
        ({"version": 1}, "nothing to change"),
        ({"title": None}, "title cannot be empty"),
        ({"price": None}, "price cannot be empty"),
        ({"units_available": None}, "units_available cannot be empty"),
        ({"status": "sold"}, "the request is not valid"),
        ({"version": 0}, "the request is not valid"),
        ({"image_url": "ftp://agency.example/a.jpg"}, "image_url must be an absolute https URL"),
        ({"image_url": "https://agency.example/a\tb.jpg"}, "image_url cannot contain spaces"),
    ],
)
def test_bad_changes_are_400_and_change_nothing(
    stack: InProcessStack, body: dict[str, Any], message: str
) -> None:
    listing = _create()
    path = f"/api/properties/{listing['property_id']}"
    status, answer = api_call("PATCH", path, ADMIN, body=body)
    assert status == 400 and answer["message"].startswith(message), answer
    assert api_call("GET", path, ADMIN) == (200, listing)


@pytest.mark.parametrize(("property_id", "status"), [(NOBODY, 404), ("not-a-ulid", 400)])
def test_unknown_or_malformed_ids(stack: InProcessStack, property_id: str, status: int) -> None:
    path = f"/api/properties/{property_id}"
    assert api_call("GET", path, ADMIN)[0] == status
    assert api_call("PATCH", path, ADMIN, body={"units_available": 1})[0] == status
    assert api_call("DELETE", path, ADMIN)[0] == status
    assert api_call("POST", f"{path}/brochures", ADMIN, body=BROCHURE)[0] == status


def test_a_brochure_upload_on_the_local_stack(
    stack: InProcessStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "brochures"
    base = _local_brochures(monkeypatch, folder)
    listing = _create()
    path = f"/api/properties/{listing['property_id']}"
    status, upload = api_call("POST", f"{path}/brochures", ADMIN, body=BROCHURE)
    assert status == 201, upload
    assert (upload["method"], upload["headers"], upload["expires_in"]) == (
        "PUT",
        {"Content-Type": "application/pdf"},
        UPLOAD_SECONDS,
    )
    assert upload["upload_url"].startswith(base + "/")
    assert api_call("GET", path, AGENT)[1]["brochure_ids"] == [upload["brochure_id"]]

    pdf = b"%PDF-1.4\n" + b"x" * (SIZE - 9)
    token_path = upload["upload_url"].removeprefix(base)
    receive = uploads_endpoint(folder)
    put = LocalRequest("PUT", token_path, {}, pdf, {"content-type": "application/pdf"})
    assert receive(put).status == 200
    stored = folder / f"brochures/demo/{listing['property_id']}/{upload['brochure_id']}.pdf"
    assert stored.read_bytes() == pdf


def test_brochures_go_to_s3_with_a_presigned_put(
    stack: InProcessStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.environ.get("DYNAMODB_ENDPOINT"):
        pytest.skip("S3 is moto's; DynamoDB Local has no S3 beside it")
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="leadbot-brochures-test")
    monkeypatch.setenv("BROCHURES_BUCKET", "leadbot-brochures-test")
    runtime.reset()
    listing = _create()
    path = f"/api/properties/{listing['property_id']}"
    status, upload = api_call("POST", f"{path}/brochures", ADMIN, body=BROCHURE)
    assert status == 201, upload
    url = urlsplit(upload["upload_url"])
    query = parse_qs(url.query)
    assert url.scheme == "https" and query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == [str(UPLOAD_SECONDS)]
    # S3 refuses a body of another type or size than the admin declared.
    assert query["X-Amz-SignedHeaders"] == ["content-length;content-type;host"]
    key = f"brochures/demo/{listing['property_id']}/{upload['brochure_id']}.pdf"
    assert url.path.endswith("/" + key)
    assert api_call("GET", path, AGENT)[1]["brochure_ids"] == [upload["brochure_id"]]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"content_type": "image/png"}, "a brochure must be a PDF"),
        ({"filename": "brochure.docx"}, "a brochure must be a PDF"),
        ({"size": 0}, "size must be the file's size in bytes"),
        ({"size": MAX_BROCHURE_BYTES + 1}, "a brochure can be at most 50 MB"),
        ({"size": "big"}, "the request is not valid"),
        ({"filename": ""}, "the request is not valid"),
    ],
)
def test_bad_brochures_are_400_and_list_nothing(
    stack: InProcessStack,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    change: dict[str, Any],
    message: str,
) -> None:
    _local_brochures(monkeypatch, tmp_path / "brochures")
    listing = _create()
    path = f"/api/properties/{listing['property_id']}"
    status, answer = api_call("POST", f"{path}/brochures", ADMIN, body={**BROCHURE, **change})
    assert status == 400 and answer["message"].startswith(message), answer
    assert api_call("GET", path, ADMIN) == (200, listing)


def test_a_listing_holds_a_bounded_number_of_brochures(
    stack: InProcessStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _local_brochures(monkeypatch, tmp_path / "brochures")
    path = f"/api/properties/{_create()['property_id']}/brochures"
    for _ in range(use.MAX_BROCHURES):
        assert api_call("POST", path, ADMIN, body=BROCHURE)[0] == 201
    status, answer = api_call("POST", path, ADMIN, body=BROCHURE)
    assert (status, answer["message"]) == (409, "a listing holds at most 20 brochures")


def test_without_brochure_storage_uploads_are_503(stack: InProcessStack) -> None:
    path = f"/api/properties/{_create()['property_id']}/brochures"
    status, answer = api_call("POST", path, ADMIN, body=BROCHURE)
    assert (status, answer["message"]) == (
        503,
        "brochure uploads are not set up in this deployment",
    )


def test_a_forged_cursor_with_an_empty_key_is_400(stack: InProcessStack) -> None:
    """DynamoDB refuses an empty key value; the client's mistake must not become a 500."""
    forged = base64.urlsafe_b64encode(
        json.dumps({"property_id": {"S": ""}, "tenant_id": {"S": "demo"}}).encode()
    ).decode()
    status, answer = api_call("GET", "/api/properties", AGENT, query=f"cursor={forged}")
    assert (status, answer["message"]) == (400, "cursor is not valid")


def test_without_a_version_a_concurrent_change_is_retried_and_both_survive(
    stack: InProcessStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    listing = _create()
    path = f"/api/properties/{listing['property_id']}"
    listings = runtime.repositories().properties
    save = type(listings).save
    raced: list[int] = []

    def another_admin_first(self: Any, changed: Any) -> Any:
        if not raced:  # between this PATCH's read and its write, another one lands
            raced.append(1)
            theirs = listings.get("demo", changed.property_id)
            save(self, dataclasses.replace(theirs, units_available=0))
        return save(self, changed)

    monkeypatch.setattr(type(listings), "save", another_admin_first)
    status, changed = api_call("PATCH", path, ADMIN, body={"title": "Sold out villa"})
    assert status == 200, changed
    assert (changed["title"], changed["units_available"], changed["version"]) == (
        "Sold out villa",
        0,
        3,
    )
    # With the version it read, the same race is the caller's to resolve.
    raced.clear()
    status, answer = api_call("PATCH", path, ADMIN, body={"title": "Mine", "version": 3})
    assert status == 409, answer
    assert api_call("GET", path, AGENT)[1]["title"] == "Sold out villa"


def test_each_brochure_says_whether_it_has_been_read(
    stack: InProcessStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The seeded sample brochure was ingested: 12 pages of passages the bot answers from.
    marina = "/api/properties/01KE6P4YM0VS00000000000001/brochures"
    status, seeded = api_call("GET", marina, AGENT)
    assert status == 200, seeded
    [sample] = seeded["items"]
    assert (sample["brochure_id"], sample["ingested"], sample["pages"]) == (
        DEMO_BROCHURE_ID,
        True,
        12,
    )
    assert sample["chunks"] > 12 and sample["title"]

    # An upload is only a PDF until it is ingested; it is listed after the older ones.
    _local_brochures(monkeypatch, tmp_path / "brochures")
    listing = _create()
    path = f"/api/properties/{listing['property_id']}/brochures"
    assert api_call("GET", path, ADMIN) == (200, {"items": []})
    first = api_call("POST", path, ADMIN, body=BROCHURE)[1]["brochure_id"]
    second = api_call("POST", path, ADMIN, body=BROCHURE)[1]["brochure_id"]
    status, uploaded = api_call("GET", path, AGENT)
    assert status == 200
    assert uploaded["items"] == [
        {
            "brochure_id": b,
            "ingested": False,
            "title": None,
            "pages": 0,
            "chunks": 0,
            "unreadable_reason": None,
            "unreadable_message": None,
        }
        for b in (first, second)
    ]
    # Another agency's listing is not there at all.
    assert api_call("GET", marina, OTHER_TENANT_AGENT)[0] == 404
    assert api_call("GET", f"/api/properties/{NOBODY}/brochures", ADMIN)[0] == 404
    assert api_call("GET", path, None)[0] == 401
