"""Where listing brochures are kept: S3 (uploads by presigned PUT), or a local folder on the
local stack.

The API never carries a brochure's bytes (a Lambda request stops at 6 MB): it hands the admin's
browser a short-lived URL that accepts one PDF of the declared type and size under the key
`brochures/<tenant>/<property>/<brochure_id>.pdf`. Ingestion (ops' CLI) puts the PDF it read
under the same key; an upload is read from there (`get`) when S3 says it arrived.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

UPLOAD_SECONDS = 15 * 60
PDF = "application/pdf"
MAX_BROCHURE_BYTES = 50 * 1024 * 1024
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass(frozen=True)
class UploadTicket:
    """How to upload: send `method` to `url` with exactly these headers and the declared size."""

    url: str
    method: str
    headers: dict[str, str]
    expires_in: int


class BrochureStore(Protocol):
    def upload(self, key: str, content_type: str, size: int) -> UploadTicket:
        """A URL that accepts `size` bytes of `content_type` at `key` for UPLOAD_SECONDS."""
        ...

    def put(self, key: str, data: bytes) -> str | None:
        """Store a PDF at `key`; the version it became (S3 keeps every version), if any."""
        ...

    def delete(self, key: str, version: str | None = None) -> None:
        """Remove what `put` stored: that version for good, not hidden behind a delete marker."""
        ...

    def get(self, key: str) -> bytes:
        """The PDF now at `key`; BrochureMissing if there is none."""
        ...


class BrochureMissing(LookupError):
    """No PDF at the key (deleted, or never uploaded)."""


_KEY = re.compile(
    r"^brochures/(?P<tenant>[^/]+)/(?P<property>[^/]+)/(?P<brochure>[0-9A-HJKMNP-TV-Z]{26})\.pdf$"
)


@dataclass(frozen=True)
class BrochureKey:
    tenant_id: str
    property_id: str
    brochure_id: str


def brochure_key(tenant_id: str, property_id: str, brochure_id: str) -> str:
    return f"brochures/{tenant_id}/{property_id}/{brochure_id}.pdf"


def parse_brochure_key(key: str) -> BrochureKey | None:
    """Whose brochure is at `key`, if `key` is one `brochure_key` makes (a ULID brochure id);
    None for anything else in the bucket."""
    found = _KEY.match(key)
    if found is None or ".." in (found["tenant"], found["property"]):
        return None
    return BrochureKey(found["tenant"], found["property"], found["brochure"])


class S3Brochures:
    """A private bucket (SSE, TLS only); uploads are SigV4 presigned PUTs.

    Content-Type and Content-Length are signed, so S3 refuses another type or size; the URL is
    a bearer credential, and stops working after UPLOAD_SECONDS.
    """

    def __init__(self, bucket: str, region: str) -> None:
        self._bucket = bucket
        self._region = region
        self._client: Any = None

    def _s3(self) -> Any:
        if self._client is None:  # only an upload pays for the client
            import boto3
            from botocore.config import Config

            config = Config(signature_version="s3v4")
            self._client = boto3.client("s3", region_name=self._region, config=config)
        return self._client

    def upload(self, key: str, content_type: str, size: int) -> UploadTicket:
        params = {
            "Bucket": self._bucket,
            "Key": key,
            "ContentType": content_type,
            "ContentLength": size,
        }
        url = self._s3().generate_presigned_url(
            "put_object", Params=params, ExpiresIn=UPLOAD_SECONDS, HttpMethod="PUT"
        )
        return UploadTicket(
            url=str(url),
            method="PUT",
            headers={"Content-Type": content_type},
            expires_in=UPLOAD_SECONDS,
        )

    def put(self, key: str, data: bytes) -> str | None:
        answer = self._s3().put_object(Bucket=self._bucket, Key=key, Body=data, ContentType=PDF)
        version = answer.get("VersionId")
        return str(version) if version and version != "null" else None

    def delete(self, key: str, version: str | None = None) -> None:
        extra = {"VersionId": version} if version else {}
        self._s3().delete_object(Bucket=self._bucket, Key=key, **extra)

    def get(self, key: str) -> bytes:
        s3 = self._s3()
        try:
            answer = s3.get_object(Bucket=self._bucket, Key=key)
        except s3.exceptions.NoSuchKey:
            raise BrochureMissing(key) from None
        return bytes(answer["Body"].read())


class LocalBrochures:
    """The local stack has no S3: `folder` stands in for the bucket. Each upload URL is
    `<url_base>/<token>` with a random token registered in `<folder>/.uploads/<token>.json`
    (key, type, size, expiry); the local gateway's PUT stores the body at `<folder>/<key>`
    (see `receive_upload` and local.uploads)."""

    def __init__(self, folder: Path, url_base: str, clock: Callable[[], float] = time.time) -> None:
        self._folder = folder
        self._url_base = url_base.rstrip("/")
        self._clock = clock

    def upload(self, key: str, content_type: str, size: int) -> UploadTicket:
        tickets = self._folder / ".uploads"
        tickets.mkdir(parents=True, exist_ok=True)
        now = self._clock()
        for old in tickets.glob("*.json"):  # expired ones serve nobody
            if _ticket(old).get("expires_at", 0) <= now:
                old.unlink(missing_ok=True)
        token = secrets.token_urlsafe(24)
        ticket = {
            "key": key,
            "content_type": content_type,
            "size": size,
            "expires_at": now + UPLOAD_SECONDS,
        }
        (tickets / f"{token}.json").write_text(json.dumps(ticket), encoding="utf-8")
        return UploadTicket(
            url=f"{self._url_base}/{token}",
            method="PUT",
            headers={"Content-Type": content_type},
            expires_in=UPLOAD_SECONDS,
        )

    def put(self, key: str, data: bytes) -> str | None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(data)
        partial.replace(path)  # never a half-written PDF under the key
        return None

    def delete(self, key: str, version: str | None = None) -> None:
        self._path(key).unlink(missing_ok=True)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise BrochureMissing(key) from None

    def _path(self, key: str) -> Path:
        path = (self._folder / key).resolve()
        if not path.is_relative_to(self._folder.resolve()):
            raise ValueError(f"{key!r} is outside the brochures folder")
        return path


class UploadRefused(Exception):
    """A local upload S3 would refuse too; `status` is what S3 answers (403 for a bad URL)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ReceivedUpload:
    key: str
    path: Path
    etag: str


def receive_upload(
    folder: Path, token: str, content_type: str, body: bytes, now: float | None = None
) -> ReceivedUpload:
    """Store the body of a PUT to a local upload URL, as S3 would a presigned PUT: while the
    URL is valid (again and again, overwriting), with the signed type and size only."""
    path = folder / ".uploads" / f"{token}.json"
    ticket = _ticket(path) if _TOKEN.match(token) else {}
    if not ticket:
        raise UploadRefused(403, "no such upload URL")
    if (now if now is not None else time.time()) >= float(ticket["expires_at"]):
        path.unlink(missing_ok=True)
        raise UploadRefused(403, "the upload URL has expired")
    if content_type.split(";")[0].strip().lower() != ticket["content_type"]:
        raise UploadRefused(403, f"Content-Type must be {ticket['content_type']}, as signed")
    if len(body) != int(ticket["size"]):
        raise UploadRefused(403, f"the body must be {ticket['size']} bytes, as signed")
    target = (folder / ticket["key"]).resolve()
    if not target.is_relative_to(folder.resolve()):
        raise UploadRefused(403, "no such upload URL")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)
    etag = hashlib.md5(body, usedforsecurity=False).hexdigest()
    return ReceivedUpload(key=str(ticket["key"]), path=target, etag=f'"{etag}"')


def _ticket(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
