"""Brochure ingestion over tables from template.yaml: chunks, the PDF and the listing's brochure
id are stored together or not at all; the seeded sample brochure; the ops CLI."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from pynamodb.exceptions import PutError

from leadbot.admin.__main__ import main
from leadbot.domain import PropertyConflict, PropertyNotFound
from leadbot.domain.errors import BrochureUnreadable
from leadbot.domain.knowledge import ChunkKind
from leadbot.services import runtime
from leadbot.services.brochures import ingest_brochure, read_brochure
from leadbot.services.errors import Conflict
from leadbot.store.brochures import LocalBrochures, S3Brochures, brochure_key
from leadbot.store.properties import PropertyRepository
from local.sample_brochure import (
    SAMPLE_TITLE,
    corrupt_pdf,
    encrypted_pdf,
    sample_brochure,
    textless_pdf,
)
from local.seed import DEMO_BROCHURE_ID, DEMO_BROCHURE_LISTING, DEMO_LISTINGS, seed
from tests.support import InProcessStack

VILLA = DEMO_LISTINGS[1].property_id  # seeded without a brochure
UPLOADS = "http://127.0.0.1:8080/_local/uploads"


def _items(stack: InProcessStack) -> list[dict[str, Any]]:
    """Every item of the Knowledge table, whoever wrote it."""
    return [item.attribute_values for item in stack.repos.tables.knowledge.scan()]


def _pdfs(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.pdf")) if folder.exists() else []


def test_the_demo_listing_starts_with_the_sample_brochure(
    stack: InProcessStack, tmp_path: Path
) -> None:
    repos = stack.repos
    listing = repos.properties.get("demo", DEMO_BROCHURE_LISTING.property_id)
    assert listing.brochure_ids == (DEMO_BROCHURE_ID,)
    chunks = repos.knowledge.chunks("demo", [DEMO_BROCHURE_ID])
    assert {c.page for c in chunks} == set(range(1, 13))
    assert all(c.title == SAMPLE_TITLE for c in chunks)
    (possession,) = [c for c in chunks if c.fact == "possession" and c.value == "Q4 2026"]
    assert possession.page == 7 and possession.chunk_id.startswith("p007-fact-")
    key = brochure_key("demo", listing.property_id, DEMO_BROCHURE_ID)
    assert (tmp_path / "seeded" / key).read_bytes() == sample_brochure()  # tests/conftest.py
    # A restart seeds again: nothing changes.
    seed(repos, brochures=LocalBrochures(tmp_path / "seeded", UPLOADS))
    assert repos.properties.get("demo", listing.property_id) == listing
    assert len(_items(stack)) == len(chunks)


def test_ingest_stores_the_chunks_the_pdf_and_the_brochure_id_on_the_listing(
    stack: InProcessStack, tmp_path: Path
) -> None:
    repos = stack.repos
    store = LocalBrochures(tmp_path / "ingest", UPLOADS)
    before = repos.properties.get("demo", VILLA)
    pages: list[tuple[int, int]] = []
    pdf = sample_brochure()

    report = ingest_brochure(
        repos,
        store,
        "demo",
        VILLA,
        pdf,
        title="  Villa   brochure ",
        progress=lambda *p: pages.append(p),
    )

    assert pages == [(page, 12) for page in range(1, 13)]
    listing = repos.properties.get("demo", VILLA)
    assert listing.brochure_ids == (report.brochure_id,)
    assert listing.version == (before.version or 0) + 1
    stored = repos.knowledge.chunks("demo", listing.brochure_ids)
    expected = read_brochure(before, pdf, report.brochure_id, title="Villa brochure").chunks
    assert stored == list(expected)
    kinds = [c.kind for c in stored]
    assert (report.pages, report.title) == (12, "Villa brochure")
    assert (report.facts, report.table_rows, report.text_chunks) == (
        kinds.count(ChunkKind.FACT),
        kinds.count(ChunkKind.TABLE),
        kinds.count(ChunkKind.TEXT),
    )
    assert report.facts > 20 and report.table_rows == 12 and report.text_chunks >= 12
    key = brochure_key("demo", VILLA, report.brochure_id)
    assert _pdfs(tmp_path / "ingest") == [tmp_path / "ingest" / key]
    assert (tmp_path / "ingest" / key).read_bytes() == pdf
    # Another agency reads none of it, even with the ids.
    assert repos.knowledge.chunks("demo2", [report.brochure_id]) == []


def test_without_a_title_the_brochure_is_named_after_the_listing(
    stack: InProcessStack, tmp_path: Path
) -> None:
    store = LocalBrochures(tmp_path / "ingest", UPLOADS)
    report = ingest_brochure(stack.repos, store, "demo", VILLA, sample_brochure())
    assert report.title == DEMO_LISTINGS[1].title
    chunks = stack.repos.knowledge.chunks("demo", [report.brochure_id])
    assert {c.title for c in chunks} == {DEMO_LISTINGS[1].title}


@pytest.mark.parametrize(
    ("pdf", "reason"),
    [(corrupt_pdf, "corrupt"), (encrypted_pdf, "encrypted"), (textless_pdf, "no_text")],
)
def test_a_bad_pdf_stores_nothing(
    stack: InProcessStack, tmp_path: Path, pdf: Callable[[], bytes], reason: str
) -> None:
    repos = stack.repos
    before_items = _items(stack)
    before = repos.properties.get("demo", VILLA)
    store = LocalBrochures(tmp_path / "ingest", UPLOADS)
    with pytest.raises(BrochureUnreadable) as raised:
        ingest_brochure(repos, store, "demo", VILLA, pdf())
    assert raised.value.reason == reason
    assert _items(stack) == before_items  # the seeded brochure's only
    assert _pdfs(tmp_path / "ingest") == []
    assert repos.properties.get("demo", VILLA) == before


def test_when_the_listing_cannot_be_saved_the_chunks_and_the_pdf_go_again(
    stack: InProcessStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repos = stack.repos
    before_items = _items(stack)
    before = repos.properties.get("demo", VILLA)
    saves: list[str] = []

    def someone_else_saved_first(self: PropertyRepository, listing: Any) -> Any:
        saves.append(listing.property_id)
        raise PropertyConflict(listing.property_id)

    monkeypatch.setattr(PropertyRepository, "save", someone_else_saved_first)
    store = LocalBrochures(tmp_path / "ingest", UPLOADS)
    with pytest.raises(PropertyConflict):
        ingest_brochure(repos, store, "demo", VILLA, sample_brochure())
    assert len(saves) == 5  # retried on the fresh listing, then given up
    assert _items(stack) == before_items
    assert _pdfs(tmp_path / "ingest") == []
    monkeypatch.undo()
    assert repos.properties.get("demo", VILLA) == before


def test_a_listing_changed_meanwhile_still_gets_the_brochure(
    stack: InProcessStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A concurrent edit (an admin's PATCH) is kept, and the brochure id added on top of it."""
    repos = stack.repos
    real_save = PropertyRepository.save
    raced = []

    def admin_changes_units_first(self: PropertyRepository, listing: Any) -> Any:
        if not raced:
            raced.append(True)
            current = repos.properties.get("demo", VILLA)
            real_save(self, replace(current, units_available=0))
        return real_save(self, listing)

    monkeypatch.setattr(PropertyRepository, "save", admin_changes_units_first)
    store = LocalBrochures(tmp_path / "ingest", UPLOADS)
    report = ingest_brochure(repos, store, "demo", VILLA, sample_brochure())
    listing = repos.properties.get("demo", VILLA)
    assert (listing.units_available, listing.brochure_ids) == (0, (report.brochure_id,))


def test_a_chunk_write_failing_midway_leaves_no_chunk_behind(
    stack: InProcessStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repos = stack.repos
    before_items = _items(stack)
    before = repos.properties.get("demo", VILLA)
    connection = repos.tables.knowledge._get_connection()
    real = connection.batch_write_item
    puts: list[int] = []

    def fails_on_the_third_batch(**kwargs: Any) -> Any:
        if kwargs.get("put_items"):
            puts.append(len(kwargs["put_items"]))
            if len(puts) == 3:
                raise PutError("throttled")
        return real(**kwargs)

    monkeypatch.setattr(connection, "batch_write_item", fails_on_the_third_batch)
    store = LocalBrochures(tmp_path / "ingest", UPLOADS)
    with pytest.raises(PutError):
        ingest_brochure(repos, store, "demo", VILLA, sample_brochure())
    assert len(puts) == 3 and puts[:2] == [25, 25]  # two batches written before the third failed
    assert _items(stack) == before_items
    assert _pdfs(tmp_path / "ingest") == []
    assert repos.properties.get("demo", VILLA) == before


def test_an_unknown_or_another_agencys_listing_is_not_found_and_nothing_is_read(
    stack: InProcessStack, tmp_path: Path
) -> None:
    store = LocalBrochures(tmp_path / "ingest", UPLOADS)
    for tenant_id, property_id in (("demo", "01BX5ZZKBKACTAV9WEVGEMMVRZ"), ("demo2", VILLA)):
        with pytest.raises(PropertyNotFound):
            ingest_brochure(stack.repos, store, tenant_id, property_id, corrupt_pdf())
    assert _pdfs(tmp_path / "ingest") == []


def test_a_full_listing_takes_no_more_brochures(stack: InProcessStack, tmp_path: Path) -> None:
    repos = stack.repos
    listing = repos.properties.get("demo", VILLA)
    full = tuple(f"01KE6P4YM0VS0000000000F{n:03d}" for n in range(20))
    repos.properties.save(replace(listing, brochure_ids=full))
    with pytest.raises(Conflict, match="at most 20"):
        ingest_brochure(repos, LocalBrochures(tmp_path, UPLOADS), "demo", VILLA, b"%PDF-1.4")


def test_delete_brochure_removes_every_chunk(stack: InProcessStack) -> None:
    repos = stack.repos
    count = len(repos.knowledge.chunks("demo", [DEMO_BROCHURE_ID]))
    assert count > 50
    assert repos.knowledge.delete_brochure("demo", DEMO_BROCHURE_ID) == count
    assert repos.knowledge.chunks("demo", [DEMO_BROCHURE_ID]) == []
    assert _items(stack) == []


def test_in_aws_the_pdf_goes_to_the_versioned_bucket_and_a_failure_takes_its_version_back(
    stack: InProcessStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.environ.get("DYNAMODB_ENDPOINT"):
        pytest.skip("S3 is moto's; DynamoDB Local has no S3 beside it")
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="leadbot-brochures-test")
    s3.put_bucket_versioning(
        Bucket="leadbot-brochures-test", VersioningConfiguration={"Status": "Enabled"}
    )
    store = S3Brochures("leadbot-brochures-test", "us-east-1")
    pdf = sample_brochure()
    report = ingest_brochure(stack.repos, store, "demo", VILLA, pdf)
    key = brochure_key("demo", VILLA, report.brochure_id)
    stored = s3.get_object(Bucket="leadbot-brochures-test", Key=key)
    assert stored["Body"].read() == pdf and stored["ContentType"] == "application/pdf"

    def conflict(self: PropertyRepository, listing: Any) -> Any:
        raise PropertyConflict(listing.property_id)

    monkeypatch.setattr(PropertyRepository, "save", conflict)
    with pytest.raises(PropertyConflict):
        ingest_brochure(stack.repos, store, "demo", VILLA, pdf)
    versions = s3.list_object_versions(Bucket="leadbot-brochures-test")
    # Only the first brochure's PDF: no version, no delete marker of the second.
    assert [v["Key"] for v in versions.get("Versions", [])] == [key]
    assert versions.get("DeleteMarkers", []) == []


def _cli_env(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    monkeypatch.setenv("BROCHURES_DIR", str(folder))
    monkeypatch.setenv("BROCHURES_URL_BASE", UPLOADS)
    runtime.reset()


def test_the_cli_ingests_a_brochure_page_by_page(
    stack: InProcessStack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _cli_env(monkeypatch, tmp_path / "cli")
    path = tmp_path / "villa.pdf"
    path.write_bytes(sample_brochure())
    argv = ["ingest", "--tenant", "demo", "--property", VILLA, "--title", "Villa", str(path)]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert [line for line in err.splitlines() if "page" in line][:12] == [
        f"villa.pdf: page {n}/12" for n in range(1, 13)
    ]
    summary = json.loads(out)
    assert summary["pages"] == 12 and summary["title"] == "Villa"
    listing = stack.repos.properties.get("demo", VILLA)
    assert listing.brochure_ids == (summary["brochure_id"],)
    chunks = stack.repos.knowledge.chunks("demo", listing.brochure_ids)
    assert len(chunks) == summary["facts"] + summary["table_rows"] + summary["text_chunks"]
    assert _pdfs(tmp_path / "cli") == [
        tmp_path / "cli" / brochure_key("demo", VILLA, summary["brochure_id"])
    ]


@pytest.mark.parametrize(
    ("pdf", "words"),
    [(encrypted_pdf, "locked with a password"), (corrupt_pdf, "not a readable PDF")],
)
def test_the_cli_refuses_a_bad_pdf_with_exit_1_and_stores_nothing(
    stack: InProcessStack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    pdf: Callable[[], bytes],
    words: str,
) -> None:
    _cli_env(monkeypatch, tmp_path / "cli")
    before_items = _items(stack)
    path = tmp_path / "bad.pdf"
    path.write_bytes(pdf())
    assert main(["ingest", "--tenant", "demo", "--property", VILLA, str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: bad.pdf: ") and words in err and "nothing was stored" in err
    assert _items(stack) == before_items
    assert _pdfs(tmp_path / "cli") == []
    assert stack.repos.properties.get("demo", VILLA).brochure_ids == ()


def test_the_cli_names_what_is_missing(
    stack: InProcessStack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    runtime.reset()  # no BROCHURES_BUCKET or BROCHURES_DIR
    path = tmp_path / "b.pdf"
    path.write_bytes(sample_brochure())
    assert main(["ingest", "--tenant", "demo", "--property", VILLA, str(path)]) == 2
    assert "brochure storage is not set up" in capsys.readouterr().err
    _cli_env(monkeypatch, tmp_path / "cli")
    assert main(["ingest", "--tenant", "demo", "--property", "nope", str(path)]) == 2
    assert "tenant 'demo' has no listing 'nope'" in capsys.readouterr().err
    assert main(["ingest", "--tenant", "demo", "--property", VILLA, str(tmp_path / "no.pdf")]) == 2
    assert "cannot read" in capsys.readouterr().err
