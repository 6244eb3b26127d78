"""PUT /_local/uploads/<token>: the local stand-in for presigned S3 PUTs of listing brochures,
and for the S3 event notifications that follow them (the functions' S3 events)."""

from __future__ import annotations

import sys
import threading
import traceback
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from leadbot.store.brochures import MAX_BROCHURE_BYTES, UploadRefused, receive_upload
from local.gateway import (
    REGION,
    LocalEndpoint,
    LocalRequest,
    LocalResponse,
    lambda_context,
    load_handler,
)
from local.template import S3Notification

# S3 takes what the URL was signed for (≤ 50 MB); API Gateway's 10 MB does not apply here.
UPLOAD_BODY_LIMIT = MAX_BROCHURE_BYTES
# The name the brochures bucket goes by in the events (the folder stands in for it).
LOCAL_BUCKET = "leadbot-local-brochures"
# As long as Lambda would let the function run (BrochureIngestFunction's Timeout).
HANDLER_TIMEOUT_S = 300.0

Notify = Callable[[str, int, str], None]


def _log(message: str) -> None:
    print(f"[uploads] {message}", file=sys.stderr, flush=True)


def uploads_endpoint(folder: Path, notify: Notify | None = None) -> LocalEndpoint:
    """Stores the body under `folder` at the key the API function registered for the token,
    answering as S3 does: 200 with an ETag, or 403 for an unknown or expired URL or a body of
    another type or size than signed. Then `notify(key, size, etag)`, as S3 notifies."""

    def receive(request: LocalRequest) -> LocalResponse:
        if request.method != "PUT":
            return LocalResponse(405, allow="PUT")
        token = request.path.strip("/")
        content_type = request.headers.get("content-type", "")
        try:
            stored = receive_upload(folder, token, content_type, request.body)
        except UploadRefused as refused:
            return LocalResponse(refused.status, {"message": str(refused)})
        if notify is not None:
            notify(stored.key, len(request.body), stored.etag)
        return LocalResponse(
            200, raw=b"", content_type="text/plain", headers=(("ETag", stored.etag),)
        )

    return receive


def object_created_event(
    bucket: str, key: str, size: int, etag: str, at: datetime, event_name: str = "Put"
) -> dict[str, Any]:
    """An S3 event notification (version 2.1) for one object created, as S3 sends it to Lambda:
    the key URL-encoded (a space as "+"), the ETag without quotes."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                "eventName": f"ObjectCreated:{event_name}",
                "userIdentity": {"principalId": "AWS:LOCAL"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {
                    "x-amz-request-id": uuid.uuid4().hex[:16].upper(),
                    "x-amz-id-2": uuid.uuid4().hex,
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "local",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "LOCAL"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": {
                        "key": quote_plus(key, safe="/"),
                        "size": size,
                        "eTag": etag.strip('"'),
                        "sequencer": f"{int(at.timestamp() * 1e6):016X}",
                    },
                },
            }
        ]
    }


class UploadNotifier:
    """S3's notifications of the brochures bucket, locally: each upload invokes the functions
    whose S3 event wants its key with a real-shaped event, in a thread of its own (S3 answers
    the PUT at once; the read takes seconds). One at a time, in upload order; a failure is
    logged and counted, never raised into the gateway."""

    def __init__(self, notifications: Sequence[S3Notification], repo_root: Path) -> None:
        self.notifications = list(notifications)
        self.repo_root = repo_root
        self._serial = threading.Lock()
        self._stats_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.stats = {"invocations": 0, "failures": 0}

    def __call__(self, key: str, size: int, etag: str) -> None:
        wanted = [n for n in self.notifications if n.wants("s3:ObjectCreated:Put", key)]
        if not wanted:
            return
        event = object_created_event(LOCAL_BUCKET, key, size, etag, datetime.now(UTC))
        thread = threading.Thread(
            target=self._invoke, args=(wanted, event), name="s3-notification", daemon=True
        )
        with self._stats_lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def wait(self, timeout: float = HANDLER_TIMEOUT_S) -> None:
        """Until the notifications sent so far have been handled (tests; a clean stop)."""
        with self._stats_lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)

    def _invoke(self, wanted: list[S3Notification], event: dict[str, Any]) -> None:
        with self._serial:
            for notification in wanted:
                self._count("invocations")
                try:
                    handler = load_handler(self.repo_root, notification)
                    handler(event, lambda_context(notification.function_id, HANDLER_TIMEOUT_S))
                except Exception:
                    self._count("failures")
                    key = event["Records"][0]["s3"]["object"]["key"]
                    _log(f"{notification.function_id} failed on {key}:\n{traceback.format_exc()}")

    def _count(self, name: str) -> None:
        with self._stats_lock:
            self.stats[name] += 1
