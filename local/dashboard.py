"""The dashboard's static build (dashboard/dist) and its config.json, served as CloudFront would."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import unquote

Headers = list[tuple[str, str]]

CONFIG_PATH: Final = "/config.json"
# What the build holds; anything else goes out as bytes to download, never sniffed.
CONTENT_TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
}
# The app's own files only: no inline script or style, API calls to this origin, photos of
# listings from anywhere over https.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
_SECURITY: Final = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
]
# Vite names what it writes under assets/ by content hash: a new build is a new name.
_IMMUTABLE: Final = "public, max-age=31536000, immutable"
_NOT_BUILT: Final = (
    b"<!doctype html><html lang=en><meta charset=utf-8><title>LeadBot</title>"
    b"<p>The dashboard is not built yet: run <code>make dashboard</code>.</p></html>"
)


@dataclass(frozen=True)
class DashboardSite:
    """`root` is the build folder; `config` gives config.json's content at each request."""

    root: Path
    config: Callable[[], Mapping[str, object]]

    @staticmethod
    def serves(path: str) -> bool:
        """Paths the site may answer: everything but the API's."""
        return path != "/api" and not path.startswith("/api/")

    def answer(self, path: str) -> tuple[int, Headers, bytes]:
        """A file of the build, config.json, or index.html for the app's own routes."""
        if path == CONFIG_PATH:
            body = json.dumps(dict(self.config())).encode()
            return 200, [("Content-Type", "application/json"), ("Cache-Control", "no-store")], body
        root = self.root.resolve()
        relative = unquote(path).lstrip("/")
        target = (root / relative).resolve()
        if not target.is_relative_to(root):
            return _not_found()
        if relative and target.is_file():
            content_type = CONTENT_TYPES.get(target.suffix.lower(), "application/octet-stream")
            cache = _IMMUTABLE if relative.startswith("assets/") else "no-cache"
            headers = [("Content-Type", content_type), ("Cache-Control", cache), *_SECURITY]
            return 200, headers, target.read_bytes()
        if "." in relative.rsplit("/", 1)[-1]:
            # A file that is not there (a stale asset name): never the app's HTML in its place.
            return _not_found()
        index = root / "index.html"
        if not index.is_file():
            return 503, [("Content-Type", "text/html; charset=utf-8"), *_SECURITY], _NOT_BUILT
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-cache")]
        return 200, [*headers, *_SECURITY], index.read_bytes()


def local_config(poll_seconds: int) -> dict[str, object]:
    """config.json on the local stack: the API on the same origin, the demo users' tokens, and
    the chat simulator (local.simulator), which exists nowhere else."""
    from local.simulator import OUTBOX_URL, UPDATES_URL

    return {
        "api_base": "",
        "auth": {"mode": "local", "tokens_url": "/_local/tokens"},
        "poll_seconds": poll_seconds,
        "simulator": {"updates_url": UPDATES_URL, "outbox_url": OUTBOX_URL},
    }


def _not_found() -> tuple[int, Headers, bytes]:
    return 404, [("Content-Type", "text/plain; charset=utf-8"), *_SECURITY], b"Not Found"
