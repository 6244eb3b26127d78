"""An uploaded brochure's S3 event: which objects it names (keys URL-encoded as S3 sends them),
whose brochure a key is, and which functions the template says S3 tells."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadbot.services.brochures import UploadedObject, uploaded_objects
from leadbot.store.brochures import BrochureKey, brochure_key, parse_brochure_key
from local.template import S3Notification, load_template, s3_notifications
from local.uploads import LOCAL_BUCKET, object_created_event

LISTING = "01KE6P4YM0VS00000000000001"
BROCHURE = "01KE6P4YM0VS0000000000000B"
AT = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


def test_a_brochure_key_names_its_tenant_listing_and_brochure() -> None:
    key = brochure_key("demo", LISTING, BROCHURE)
    assert key == f"brochures/demo/{LISTING}/{BROCHURE}.pdf"
    assert parse_brochure_key(key) == BrochureKey("demo", LISTING, BROCHURE)
    assert parse_brochure_key(f"brochures/acme realty/{LISTING}/{BROCHURE}.pdf") == BrochureKey(
        "acme realty", LISTING, BROCHURE
    )


@pytest.mark.parametrize(
    "key",
    [
        f"exports/demo/{LISTING}/{BROCHURE}.pdf",  # another prefix
        f"brochures/demo/{BROCHURE}.pdf",  # no listing
        f"brochures/demo/x/{LISTING}/{BROCHURE}.pdf",  # a folder more
        f"brochures/demo/{LISTING}/{BROCHURE}.PDF",
        f"brochures/demo/{LISTING}/{BROCHURE}.pdf.partial",
        f"brochures/demo/{LISTING}/{BROCHURE.lower()}.pdf",  # ULIDs are upper case
        f"brochures/demo/{LISTING}/01KE6P4YM0VS0000000000000U.pdf",  # no U in Crockford's base32
        f"brochures/demo/{LISTING}/brochure.pdf",
        f"brochures/../{LISTING}/{BROCHURE}.pdf",
        f"brochures//{LISTING}/{BROCHURE}.pdf",
        "",
    ],
)
def test_any_other_key_is_no_brochure(key: str) -> None:
    assert parse_brochure_key(key) is None


def test_keys_come_decoded_from_the_url_encoding_s3_sends() -> None:
    key = f"brochures/acme realty+co/{LISTING}/{BROCHURE}.pdf"
    event = object_created_event(LOCAL_BUCKET, key, 100, '"abc"', AT)
    sent = event["Records"][0]["s3"]["object"]["key"]
    assert sent == f"brochures/acme+realty%2Bco/{LISTING}/{BROCHURE}.pdf"  # as S3 encodes it
    assert uploaded_objects(event) == [UploadedObject(LOCAL_BUCKET, key)]


def test_only_created_objects_of_an_s3_event_are_named() -> None:
    created = object_created_event("b", f"brochures/demo/{LISTING}/{BROCHURE}.pdf", 9, "e", AT)
    [record] = created["Records"]
    removed = {**record, "eventName": "ObjectRemoved:Delete"}
    copied = {**record, "eventName": "ObjectCreated:CompleteMultipartUpload"}
    keyless = {**record, "s3": {"bucket": {"name": "b"}}}
    event = {"Records": [record, removed, copied, keyless]}
    key = f"brochures/demo/{LISTING}/{BROCHURE}.pdf"
    assert uploaded_objects(event) == [UploadedObject("b", key), UploadedObject("b", key)]
    assert uploaded_objects({}) == []
    assert uploaded_objects({"Records": None}) == []


def test_the_local_event_is_shaped_as_s3_sends_it() -> None:
    [record] = object_created_event("bkt", "brochures/a b.pdf", 42, '"0cc175b9"', AT)["Records"]
    assert (record["eventVersion"], record["eventSource"], record["eventName"]) == (
        "2.1",
        "aws:s3",
        "ObjectCreated:Put",
    )
    assert record["eventTime"] == "2026-12-05T10:00:00.000Z"
    assert record["s3"]["bucket"] == {
        "name": "bkt",
        "ownerIdentity": {"principalId": "LOCAL"},
        "arn": "arn:aws:s3:::bkt",
    }
    obj = record["s3"]["object"]
    assert (obj["key"], obj["size"], obj["eTag"]) == ("brochures/a+b.pdf", 42, "0cc175b9")


def test_the_template_has_s3_tell_the_ingest_function_of_pdfs_under_brochures() -> None:
    [notification] = s3_notifications(load_template())
    assert notification == S3Notification(
        function_id="BrochureIngestFunction",
        event_name="Upload",
        code_uri="functions/brochure_ingest/",
        handler="app.handler",
        bucket_id="BrochuresBucket",
        events=("s3:ObjectCreated:*",),
        prefix="brochures/",
        suffix=".pdf",
    )
    key = f"brochures/demo/{LISTING}/{BROCHURE}.pdf"
    assert notification.wants("s3:ObjectCreated:Put", key)
    assert not notification.wants("s3:ObjectRemoved:Delete", key)
    assert not notification.wants("s3:ObjectCreated:Put", "exports/x.pdf")
    assert not notification.wants("s3:ObjectCreated:Put", key + ".partial")
