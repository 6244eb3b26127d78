"""The local folder that stands in for the brochures bucket: ingestion puts and removes PDFs."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadbot.store.brochures import LocalBrochures, brochure_key


def test_a_put_pdf_is_at_its_key_until_deleted(tmp_path: Path) -> None:
    store = LocalBrochures(tmp_path, "http://127.0.0.1:8080/_local/uploads")
    key = brochure_key("demo", "P1", "B1")
    assert store.put(key, b"%PDF-1.7 first") is None  # a folder keeps no versions
    assert store.put(key, b"%PDF-1.7 second") is None
    assert (tmp_path / "brochures/demo/P1/B1.pdf").read_bytes() == b"%PDF-1.7 second"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["B1.pdf"]
    store.delete(key)
    store.delete(key)  # gone already: nothing to do, as S3 answers
    assert not (tmp_path / key).exists()


@pytest.mark.parametrize("key", ["../outside.pdf", "/etc/leadbot.pdf", "brochures/../../x.pdf"])
def test_a_key_outside_the_folder_is_refused(tmp_path: Path, key: str) -> None:
    store = LocalBrochures(tmp_path / "store", "http://127.0.0.1:8080/_local/uploads")
    with pytest.raises(ValueError, match="outside the brochures folder"):
        store.put(key, b"%PDF-1.7")
    assert not any(tmp_path.rglob("*.pdf"))
