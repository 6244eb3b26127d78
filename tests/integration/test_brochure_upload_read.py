"""An admin's uploaded brochure read into the Knowledge table by functions/brochure_ingest, on
S3's event (moto's S3) and on the local stack's (the folder standing in for the bucket): the
chunks of the brochure id the listing took, what the dashboard is told, the same event twice,
damaged and locked PDFs, and keys that are no listing's brochure."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from leadbot.domain import Language
from leadbot.services import runtime
from leadbot.services.answers import answer_question
from leadbot.store.brochures import PDF, brochure_key
from leadbot.store.knowledge import KnowledgeRepository
from local.gateway import LocalRequest, lambda_context, load_handler
from local.sample_brochure import corrupt_pdf, encrypted_pdf, sample_brochure
from local.seed import DEMO_LISTINGS
from local.template import load_template, s3_notifications
from local.uploads import UploadNotifier, object_created_event, uploads_endpoint
from tests.support import ADMIN, AGENT, REPO, InProcessStack, api_call, dynamodb_requests

BUCKET = "leadbot-brochures-test"
VILLA = DEMO_LISTINGS[1]  # seeded without a brochure
UPLOADS = "http://127.0.0.1:8080/_local/uploads"


@pytest.fixture
def s3(stack: InProcessStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    if os.environ.get("DYNAMODB_ENDPOINT"):
        pytest.skip("S3 is moto's; DynamoDB Local has no S3 beside it")
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    monkeypatch.setenv("BROCHURES_BUCKET", BUCKET)
    runtime.reset()
    yield client
    runtime.reset()


def _ingest(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The function as Lambda runs it on S3's notification."""
    [notification] = s3_notifications(load_template())
    handler = load_handler(REPO, notification)
    reads: list[dict[str, Any]] = handler(event, lambda_context(notification.function_id))["reads"]
    return reads


def _event(key: str, size: int = 1, bucket: str = BUCKET) -> dict[str, Any]:
    return object_created_event(bucket, key, size, '"etag"', datetime.now(UTC))


def _ask_upload(size: int) -> str:
    """The dashboard's upload request: the listing takes the brochure id from now on."""
    body = {"filename": "villa.pdf", "content_type": PDF, "size": size}
    status, upload = api_call("POST", f"/api/properties/{VILLA.property_id}/brochures", ADMIN, body)
    assert status == 201, upload
    brochure_id: str = upload["brochure_id"]
    return brochure_id


def _put(s3: Any, brochure_id: str, pdf: bytes) -> str:
    """The browser's presigned PUT."""
    key = brochure_key("demo", VILLA.property_id, brochure_id)
    s3.put_object(Bucket=BUCKET, Key=key, Body=pdf, ContentType=PDF)
    return key


def _states() -> dict[str, dict[str, Any]]:
    status, answer = api_call("GET", f"/api/properties/{VILLA.property_id}/brochures", AGENT)
    assert status == 200, answer
    return {item["brochure_id"]: item for item in answer["items"]}


def _partition(stack: InProcessStack, brochure_id: str) -> list[dict[str, Any]]:
    """Every item of the brochure's partition of the Knowledge table, marker included."""
    items = stack.repos.tables.knowledge.query(f"demo#{brochure_id}", consistent_read=True)
    return [item.attribute_values for item in items]


def test_an_uploaded_pdf_becomes_the_chunks_of_its_brochure_id(
    stack: InProcessStack, s3: Any
) -> None:
    pdf = sample_brochure()
    brochure_id = _ask_upload(len(pdf))
    assert _states()[brochure_id] == {
        "brochure_id": brochure_id,
        "ingested": False,
        "title": None,
        "pages": 0,
        "chunks": 0,
        "unreadable_reason": None,
        "unreadable_message": None,
    }
    key = _put(s3, brochure_id, pdf)

    [read] = _ingest(_event(key, len(pdf)))

    chunks = stack.repos.knowledge.chunks("demo", [brochure_id])
    assert read == {"key": key, "outcome": "read", "pages": 12, "chunks": len(chunks), "reason": ""}
    assert {c.page for c in chunks} == set(range(1, 13))
    assert {(c.property_id, c.title) for c in chunks} == {(VILLA.property_id, VILLA.title)}
    assert any(c.fact == "possession" and c.value == "Q4 2026" for c in chunks)
    state = _states()[brochure_id]
    assert (state["ingested"], state["pages"], state["chunks"], state["title"]) == (
        True,
        12,
        len(chunks),
        VILLA.title,
    )
    assert state["unreadable_reason"] is None
    # The listing is as the upload request left it: the same one brochure id.
    assert stack.repos.properties.get("demo", VILLA.property_id).brochure_ids == (brochure_id,)


def test_the_same_event_again_writes_nothing(stack: InProcessStack, s3: Any) -> None:
    pdf = sample_brochure()
    brochure_id = _ask_upload(len(pdf))
    key = _put(s3, brochure_id, pdf)
    _ingest(_event(key, len(pdf)))
    before = _partition(stack, brochure_id)

    with dynamodb_requests() as calls:
        [read] = _ingest(_event(key, len(pdf)))

    assert read["outcome"] == "unchanged" and read["pages"] == 12
    assert not {"BatchWriteItem", "PutItem", "DeleteItem", "UpdateItem"} & set(calls), calls
    assert _partition(stack, brochure_id) == before


def test_a_damaged_pdf_is_recorded_as_unreadable_with_its_reason_and_no_chunks(
    stack: InProcessStack, s3: Any, caplog: pytest.LogCaptureFixture
) -> None:
    pdf = corrupt_pdf()
    brochure_id = _ask_upload(len(pdf))
    key = _put(s3, brochure_id, pdf)

    [read] = _ingest(_event(key, len(pdf)))

    assert (read["outcome"], read["reason"]) == ("unreadable", "corrupt")
    assert stack.repos.knowledge.chunks("demo", [brochure_id]) == []
    state = _states()[brochure_id]
    assert (state["ingested"], state["unreadable_reason"]) == (False, "corrupt")
    assert state["unreadable_message"].startswith("the file is not a readable PDF")
    assert "brochure unreadable" in caplog.text
    # Told again: still the one marker, nothing written.
    [marker] = _partition(stack, brochure_id)
    with dynamodb_requests() as calls:
        assert _ingest(_event(key, len(pdf)))[0]["outcome"] == "unreadable"
    assert not {"BatchWriteItem", "PutItem"} & set(calls)
    assert _partition(stack, brochure_id) == [marker]

    # The admin uploads a good PDF to the same URL: read, and the marker is gone.
    good = sample_brochure()
    _put(s3, brochure_id, good)
    assert _ingest(_event(key, len(good)))[0]["outcome"] == "read"
    state = _states()[brochure_id]
    assert (state["ingested"], state["pages"], state["unreadable_reason"]) == (True, 12, None)
    assert all(item["kind"] != "unreadable" for item in _partition(stack, brochure_id))


def test_a_locked_pdf_over_a_read_one_takes_its_chunks_away(stack: InProcessStack, s3: Any) -> None:
    """The bot answers from the PDF that is there now: not from one overwritten."""
    pdf = sample_brochure()
    brochure_id = _ask_upload(len(pdf))
    key = _put(s3, brochure_id, pdf)
    _ingest(_event(key, len(pdf)))
    _put(s3, brochure_id, encrypted_pdf())

    [read] = _ingest(_event(key))

    assert (read["outcome"], read["reason"]) == ("unreadable", "encrypted")
    assert stack.repos.knowledge.chunks("demo", [brochure_id]) == []
    assert len(_partition(stack, brochure_id)) == 1
    state = _states()[brochure_id]
    assert (state["ingested"], state["chunks"], state["unreadable_reason"]) == (
        False,
        0,
        "encrypted",
    )
    assert "locked with a password" in state["unreadable_message"]


def test_keys_of_no_listings_brochure_are_ignored_and_nothing_is_written(
    stack: InProcessStack, s3: Any
) -> None:
    pdf = sample_brochure()
    stray = "01KE6P4YM0VS0000000000000Z"  # never asked for: not on the listing
    keys = [
        _put(s3, stray, pdf),
        brochure_key("demo", "01KE6P4YM0VS0000000000000Y", stray),  # no such listing
        brochure_key("demo2", VILLA.property_id, stray),  # another agency's: no such listing
        "brochures/notes.pdf",
    ]
    for key in keys[1:]:
        s3.put_object(Bucket=BUCKET, Key=key, Body=pdf)
    asked = _ask_upload(len(pdf))  # on the listing, but nothing was uploaded
    keys.append(brochure_key("demo", VILLA.property_id, asked))
    with dynamodb_requests() as calls:
        reads = _ingest({"Records": [_event(key)["Records"][0] for key in keys]})
    assert [(r["outcome"], r["reason"]) for r in reads] == [
        ("ignored", "not a brochure of the listing (yet)"),
        ("ignored", "no such listing"),
        ("ignored", "no such listing"),
        ("ignored", "not a brochure key"),
        ("ignored", "no PDF there any more"),
    ]
    assert not {"BatchWriteItem", "PutItem"} & set(calls)
    assert stack.repos.knowledge.chunks("demo", [stray, asked]) == []


def test_a_store_failing_fails_the_invocation_for_lambda_to_retry(
    stack: InProcessStack, s3: Any
) -> None:
    pdf = sample_brochure()
    brochure_id = _ask_upload(len(pdf))
    key = brochure_key("demo", VILLA.property_id, brochure_id)
    with pytest.raises(Exception, match="NoSuchBucket"):
        _ingest(_event(key, bucket="leadbot-no-such-bucket"))
    assert stack.repos.knowledge.chunks("demo", [brochure_id]) == []


# -- the local stack: the upload endpoint tells the function, as S3 would ---------------------


def _local(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    monkeypatch.setenv("BROCHURES_DIR", str(folder))
    monkeypatch.setenv("BROCHURES_URL_BASE", UPLOADS)
    runtime.reset()


def _upload_locally(folder: Path, notifier: UploadNotifier, pdf: bytes) -> tuple[str, int]:
    body = {"filename": "villa.pdf", "content_type": PDF, "size": len(pdf)}
    status, upload = api_call("POST", f"/api/properties/{VILLA.property_id}/brochures", ADMIN, body)
    assert status == 201, upload
    put = LocalRequest(
        "PUT", upload["upload_url"].removeprefix(UPLOADS), {}, pdf, {"content-type": PDF}
    )
    answer = uploads_endpoint(folder, notifier)(put)
    return upload["brochure_id"], answer.status


def test_on_the_local_stack_an_upload_is_read_after_the_put_is_answered(
    stack: InProcessStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "brochures"
    _local(monkeypatch, folder)
    notifier = UploadNotifier(s3_notifications(load_template()), REPO)

    brochure_id, status = _upload_locally(folder, notifier, sample_brochure())
    assert status == 200
    notifier.wait()

    assert notifier.stats == {"invocations": 1, "failures": 0}
    state = _states()[brochure_id]
    assert (state["ingested"], state["pages"]) == (True, 12)

    damaged, status = _upload_locally(folder, notifier, corrupt_pdf())
    notifier.wait()
    assert status == 200 and _states()[damaged]["unreadable_reason"] == "corrupt"


def test_on_the_local_stack_a_failing_read_is_logged_and_the_upload_still_answered(
    stack: InProcessStack,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "brochures"
    _local(monkeypatch, folder)
    notifier = UploadNotifier(s3_notifications(load_template()), REPO)

    def down(self: KnowledgeRepository, chunks: Any) -> int:
        raise ConnectionError("DynamoDB is down")

    monkeypatch.setattr(KnowledgeRepository, "replace_brochure", down)
    brochure_id, status = _upload_locally(folder, notifier, sample_brochure())
    notifier.wait()

    assert status == 200
    assert notifier.stats == {"invocations": 1, "failures": 1}
    assert "BrochureIngestFunction failed on brochures/demo/" in capsys.readouterr().err
    assert _states()[brochure_id]["ingested"] is False


def test_a_warm_lambdas_brochure_index_is_rebuilt_once_the_upload_is_read(
    stack: InProcessStack, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The listing held the brochure id before its chunks: reading them saves a new version of
    the listing, which is what tells a warm webhook its index is stale."""
    monkeypatch.setenv("TENANT_CACHE_SECONDS", "0")  # listings read afresh for each question
    runtime.reset()
    tenant = stack.repos.tenants.get("demo")
    pdf = sample_brochure()
    brochure_id = _ask_upload(len(pdf))
    indexes = runtime.brochure_indexes()
    answer_question(stack.repos, tenant, "When is the handover?", Language.EN)
    built = indexes.builds
    version = stack.repos.properties.get("demo", VILLA.property_id).version
    assert version is not None

    key = _put(s3, brochure_id, pdf)
    _ingest(_event(key, len(pdf)))

    assert stack.repos.properties.get("demo", VILLA.property_id).version == version + 1
    answer = answer_question(stack.repos, tenant, "When is the handover?", Language.EN)
    assert indexes.builds == built + 1
    assert answer is not None
    # Nothing read anew, no new version: the index stays.
    assert _ingest(_event(key, len(pdf)))[0]["outcome"] == "unchanged"
    assert stack.repos.properties.get("demo", VILLA.property_id).version == version + 1
    answer_question(stack.repos, tenant, "When is the handover?", Language.EN)
    assert indexes.builds == built + 1
