"""The local gateway serving the dashboard's build: files, config.json, the app's routes, and
the API's routes and /_local/* left exactly as they were."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from local.dashboard import CONTENT_SECURITY_POLICY, DashboardSite, local_config
from local.fake_telegram import FakeTelegram
from local.gateway import LocalGateway
from local.template import Route

HANDLER = """
import json


def echo(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"path": event["path"], "method": event["httpMethod"]})}
"""
INDEX = b"<!doctype html><title>LeadBot</title><div id=app></div>"


def _routes() -> list[Route]:
    def route(method: str, path: str) -> Route:
        return Route(method, path, "DashboardTestEchoFunction", "fn/", "app.echo")

    return [
        route("GET", "/api/leads"),
        route("POST", "/telegram/{tenant_id}"),
        route("GET", "/c/{token}"),
    ]


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    (dist / "assets").mkdir()
    (dist / "index.html").write_bytes(INDEX)
    (dist / "assets" / "index-abc123.js").write_text("console.log('app')")
    (dist / "assets" / "index-abc123.css").write_text("body{}")
    (dist / "assets" / "logo.svg").write_text("<svg/>")
    (dist / "robots.txt").write_text("User-agent: *")
    (dist.parent / "secret.txt").write_text("outside the build")
    return dist


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, build: Path) -> Iterator[httpx.Client]:
    root = tmp_path_factory.mktemp("repo")
    (root / "fn").mkdir()
    (root / "fn" / "app.py").write_text(textwrap.dedent(HANDLER), encoding="utf-8")
    site = DashboardSite(build, lambda: local_config(3))
    with (
        LocalGateway(
            _routes(),
            root,
            FakeTelegram(),
            {"tokens": lambda: {"admin": "t"}},
            site=site,
            verify_token=lambda token: {},
            port=0,
        ) as gateway,
        httpx.Client(base_url=gateway.url, timeout=10) as http,
    ):
        yield http


def test_the_root_and_every_app_route_answer_index_html(client: httpx.Client) -> None:
    for path in ("/", "/leads/01JABCDEFGHJKMNPQRSTVWXYZ0", "/settings", "/auth/callback?code=x"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.content == INDEX
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_build_files_have_their_types_and_hashed_assets_are_immutable(
    client: httpx.Client,
) -> None:
    expected = {
        "/assets/index-abc123.js": "text/javascript; charset=utf-8",
        "/assets/index-abc123.css": "text/css; charset=utf-8",
        "/assets/logo.svg": "image/svg+xml",
        "/robots.txt": "text/plain; charset=utf-8",
    }
    for path, content_type in expected.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Content-Type"] == content_type
    assert client.get("/assets/index-abc123.js").text == "console.log('app')"
    assert "immutable" in client.get("/assets/index-abc123.js").headers["Cache-Control"]
    assert client.get("/robots.txt").headers["Cache-Control"] == "no-cache"
    head = client.head("/assets/index-abc123.css")
    assert head.status_code == 200
    assert head.content == b""


def test_a_missing_file_is_404_never_the_app(client: httpx.Client) -> None:
    for path in ("/assets/index-old.js", "/favicon.ico", "/leads/x.png"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert b"<div id=app>" not in response.content


def test_nothing_outside_the_build_is_served(client: httpx.Client) -> None:
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert b"outside the build" not in response.content


def test_config_json_names_the_api_and_the_local_sign_in(client: httpx.Client) -> None:
    response = client.get("/config.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json() == {
        "api_base": "",
        "auth": {"mode": "local", "tokens_url": "/_local/tokens"},
        "poll_seconds": 3,
        "simulator": {
            "updates_url": "/_local/simulator/{tenant}/updates",
            "outbox_url": "/_local/outbox",
        },
    }


def test_api_routes_and_local_endpoints_are_unchanged(client: httpx.Client) -> None:
    assert client.get("/api/leads").json() == {"path": "/api/leads", "method": "GET"}
    assert client.get("/c/tok").json() == {"path": "/c/tok", "method": "GET"}
    # A route's path with another method is still API Gateway's 403, not the app.
    wrong_method = client.get("/telegram/demo")
    assert wrong_method.status_code == 403
    assert wrong_method.json() == {"message": "Missing Authentication Token"}
    for path in ("/api/nowhere", "/api", "/api/leads/export.csv"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"message": "Missing Authentication Token"}
    # Only GET and HEAD reach the site: a POST elsewhere is the API's 404.
    assert client.post("/settings", json={}).status_code == 404
    assert client.get("/_local/tokens").json() == {"admin": "t"}
    assert client.get("/_local/nowhere").status_code == 404


def test_without_a_build_the_app_says_how_to_build_it(tmp_path: Path) -> None:
    site = DashboardSite(tmp_path / "dist", lambda: local_config(3))
    status, _headers, body = site.answer("/")
    assert status == 503
    assert b"make dashboard" in body
    assert site.answer("/config.json")[0] == 200
