"""The local gateway's Cognito authorizer over HTTP, on a synthetic template and a probe handler."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from local import auth
from local.fake_telegram import FakeTelegram
from local.gateway import LocalGateway
from local.template import api_routes, load_template

SECRET = b"gateway-test-dev-token-key"
ADMIN = auth.User(sub="sub-admin", email="admin@demo.example", tenant_id="demo", role="admin")

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: local
      Auth:
        DefaultAuthorizer: Users
        AddDefaultAuthorizerToCorsPreflight: false
        Authorizers:
          Users:
            UserPoolArn: arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_local
  ProbeFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: app.echo
      Events:
        Leads:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /api/leads/{lead_id}
            Method: get
        Hook:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /hook/{tenant_id}
            Method: post
            Auth:
              Authorizer: NONE
"""

HANDLER = """
import json


def echo(event, context):
    return {"statusCode": 200, "body": json.dumps(event)}
"""


def _verify(token: str) -> Mapping[str, str]:
    return auth.apigw_claims(auth.verify(token, SECRET, datetime.now(UTC)))


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalGateway]:
    root = tmp_path_factory.mktemp("repo")
    (root / "template.yaml").write_text(TEMPLATE, encoding="utf-8")
    (root / "fn").mkdir()
    (root / "fn" / "app.py").write_text(textwrap.dedent(HANDLER), encoding="utf-8")
    routes = api_routes(load_template(root / "template.yaml"))
    with LocalGateway(routes, root, FakeTelegram(), verify_token=_verify, port=0) as gw:
        yield gw


@pytest.fixture
def client(gateway: LocalGateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.url, timeout=10) as c:
        yield c


def _token(now: datetime | None = None, secret: bytes = SECRET) -> str:
    return auth.mint(auth.id_claims(ADMIN, now or datetime.now(UTC)), secret)


def _event(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    event: dict[str, Any] = response.json()
    return event


def _assert_unauthorized(response: httpx.Response, message: str = "Unauthorized") -> None:
    assert response.status_code == 401
    assert response.json() == {"message": message}
    assert response.headers["x-amzn-ErrorType"] == "UnauthorizedException"


def test_no_token_is_401(client: httpx.Client) -> None:
    _assert_unauthorized(client.get("/api/leads/L1"))
    _assert_unauthorized(client.get("/api/leads/L1", headers={"Authorization": ""}))
    _assert_unauthorized(client.get("/api/leads/L1", headers={"Authorization": "Bearer"}))


@pytest.mark.parametrize(
    "header",
    [
        "not-a-token",
        "Bearer not.a.token",
        "Basic YWRtaW46cGFzcw==",
        "bearer {token}",  # API Gateway's prefix is "Bearer "; anything else is the token
        "Bearer  {token}",
        "{token}x",
        "Bearer {other}",
    ],
)
def test_a_bad_token_is_401(client: httpx.Client, header: str) -> None:
    value = header.format(token=_token(), other=_token(secret=b"another key"))
    _assert_unauthorized(client.get("/api/leads/L1", headers={"Authorization": value}))


def test_an_expired_token_is_401_in_api_gateways_words(client: httpx.Client) -> None:
    stale = _token(datetime.now(UTC) - timedelta(days=31))
    response = client.get("/api/leads/L1", headers={"Authorization": stale})
    _assert_unauthorized(response, "The incoming token has expired")


@pytest.mark.parametrize("prefix", ["", "Bearer "])
def test_a_good_token_puts_the_claims_where_api_gateway_does(
    client: httpx.Client, prefix: str
) -> None:
    now = datetime.now(UTC)
    token = _token(now)
    event = _event(client.get("/api/leads/L1", headers={"Authorization": prefix + token}))
    expected = auth.apigw_claims(auth.id_claims(ADMIN, now))
    assert event["requestContext"]["authorizer"] == {"claims": expected}
    claims = event["requestContext"]["authorizer"]["claims"]
    assert all(isinstance(value, str) for value in claims.values())
    assert claims["custom:tenant_id"] == "demo"
    assert claims["custom:role"] == "admin"
    assert claims["sub"] == claims["cognito:username"] == "sub-admin"
    assert claims["email"] == "admin@demo.example"
    # The header itself reaches the function, as in AWS.
    assert event["headers"]["Authorization"] == prefix + token
    assert event["pathParameters"] == {"lead_id": "L1"}


def test_a_public_route_needs_no_token_and_gets_no_claims(client: httpx.Client) -> None:
    event = _event(client.post("/hook/demo", content=b"{}"))
    assert "authorizer" not in event["requestContext"]
    # A token, even a bad one, is not looked at on a public route.
    event = _event(client.post("/hook/demo", content=b"{}", headers={"Authorization": "junk"}))
    assert "authorizer" not in event["requestContext"]


def test_an_unknown_route_is_still_missing_authentication_token(client: httpx.Client) -> None:
    for response in (client.get("/api/nowhere"), client.post("/api/leads/L1")):
        assert response.status_code in (403, 404)
        assert response.json() == {"message": "Missing Authentication Token"}


def test_only_the_token_says_who_the_caller_is(client: httpx.Client) -> None:
    response = client.get(
        "/api/leads/L1?custom:tenant_id=demo2&tenant_id=demo2",
        headers={"Authorization": _token(), "X-Tenant-Id": "demo2"},
    )
    claims = _event(response)["requestContext"]["authorizer"]["claims"]
    assert claims["custom:tenant_id"] == "demo"


def test_guarded_routes_without_a_verifier_do_not_start(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(TEMPLATE, encoding="utf-8")
    routes = api_routes(load_template(tmp_path / "template.yaml"))
    with pytest.raises(ValueError, match=re.escape("GET /api/leads/{lead_id}")):
        LocalGateway(routes, tmp_path, FakeTelegram())


def test_health_still_lists_every_route(client: httpx.Client) -> None:
    routes = client.get("/_local/health").json()["routes"]
    # Unchanged shape: a list of "METHOD path" strings.
    assert routes == ["GET /api/leads/{lead_id}", "POST /hook/{tenant_id}"]
