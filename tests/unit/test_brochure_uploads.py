"""Local brochure uploads: what the stand-in for S3's presigned PUT takes and refuses."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from leadbot.store.brochures import (
    PDF,
    UPLOAD_SECONDS,
    LocalBrochures,
    UploadRefused,
    brochure_key,
    receive_upload,
)
from local.gateway import LocalRequest
from local.uploads import uploads_endpoint
from tests.support import REPO

NOW = 1_800_000_000.0
BODY = b"%PDF-1.7\n" + b"0" * 91
KEY = brochure_key("demo", "01KE6P4YM0VS00000000000001", "01KE6P4YM0VS0000000000000B")


def _ticket(folder: Path, size: int = len(BODY), at: float = NOW) -> str:
    store = LocalBrochures(folder, "http://127.0.0.1:8080/_local/uploads/", clock=lambda: at)
    ticket = store.upload(KEY, PDF, size)
    assert ticket.url.startswith("http://127.0.0.1:8080/_local/uploads/")
    assert (ticket.method, ticket.headers, ticket.expires_in) == (
        "PUT",
        {"Content-Type": PDF},
        UPLOAD_SECONDS,
    )
    return ticket.url.rsplit("/", 1)[-1]


def test_a_put_stores_the_pdf_at_its_key_and_may_be_repeated_until_it_expires(
    tmp_path: Path,
) -> None:
    token = _ticket(tmp_path)
    stored = receive_upload(tmp_path, token, "application/pdf", BODY, now=NOW + 1)
    assert stored.path == (tmp_path / KEY).resolve() and stored.path.read_bytes() == BODY
    assert stored.etag.startswith('"') and len(stored.etag) == 34
    again = b"%PDF-1.7\n" + b"1" * 91  # as S3: the URL works until it expires, overwriting
    receive_upload(tmp_path, token, "application/pdf; charset=binary", again, now=NOW + 2)
    assert stored.path.read_bytes() == again
    with pytest.raises(UploadRefused, match="expired") as late:
        receive_upload(tmp_path, token, PDF, BODY, now=NOW + UPLOAD_SECONDS)
    assert late.value.status == 403
    assert stored.path.read_bytes() == again


@pytest.mark.parametrize(
    ("token", "content_type", "body", "message"),
    [
        ("unknown-token-of-good-shape", PDF, BODY, "no such upload URL"),
        ("../../etc", PDF, BODY, "no such upload URL"),
        (None, "image/png", BODY, "Content-Type must be application/pdf"),
        (None, "", BODY, "Content-Type must be application/pdf"),
        (None, PDF, BODY + b"more", f"the body must be {len(BODY)} bytes"),
        (None, PDF, b"", f"the body must be {len(BODY)} bytes"),
    ],
)
def test_what_s3_would_refuse_is_refused_and_stores_nothing(
    tmp_path: Path, token: str | None, content_type: str, body: bytes, message: str
) -> None:
    real = _ticket(tmp_path)
    with pytest.raises(UploadRefused, match=message) as refused:
        receive_upload(tmp_path, token or real, content_type, body, now=NOW)
    assert refused.value.status == 403
    assert not (tmp_path / "brochures").exists()


def test_expired_tickets_are_cleared_when_new_ones_are_issued(tmp_path: Path) -> None:
    old = _ticket(tmp_path, at=NOW)
    fresh = _ticket(tmp_path, at=NOW + UPLOAD_SECONDS + 1)
    tickets = {p.stem for p in (tmp_path / ".uploads").glob("*.json")}
    assert tickets == {fresh} and old != fresh


def test_the_gateway_endpoint_answers_as_s3(tmp_path: Path) -> None:
    token = _ticket(tmp_path, at=time.time())
    receive = uploads_endpoint(tmp_path)
    put = LocalRequest("PUT", f"/{token}", {}, BODY, {"content-type": PDF})
    done = receive(put)
    assert (done.status, done.raw) == (200, b"")
    assert dict(done.headers)["ETag"].startswith('"')
    assert (tmp_path / KEY).read_bytes() == BODY
    wrong = receive(LocalRequest("PUT", f"/{token}", {}, BODY, {"content-type": "text/plain"}))
    assert wrong.status == 403
    assert receive(LocalRequest("GET", f"/{token}", {}, b"")).status == 405


def test_the_webhook_imports_neither_listings_nor_brochures() -> None:
    """They cost the Telegram webhook's cold start nothing: only the API imports them."""
    code = (
        "import sys; sys.path.insert(0, 'functions/webhook_telegram'); import app; "
        "print(sorted(m for m in sys.modules if m.startswith(('leadbot.store.properties', "
        "'leadbot.store.brochures', 'leadbot.domain.listings', 'leadbot.services.properties'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
