"""Where exports too big for a Lambda response go: S3 (presigned links) or a local folder."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

LINK_SECONDS = 15 * 60


@dataclass(frozen=True)
class StoredExport:
    url: str
    expires_in: int


class ExportStore(Protocol):
    def put(self, tenant_id: str, filename: str, body: bytes, content_type: str) -> StoredExport:
        """Keep `body` and answer a link that downloads it as `filename` for LINK_SECONDS."""
        ...


class S3Exports:
    """A private bucket (SSE, objects expire after a day); links are presigned GETs.

    The key carries a random token, so one export never overwrites another, and the link, a
    bearer credential like any presigned URL, stops working after LINK_SECONDS.
    """

    def __init__(self, bucket: str, region: str) -> None:
        self._bucket = bucket
        self._region = region
        self._client: Any = None

    def _s3(self) -> Any:
        if self._client is None:  # only an export that needs it pays for the client
            import boto3
            from botocore.config import Config

            # SigV4 links (X-Amz-Expires): every region accepts them, some only them.
            config = Config(signature_version="s3v4")
            self._client = boto3.client("s3", region_name=self._region, config=config)
        return self._client

    def put(self, tenant_id: str, filename: str, body: bytes, content_type: str) -> StoredExport:
        key = f"exports/{tenant_id}/{secrets.token_urlsafe(16)}/{filename}"
        disposition = f'attachment; filename="{filename}"'
        s3 = self._s3()
        s3.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            ContentDisposition=disposition,
            ServerSideEncryption="AES256",
        )
        url = s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self._bucket, "Key": key},
            ExpiresIn=LINK_SECONDS,
        )
        return StoredExport(url=str(url), expires_in=LINK_SECONDS)


class LocalExports:
    """The local stack has no S3: files under its data folder, served by the local gateway at
    `<url_base>/<token>/<filename>` while younger than LINK_SECONDS (local.exports)."""

    def __init__(self, folder: Path, url_base: str) -> None:
        self._folder = folder
        self._url_base = url_base.rstrip("/")

    def put(self, tenant_id: str, filename: str, body: bytes, content_type: str) -> StoredExport:
        token = secrets.token_urlsafe(16)
        target = self._folder / token / filename
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        return StoredExport(url=f"{self._url_base}/{token}/{filename}", expires_in=LINK_SECONDS)


def local_export(folder: Path, token: str, filename: str, now: float | None = None) -> Path | None:
    """The file a local export link names, if it exists and has not expired."""
    if not token or "/" in token or token.startswith(".") or "/" in filename:
        return None
    path = folder / token / filename
    if not path.is_file() or path.resolve().parent.parent != folder.resolve():
        return None
    if (now if now is not None else time.time()) - path.stat().st_mtime > LINK_SECONDS:
        return None
    return path
