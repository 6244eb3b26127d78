"""GET /_local/exports/<token>/<filename>: the local stand-in for presigned S3 export links."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from leadbot.store.exports import local_export
from local.gateway import LocalEndpoint, LocalRequest, LocalResponse

_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def exports_endpoint(folder: Path) -> LocalEndpoint:
    """Serves what the API function stored in `folder` while the link is valid (15 minutes,
    as a presigned URL); anything else is a 404. Like a presigned URL, the link is the only
    credential: its token is random."""

    def serve(request: LocalRequest) -> LocalResponse:
        if request.method != "GET":
            return LocalResponse(405, allow="GET")
        token, _, name = request.path.strip("/").partition("/")
        path = local_export(folder, token, name)
        if path is None:
            return LocalResponse(404, {"message": "no such export, or its link has expired"})
        kind = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
        return LocalResponse(
            200,
            raw=path.read_bytes(),
            content_type=kind or "application/octet-stream",
            headers=(("Content-Disposition", f'attachment; filename="{path.name}"'),),
        )

    return serve
