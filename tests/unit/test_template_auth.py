"""template.yaml's authentication: the user pool, its dashboard client and who guards each route."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from local.template import (
    CognitoAuthorizer,
    TemplateError,
    api_routes,
    load_template,
)

PUBLIC = {
    ("POST", "/telegram/{tenant_id}"),
    # Meta proves itself with the verify token (GET) and the body's signature (POST).
    ("GET", "/whatsapp"),
    ("POST", "/whatsapp"),
    ("GET", "/c/{token}"),
    ("HEAD", "/c/{token}"),
}


def _api_events(template: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (rid, name, event["Properties"])
        for rid, res in template["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function"
        for name, event in (res["Properties"].get("Events") or {}).items()
        if event["Type"] == "Api"
    ]


def test_the_api_requires_a_cognito_user_by_default() -> None:
    api = load_template()["Resources"]["Api"]["Properties"]
    assert api["Auth"] == {
        "DefaultAuthorizer": "CognitoAuthorizer",
        "AddDefaultAuthorizerToCorsPreflight": False,
        "Authorizers": {"CognitoAuthorizer": {"UserPoolArn": {"Fn::GetAtt": ["UserPool", "Arn"]}}},
    }


def test_every_api_event_is_on_the_api_and_either_cognito_or_explicitly_public() -> None:
    for rid, name, props in _api_events(load_template()):
        where = f"{rid}.Events.{name}"
        # On the implicit ServerlessRestApi an event would have no authorizer at all.
        assert props.get("RestApiId") == {"Ref": "Api"}, where
        authorizer = (props.get("Auth") or {}).get("Authorizer", "CognitoAuthorizer")
        assert authorizer in ("CognitoAuthorizer", "NONE"), where
        assert "AuthorizationScopes" not in (props.get("Auth") or {}), where


def test_only_the_webhooks_and_catalog_links_are_public() -> None:
    routes = api_routes(load_template())
    public = {(r.method, r.path) for r in routes if r.authorizer is None}
    assert public == PUBLIC
    guarded = [r for r in routes if (r.method, r.path) not in PUBLIC]
    assert all(r.authorizer == CognitoAuthorizer("CognitoAuthorizer") for r in guarded)


def test_users_cannot_write_their_tenant_or_role() -> None:
    resources = load_template()["Resources"]
    client = resources["DashboardUserPoolClient"]["Properties"]
    assert client["UserPoolId"] == {"Ref": "UserPool"}
    assert client["WriteAttributes"] == ["email"]
    assert {"custom:tenant_id", "custom:role"} <= set(client["ReadAttributes"])
    assert client["GenerateSecret"] is False
    assert set(client["ExplicitAuthFlows"]) == {"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}


def test_the_user_pool_signs_in_by_email_and_carries_tenant_and_role() -> None:
    pool = load_template()["Resources"]["UserPool"]
    assert pool["DeletionPolicy"] == pool["UpdateReplacePolicy"] == "Retain"
    props = pool["Properties"]
    assert props["DeletionProtection"] == "ACTIVE"
    assert props["UsernameAttributes"] == ["email"]
    assert props["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}
    assert props["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    schema = {a["Name"]: a for a in props["Schema"]}
    assert schema["tenant_id"]["AttributeDataType"] == "String"
    assert schema["tenant_id"]["Mutable"] is False
    assert schema["role"]["AttributeDataType"] == "String"


def test_the_user_pool_and_client_ids_are_outputs() -> None:
    outputs = load_template()["Outputs"]
    assert outputs["UserPoolId"]["Value"] == {"Ref": "UserPool"}
    assert outputs["DashboardUserPoolClientId"]["Value"] == {"Ref": "DashboardUserPoolClient"}


# -- how api_routes reads Auth, on a synthetic template --------------------------------------


def _template(api_auth: dict[str, Any] | None, **events: dict[str, Any]) -> dict[str, Any]:
    api: dict[str, Any] = {"Type": "AWS::Serverless::Api", "Properties": {"StageName": "x"}}
    if api_auth is not None:
        api["Properties"]["Auth"] = api_auth
    return {
        "Resources": {
            "Api": api,
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "CodeUri": "fn/",
                    "Handler": "app.handler",
                    "Events": {
                        name: {"Type": "Api", "Properties": {"Method": "get", **props}}
                        for name, props in events.items()
                    },
                },
            },
        }
    }


COGNITO = {
    "DefaultAuthorizer": "Users",
    "Authorizers": {"Users": {"UserPoolArn": "arn:aws:cognito-idp:x:1:userpool/p"}},
}
ON_API = {"RestApiId": {"Ref": "Api"}}


def _authorizers(template: dict[str, Any]) -> dict[str, CognitoAuthorizer | None]:
    return {r.path: r.authorizer for r in api_routes(template)}


def test_the_default_authorizer_guards_events_that_do_not_opt_out() -> None:
    template = _template(
        COGNITO,
        Guarded={**ON_API, "Path": "/a"},
        Public={**ON_API, "Path": "/b", "Auth": {"Authorizer": "NONE"}},
        Named={**ON_API, "Path": "/c", "Auth": {"Authorizer": "Users"}},
        Implicit={"Path": "/d"},
    )
    assert _authorizers(template) == {
        "/a": CognitoAuthorizer("Users"),
        "/b": None,
        "/c": CognitoAuthorizer("Users"),
        "/d": None,
    }


def test_without_a_default_authorizer_only_named_events_are_guarded() -> None:
    auth = {"Authorizers": COGNITO["Authorizers"]}
    template = _template(
        auth,
        Open={**ON_API, "Path": "/a"},
        Named={**ON_API, "Path": "/b", "Auth": {"Authorizer": "Users"}},
    )
    assert _authorizers(template) == {"/a": None, "/b": CognitoAuthorizer("Users")}
    assert _authorizers(_template(None, Open={**ON_API, "Path": "/a"})) == {"/a": None}


def test_an_identity_header_is_where_the_token_is_read() -> None:
    auth = copy.deepcopy(COGNITO)
    auth["Authorizers"]["Users"]["Identity"] = {"Header": "X-Id-Token"}
    template = _template(auth, Guarded={**ON_API, "Path": "/a"})
    assert _authorizers(template) == {"/a": CognitoAuthorizer("Users", header="X-Id-Token")}


@pytest.mark.parametrize(
    ("auth", "event_auth", "message"),
    [
        (COGNITO, {"Authorizer": "Nobody"}, "'Nobody' is not in its Api's Auth.Authorizers"),
        (COGNITO, {"Authorizer": "AWS_IAM"}, "AWS_IAM"),
        (COGNITO, {"AuthorizationScopes": ["a/b"]}, "AuthorizationScopes"),
        (
            {"DefaultAuthorizer": "Fn", "Authorizers": {"Fn": {"FunctionArn": "arn:x"}}},
            {},
            "not a Cognito authorizer",
        ),
        (
            {
                "DefaultAuthorizer": "Users",
                "Authorizers": {"Users": {"UserPoolArn": "arn:x", "AuthorizationScopes": ["s"]}},
            },
            {},
            "AuthorizationScopes",
        ),
    ],
)
def test_authorizers_the_local_stack_cannot_run_are_refused(
    auth: dict[str, Any], event_auth: dict[str, Any], message: str
) -> None:
    template = _template(auth, Guarded={**ON_API, "Path": "/a", "Auth": event_auth})
    with pytest.raises(TemplateError, match=message):
        api_routes(template)


def test_an_event_on_an_unknown_api_is_refused() -> None:
    template = _template(COGNITO, Lost={"RestApiId": {"Ref": "Elsewhere"}, "Path": "/a"})
    with pytest.raises(TemplateError, match="Elsewhere is not an AWS::Serverless::Api"):
        api_routes(template)
