"""template.yaml parsing: tables, routes and function environments for the local stack."""

from pathlib import Path

import pytest

from local.template import (
    Route,
    api_routes,
    function_environment,
    load_template,
    local_table_names,
    table_specs,
)

TABLES = {"TenantsTable", "IdentitiesTable", "LeadsTable", "TimelineTable", "IdempotencyTable"}


def test_short_tags_become_long_form(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "a: !Ref X\n"
        "b: !GetAtt T.StreamArn\n"
        "c: !GetAtt [T, Arn]\n"
        "d: !Sub 'x-${Env}'\n"
        "e: !Join [',', [a, b]]\n"
        "f: !If {k: v}\n",
        encoding="utf-8",
    )
    assert load_template(path) == {
        "a": {"Ref": "X"},
        "b": {"Fn::GetAtt": ["T", "StreamArn"]},
        "c": {"Fn::GetAtt": ["T", "Arn"]},
        "d": {"Fn::Sub": "x-${Env}"},
        "e": {"Fn::Join": [",", ["a", "b"]]},
        "f": {"Fn::If": {"k": "v"}},
    }


def test_every_table_is_protected_in_the_raw_template() -> None:
    resources = load_template()["Resources"]
    tables = {rid for rid, res in resources.items() if res["Type"] == "AWS::DynamoDB::Table"}
    assert tables == TABLES
    for rid in tables:
        res = resources[rid]
        props = res["Properties"]
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["DeletionProtectionEnabled"] is True
        assert props["SSESpecification"] == {"SSEEnabled": True}
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert res["DeletionPolicy"] == res["UpdateReplacePolicy"] == "Retain"
        assert "TableName" not in props


def test_table_specs() -> None:
    specs = table_specs(load_template())
    assert set(specs) == TABLES
    leads = specs["LeadsTable"].create_kwargs
    assert [k["AttributeName"] for k in leads["KeySchema"]] == ["tenant_id", "lead_id"]
    assert {g["IndexName"] for g in leads["GlobalSecondaryIndexes"]} == {
        "by_score",
        "followups_due",
        "rescore_due",
        "by_phone",
    }
    assert leads["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    assert set(leads) == {
        "KeySchema",
        "AttributeDefinitions",
        "BillingMode",
        "GlobalSecondaryIndexes",
        "StreamSpecification",
    }
    assert set(specs["TenantsTable"].create_kwargs) == {
        "KeySchema",
        "AttributeDefinitions",
        "BillingMode",
    }
    assert {rid: s.ttl_attribute for rid, s in specs.items()} == {
        "TenantsTable": None,
        "IdentitiesTable": "expires_at",
        "LeadsTable": None,
        "TimelineTable": "expires_at",
        "IdempotencyTable": "expiration",
    }


def test_local_table_names() -> None:
    names = local_table_names("dev")
    assert names["LeadsTable"] == "dev-Leads"
    assert names["IdempotencyTable"] == "dev-Idempotency"
    assert set(names) == TABLES


def test_routes_include_the_telegram_webhook() -> None:
    assert Route(
        method="POST",
        path="/telegram/{tenant_id}",
        function_id="WebhookTelegramFunction",
        code_uri="functions/webhook_telegram/",
        handler="app.handler",
    ) in api_routes(load_template())


def test_routes_include_the_catalog_link_for_get_and_head() -> None:
    routes = [r for r in api_routes(load_template()) if r.path == "/c/{token}"]
    assert {(r.method, r.function_id, r.code_uri, r.handler) for r in routes} == {
        ("GET", "ApiFunction", "functions/api/", "app.handler"),
        ("HEAD", "ApiFunction", "functions/api/", "app.handler"),
    }


def test_the_api_function_may_do_only_what_a_catalog_view_needs() -> None:
    function = load_template()["Resources"]["ApiFunction"]["Properties"]
    (policy,) = function["Policies"]
    granted = {
        statement["Sid"]: (sorted(statement["Action"]), statement["Resource"])
        for statement in policy["Statement"]
    }
    assert granted == {
        "CountCatalogViews": (["dynamodb:UpdateItem"], {"Fn::GetAtt": ["LeadsTable", "Arn"]}),
        "Timeline": (["dynamodb:BatchWriteItem"], {"Fn::GetAtt": ["TimelineTable", "Arn"]}),
        "Tenants": (["dynamodb:GetItem"], {"Fn::GetAtt": ["TenantsTable", "Arn"]}),
        "LinkSigningKey": (
            ["ssm:GetParameter"],
            {
                "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}"
                ":parameter/leadbot/${Env}/link-signing-key"
            },
        ),
    }
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])


def test_no_function_environment_refers_to_the_api_it_sits_behind() -> None:
    """A !Ref or !GetAtt of Api in a function's environment is a circular dependency."""
    template = load_template()
    functions = [
        res for res in template["Resources"].values() if res["Type"] == "AWS::Serverless::Function"
    ]
    variables = [template["Globals"]["Function"]["Environment"]["Variables"]]
    variables += [f["Properties"].get("Environment", {}).get("Variables", {}) for f in functions]
    assert "'Api'" not in repr(variables) and "${Api" not in repr(variables)


def _refs() -> dict[str, str]:
    return {
        **local_table_names("dev"),
        "Env": "dev",
        "LogLevel": "DEBUG",
        "DashboardUrl": "http://localhost:8000",
        "PublicApiUrl": "https://api.example.test",
    }


def test_function_environment_resolves_refs() -> None:
    env = function_environment(load_template(), "WebhookTelegramFunction", _refs())
    assert env["LEADS_TABLE"] == "dev-Leads"
    assert env["IDEMPOTENCY_TABLE"] == "dev-Idempotency"
    assert env["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    assert env["POWERTOOLS_SERVICE_NAME"] == "leadbot"
    assert env["SECRETS_SOURCE"] == "ssm"
    assert env["DASHBOARD_URL"] == "http://localhost:8000"
    assert env["PUBLIC_API_URL"] == "https://api.example.test"
    assert env["LINK_SIGNING_KEY_PARAM"] == "/leadbot/dev/link-signing-key"
    assert all(isinstance(v, str) for v in env.values())


def test_function_environment_missing_ref_raises() -> None:
    refs = _refs()
    del refs["LeadsTable"]
    with pytest.raises(KeyError, match="LeadsTable"):
        function_environment(load_template(), "WebhookTelegramFunction", refs)


def test_function_environment_unknown_function_raises() -> None:
    with pytest.raises(KeyError, match="NoSuchFunction"):
        function_environment(load_template(), "NoSuchFunction", _refs())
