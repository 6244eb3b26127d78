"""PUT /_local/uploads/<token>: the local stand-in for presigned S3 PUTs of listing brochures."""

from __future__ import annotations

from pathlib import Path

from leadbot.store.brochures import MAX_BROCHURE_BYTES, UploadRefused, receive_upload
from local.gateway import LocalEndpoint, LocalRequest, LocalResponse

# S3 takes what the URL was signed for (≤ 50 MB); API Gateway's 10 MB does not apply here.
UPLOAD_BODY_LIMIT = MAX_BROCHURE_BYTES


def uploads_endpoint(folder: Path) -> LocalEndpoint:
    """Stores the body under `folder` at the key the API function registered for the token,
    answering as S3 does: 200 with an ETag, or 403 for an unknown or expired URL or a body of
    another type or size than signed."""

    def receive(request: LocalRequest) -> LocalResponse:
        if request.method != "PUT":
            return LocalResponse(405, allow="PUT")
        token = request.path.strip("/")
        content_type = request.headers.get("content-type", "")
        try:
            stored = receive_upload(folder, token, content_type, request.body)
        except UploadRefused as refused:
            return LocalResponse(refused.status, {"message": str(refused)})
        return LocalResponse(
            200, raw=b"", content_type="text/plain", headers=(("ETag", stored.etag),)
        )

    return receive
