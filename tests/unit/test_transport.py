"""The urllib3 transport behaves as httpx's own would for the channel clients."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from leadbot.channels.transport import Urllib3Transport


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/slow":
            time.sleep(1.0)
        answer = json.dumps(
            {"path": self.path, "body": json.loads(body or b"null"), "agent": self.headers["X-Who"]}
        ).encode()
        zipped = self.path == "/gzip"
        payload = gzip.compress(answer) if zipped else answer
        self.send_response(429 if self.path == "/busy" else 200)
        self.send_header("Content-Type", "application/json")
        if zipped:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _client(timeout: float = 5.0) -> httpx.Client:
    return httpx.Client(timeout=httpx.Timeout(timeout), transport=Urllib3Transport(verify=False))


@pytest.mark.parametrize("path", ["/plain", "/gzip"])
def test_json_goes_and_comes_back(server: str, path: str) -> None:
    with _client() as client:
        answer = client.post(f"{server}{path}", json={"chat_id": 7}, headers={"X-Who": "bot"})
    assert answer.status_code == 200
    assert answer.json() == {"path": path, "body": {"chat_id": 7}, "agent": "bot"}


def test_error_statuses_are_answers_not_exceptions(server: str) -> None:
    with _client() as client:
        answer = client.post(f"{server}/busy", json={}, headers={"X-Who": "bot"})
    assert answer.status_code == 429 and answer.json()["path"] == "/busy"


def test_a_slow_answer_is_httpx_read_timeout(server: str) -> None:
    with _client(timeout=0.2) as client, pytest.raises(httpx.ReadTimeout):
        client.post(f"{server}/slow", json={}, headers={"X-Who": "bot"})


def test_nobody_listening_is_httpx_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    with _client() as client, pytest.raises(httpx.ConnectError):
        client.post(f"http://127.0.0.1:{port}/", json={})
