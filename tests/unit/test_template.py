"""template.yaml parsing: tables, routes, streams, schedules, environments for the local stack."""

import copy
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from local.template import (
    Route,
    StreamSource,
    TemplateError,
    api_routes,
    function_environment,
    load_template,
    local_table_names,
    parse_rate,
    schedules,
    stream_sources,
    table_specs,
)

REPO = Path(__file__).resolve().parents[2]

TABLES = {
    "TenantsTable",
    "IdentitiesTable",
    "LeadsTable",
    "TimelineTable",
    "IdempotencyTable",
    "BrokersTable",
    "DealsTable",
    "PropertiesTable",
    "KnowledgeTable",
}


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
        "open_by_broker",
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
        "BrokersTable": None,
        "DealsTable": None,
        "PropertiesTable": None,
        "KnowledgeTable": None,
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


def test_routes_include_the_whatsapp_webhook_for_meta_s_check_and_its_bodies() -> None:
    routes = [r for r in api_routes(load_template()) if r.path == "/whatsapp"]
    assert {(r.method, r.function_id, r.code_uri, r.handler) for r in routes} == {
        ("GET", "WebhookWhatsAppFunction", "functions/webhook_whatsapp/", "app.handler"),
        ("POST", "WebhookWhatsAppFunction", "functions/webhook_whatsapp/", "app.handler"),
    }
    outputs = load_template()["Outputs"]
    assert outputs["WhatsAppWebhookUrl"]["Value"]["Fn::Sub"].endswith("/${Env}/whatsapp")


def test_the_whatsapp_webhook_may_not_scan_delete_leads_or_change_tenants() -> None:
    function = load_template()["Resources"]["WebhookWhatsAppFunction"]["Properties"]
    (policy,) = function["Policies"]
    granted = {s["Sid"]: sorted(s["Action"]) for s in policy["Statement"]}
    actions = {action for allowed in granted.values() for action in allowed}
    assert not any(a.endswith(("Scan", "BatchGetItem")) for a in actions)
    assert granted["Tenants"] == ["dynamodb:GetItem"]
    assert "dynamodb:DeleteItem" not in granted["Leads"] + granted["Identities"]
    # Only Powertools releases an idempotency record it could not complete.
    assert [sid for sid, allowed in granted.items() if "dynamodb:DeleteItem" in allowed] == [
        "Idempotency"
    ]


def test_routes_include_the_catalog_link_for_get_and_head() -> None:
    routes = [r for r in api_routes(load_template()) if r.path == "/c/{token}"]
    assert {(r.method, r.function_id, r.code_uri, r.handler) for r in routes} == {
        ("GET", "ApiFunction", "functions/api/", "app.handler"),
        ("HEAD", "ApiFunction", "functions/api/", "app.handler"),
    }


def test_the_api_function_may_read_and_update_its_tables_never_scan_and_delete_only_a_lead() -> (
    None
):
    """Deleting is only what forgetting a lead (DELETE /api/leads/{id}, admins) takes: the lead,
    its identities (found on by_lead) and its Timeline entries."""
    function = load_template()["Resources"]["ApiFunction"]["Properties"]
    (policy,) = function["Policies"]
    granted = {
        statement["Sid"]: (sorted(statement["Action"]), statement["Resource"])
        for statement in policy["Statement"]
    }
    assert granted == {
        "Leads": (
            [
                "dynamodb:DeleteItem",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:Query",
                "dynamodb:UpdateItem",
            ],
            [
                {"Fn::GetAtt": ["LeadsTable", "Arn"]},
                {"Fn::Sub": "${LeadsTable.Arn}/index/by_score"},
                {"Fn::Sub": "${LeadsTable.Arn}/index/by_phone"},
            ],
        ),
        "Identities": (
            [
                "dynamodb:BatchGetItem",
                "dynamodb:DeleteItem",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:Query",
            ],
            [
                {"Fn::GetAtt": ["IdentitiesTable", "Arn"]},
                {"Fn::Sub": "${IdentitiesTable.Arn}/index/by_lead"},
            ],
        ),
        "Timeline": (
            [
                "dynamodb:BatchWriteItem",
                "dynamodb:DeleteItem",
                "dynamodb:PutItem",
                "dynamodb:Query",
            ],
            {"Fn::GetAtt": ["TimelineTable", "Arn"]},
        ),
        "Tenants": (
            ["dynamodb:GetItem", "dynamodb:UpdateItem"],
            {"Fn::GetAtt": ["TenantsTable", "Arn"]},
        ),
        "Brokers": (
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"],
            {"Fn::GetAtt": ["BrokersTable", "Arn"]},
        ),
        "Deals": (
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"],
            {"Fn::GetAtt": ["DealsTable", "Arn"]},
        ),
        # Listings are archived by a versioned PutItem, never deleted.
        "Properties": (
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
            {"Fn::GetAtt": ["PropertiesTable", "Arn"]},
        ),
        # Brochure chunks are read (questions); ingestion is ops' CLI, not a function.
        "Knowledge": (["dynamodb:Query"], {"Fn::GetAtt": ["KnowledgeTable", "Arn"]}),
        "TenantSecrets": (
            ["ssm:GetParameter"],
            {
                "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}"
                ":parameter/leadbot/${Env}/*"
            },
        ),
        "Exports": (
            ["s3:GetObject", "s3:PutObject"],
            {"Fn::Sub": "${ExportsBucket.Arn}/exports/*"},
        ),
        # Only what signing presigned brochure PUTs needs: no reading, listing or deleting.
        "Brochures": (["s3:PutObject"], {"Fn::Sub": "${BrochuresBucket.Arn}/brochures/*"}),
    }
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])


def test_every_route_of_the_api_is_an_event_of_its_function() -> None:
    """A route only the resolver knows would be a 403 from API Gateway in AWS."""
    spec = json.loads((REPO / "openapi.json").read_text(encoding="utf-8"))
    documented = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
    }
    routes = {
        (r.method, r.path) for r in api_routes(load_template()) if r.function_id == "ApiFunction"
    }
    assert documented <= routes
    assert {("GET", "/api/settings"), ("PATCH", "/api/settings")} <= documented
    assert ("POST", "/api/settings/admin-code") in documented


def test_exports_bucket_is_private_encrypted_and_short_lived() -> None:
    template = load_template()
    bucket = template["Resources"]["ExportsBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    (sse,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert (rule["Status"], rule["ExpirationInDays"]) == ("Enabled", 1)
    api = template["Resources"]["Api"]["Properties"]
    assert api["BinaryMediaTypes"] == [
        "application~1vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ]
    routes = {(r.method, r.path) for r in api_routes(template) if r.function_id == "ApiFunction"}
    assert {("GET", "/api/leads/export"), ("GET", "/api/stats")} <= routes


def test_brochures_bucket_is_private_encrypted_versioned_tls_only_and_kept() -> None:
    resources = load_template()["Resources"]
    bucket = resources["BrochuresBucket"]
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"),
        True,
    )
    (sse,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert "LifecycleConfiguration" not in props  # brochures do not expire
    policy = resources["BrochuresBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "BrochuresBucket"}
    (tls,) = policy["PolicyDocument"]["Statement"]
    assert (tls["Effect"], tls["Principal"], tls["Action"]) == ("Deny", "*", "s3:*")
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert tls["Resource"] == [
        {"Fn::GetAtt": ["BrochuresBucket", "Arn"]},
        {"Fn::Sub": "${BrochuresBucket.Arn}/*"},
    ]
    api = resources["ApiFunction"]["Properties"]
    assert api["Environment"]["Variables"]["BROCHURES_BUCKET"] == {"Ref": "BrochuresBucket"}


def test_every_function_knows_the_properties_table_the_api_and_ingestion_write_it() -> None:
    template = load_template()
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["PROPERTIES_TABLE"] == {"Ref": "PropertiesTable"}
    granted = {
        rid
        for rid, res in template["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function"
        and "PropertiesTable" in repr(res["Properties"].get("Policies"))
    }
    assert granted == {"ApiFunction", "GhostSweepFunction", "BrochureIngestFunction"}
    # The follow-ups show listings (campaign steps, new-listing matches): they only read them.
    # Reading an upload checks the brochure id is the listing's, then saves a new version.
    for function, actions in (
        ("GhostSweepFunction", ["dynamodb:GetItem", "dynamodb:Query"]),
        ("BrochureIngestFunction", ["dynamodb:GetItem", "dynamodb:PutItem"]),
    ):
        statements = template["Resources"][function]["Properties"]["Policies"][0]["Statement"]
        [listings] = [s for s in statements if "PropertiesTable" in repr(s["Resource"])]
        assert sorted(listings["Action"]) == actions


def test_a_listing_added_reaches_the_follow_ups_function_by_the_properties_stream() -> None:
    template = load_template()
    table = template["Resources"]["PropertiesTable"]["Properties"]
    assert table["StreamSpecification"] == {"StreamViewType": "KEYS_ONLY"}
    [source] = [s for s in stream_sources(template) if s.table_id == "PropertiesTable"]
    assert (source.function_id, source.event_name) == ("GhostSweepFunction", "NewListings")
    assert source.report_batch_item_failures and source.on_failure == "ListingMatchesDLQ"
    assert source.max_retries > 0


def test_the_crm_sync_consumes_leads_and_deals_apart_from_scoring_and_parks_in_its_dlq() -> None:
    template = load_template()
    resources = template["Resources"]
    deals = resources["DealsTable"]["Properties"]
    assert deals["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    sources = [s for s in stream_sources(template) if s.function_id == "CrmSyncFunction"]
    assert {(s.event_name, s.table_id) for s in sources} == {
        ("LeadsStream", "LeadsTable"),
        ("DealsStream", "DealsTable"),
    }
    for source in sources:
        assert source.report_batch_item_failures and source.bisect_on_error
        assert source.max_retries == 10 and source.on_failure == "CrmSyncDLQ"
        assert source.code_uri == "functions/crm_sync/"
    function = resources["CrmSyncFunction"]["Properties"]
    # One invocation at a time: the warm Lambda's pacer keeps a base at 5 requests a second.
    assert function["ReservedConcurrentExecutions"] == 1
    for event in function["Events"].values():
        assert event["Properties"]["ParallelizationFactor"] == 1
        assert 0 < event["Properties"]["MaximumRecordAgeInSeconds"] < 86400
    assert function["Environment"]["Variables"] == {"CRM_SYNC_DLQ_URL": {"Ref": "CrmSyncDLQ"}}
    (policy,) = function["Policies"]
    granted = {s["Sid"]: (sorted(s["Action"]), s["Resource"]) for s in policy["Statement"]}
    assert granted == {
        "Leads": (["dynamodb:GetItem"], {"Fn::GetAtt": ["LeadsTable", "Arn"]}),
        "Deals": (["dynamodb:GetItem"], {"Fn::GetAtt": ["DealsTable", "Arn"]}),
        "Brokers": (["dynamodb:GetItem"], {"Fn::GetAtt": ["BrokersTable", "Arn"]}),
        "Tenants": (["dynamodb:GetItem"], {"Fn::GetAtt": ["TenantsTable", "Arn"]}),
        "TenantSecrets": (
            ["ssm:GetParameter"],
            {
                "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:"
                "parameter/leadbot/${Env}/tenants/*"
            },
        ),
        "DeadLetters": (["sqs:SendMessage"], {"Fn::GetAtt": ["CrmSyncDLQ", "Arn"]}),
    }
    queue = resources["CrmSyncDLQ"]["Properties"]
    assert queue == {"MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True}
    alarm = resources["CrmSyncDLQAlarm"]["Properties"]
    mirrored = resources["ScoreUpdateDLQAlarm"]["Properties"]
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["CrmSyncDLQ", "QueueName"]}}
    ]
    for key in ("Namespace", "MetricName", "Statistic", "Threshold", "ComparisonOperator"):
        assert alarm[key] == mirrored[key]
    assert template["Outputs"]["CrmSyncDLQUrl"]["Value"] == {"Ref": "CrmSyncDLQ"}


def test_the_knowledge_table_is_read_by_those_who_answer_and_written_by_ingestion() -> None:
    template = load_template()
    assert template["Globals"]["Function"]["Environment"]["Variables"]["KNOWLEDGE_TABLE"] == {
        "Ref": "KnowledgeTable"
    }
    table = template["Resources"]["KnowledgeTable"]["Properties"]
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "chunk_id", "KeyType": "RANGE"},
    ]
    assert "GlobalSecondaryIndexes" not in table and "StreamSpecification" not in table
    grants = {}
    for rid, res in template["Resources"].items():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        for policy in res["Properties"].get("Policies", []):
            for statement in policy["Statement"]:
                if "KnowledgeTable" in repr(statement["Resource"]):
                    grants[rid] = (statement["Action"], statement["Resource"])
    read = (["dynamodb:Query"], {"Fn::GetAtt": ["KnowledgeTable", "Arn"]})
    write = (
        ["dynamodb:Query", "dynamodb:PutItem", "dynamodb:BatchWriteItem"],
        {"Fn::GetAtt": ["KnowledgeTable", "Arn"]},
    )
    assert grants == {
        "WebhookTelegramFunction": read,
        "WebhookWhatsAppFunction": read,
        "ApiFunction": read,
        "BrochureIngestFunction": write,  # an upload read into chunks, nothing else
    }


def test_every_route_of_the_api_is_an_event_of_the_api_function() -> None:
    """A route the resolver has but template.yaml lacks would be a 403 in AWS."""
    spec = json.loads((REPO / "openapi.json").read_text(encoding="utf-8"))
    documented = {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
    routes = {(r.method, r.path) for r in api_routes(load_template())}
    assert documented <= routes
    assert {
        ("GET", "/api/properties"),
        ("POST", "/api/properties"),
        ("GET", "/api/properties/{property_id}"),
        ("PATCH", "/api/properties/{property_id}"),
        ("DELETE", "/api/properties/{property_id}"),
        ("POST", "/api/properties/{property_id}/brochures"),
        ("GET", "/api/knowledge/gaps"),
    } <= documented


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
    # A parameter left out takes its default: no OpenAI key unless ops name one.
    assert env["OPENAI_KEY_PARAM"] == ""
    assert all(isinstance(v, str) for v in env.values())
    named = {**_refs(), "OpenAIKeyParam": "/leadbot/dev/openai-api-key"}
    env = function_environment(load_template(), "WebhookWhatsAppFunction", named)
    assert env["OPENAI_KEY_PARAM"] == "/leadbot/dev/openai-api-key"


def test_function_environment_missing_ref_raises() -> None:
    refs = _refs()
    del refs["LeadsTable"]
    with pytest.raises(KeyError, match="LeadsTable"):
        function_environment(load_template(), "WebhookTelegramFunction", refs)


def test_function_environment_unknown_function_raises() -> None:
    with pytest.raises(KeyError, match="NoSuchFunction"):
        function_environment(load_template(), "NoSuchFunction", _refs())


SYNTHETIC = REPO / "tests" / "functions" / "template.yaml"


def test_stream_sources_read_every_dynamodb_event() -> None:
    sources = {s.function_id: s for s in stream_sources(load_template(SYNTHETIC))}
    assert set(sources) == {"RecorderFunction", "PartialFunction", "RaisingFunction"}
    assert sources["PartialFunction"] == StreamSource(
        function_id="PartialFunction",
        event_name="OrdersStream",
        code_uri="tests/functions/probe/",
        handler="app.report_failures",
        table_id="OrdersTable",
        starting_position="TRIM_HORIZON",
        batch_size=100,
        batching_window_s=0,
        function_response_types=("ReportBatchItemFailures",),
        bisect_on_error=False,
        max_retries=2,
        on_failure="ProbeDLQ",
    )
    assert sources["PartialFunction"].report_batch_item_failures
    raising = sources["RaisingFunction"]
    assert raising.bisect_on_error and not raising.report_batch_item_failures
    # Lambda's defaults where the template says nothing.
    recorder = sources["RecorderFunction"]
    assert (recorder.batch_size, recorder.batching_window_s) == (3, 0)
    assert (recorder.max_retries, recorder.on_failure, recorder.enabled) == (-1, None, True)


def test_the_real_template_parses() -> None:
    template = load_template()
    stream_sources(template)
    schedules(template)


def _with_stream_event(**properties: object) -> dict[str, object]:
    template = copy.deepcopy(load_template(SYNTHETIC))
    template["Resources"]["RecorderFunction"]["Properties"]["Events"]["OrdersStream"][
        "Properties"
    ] = properties
    return template


STREAM = {"Fn::GetAtt": ["OrdersTable", "StreamArn"]}


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"StartingPosition": "LATEST"}, "Stream is required"),
        ({"Stream": "arn:aws:dynamodb:x", "StartingPosition": "LATEST"}, "expected !GetAtt"),
        (
            {"Stream": {"Fn::GetAtt": ["Nope", "StreamArn"]}, "StartingPosition": "LATEST"},
            "Nope is not a table",
        ),
        ({"Stream": STREAM}, "StartingPosition must be one of"),
        ({"Stream": STREAM, "StartingPosition": "AT_TIMESTAMP"}, "StartingPosition"),
        ({"Stream": STREAM, "StartingPosition": "LATEST", "BatchSize": 0}, "BatchSize"),
        (
            {"Stream": STREAM, "StartingPosition": "LATEST", "MaximumRetryAttempts": -2},
            "MaximumRetryAttempts",
        ),
        (
            {"Stream": STREAM, "StartingPosition": "LATEST", "FunctionResponseTypes": ["X"]},
            "FunctionResponseTypes",
        ),
        (
            {"Stream": STREAM, "StartingPosition": "LATEST", "FilterCriteria": {}},
            "does not support",
        ),
    ],
)
def test_stream_events_lambda_would_refuse_are_clear_errors(
    properties: dict[str, object], message: str
) -> None:
    with pytest.raises(TemplateError, match=message) as raised:
        stream_sources(_with_stream_event(**properties))
    assert "RecorderFunction.Events.OrdersStream" in str(raised.value)


def test_a_stream_event_on_a_table_without_a_stream_is_an_error() -> None:
    template = _with_stream_event(Stream=STREAM, StartingPosition="LATEST")
    del template["Resources"]["OrdersTable"]["Properties"]["StreamSpecification"]
    with pytest.raises(TemplateError, match="OrdersTable has no StreamSpecification"):
        stream_sources(template)


def test_the_long_getatt_form_and_a_literal_destination_are_understood() -> None:
    template = _with_stream_event(
        Stream={"Fn::GetAtt": "OrdersTable.StreamArn"},
        StartingPosition="LATEST",
        DestinationConfig={"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:1:dlq"}},
    )
    source = next(s for s in stream_sources(template) if s.function_id == "RecorderFunction")
    assert (source.table_id, source.on_failure) == ("OrdersTable", "arn:aws:sqs:us-east-1:1:dlq")


def test_schedules_read_every_schedule_event() -> None:
    found = {(s.function_id, s.event_name): s for s in schedules(load_template(SYNTHETIC))}
    assert set(found) == {
        ("TickFunction", "EveryMinute"),
        ("TickFunction", "Nightly"),
        ("TickFunction", "Custom"),
        ("BrokenFunction", "Hourly"),
    }
    minute = found["TickFunction", "EveryMinute"]
    assert (minute.rate, minute.enabled, minute.input) == (timedelta(minutes=1), True, None)
    assert (minute.code_uri, minute.handler) == ("tests/functions/probe/", "app.tick")
    # cron(...) runs only on demand locally.
    assert found["TickFunction", "Nightly"].rate is None
    custom = found["TickFunction", "Custom"]
    assert (custom.rate, custom.enabled) == (timedelta(hours=2), False)
    assert custom.input == {"job": "custom"}


@pytest.mark.parametrize(
    ("expression", "rate"),
    [
        ("rate(1 minute)", timedelta(minutes=1)),
        ("rate(30 minutes)", timedelta(minutes=30)),
        ("rate(1 hour)", timedelta(hours=1)),
        ("rate(12 hours)", timedelta(hours=12)),
        ("rate(1 day)", timedelta(days=1)),
        ("rate(7 days)", timedelta(days=7)),
        (" rate( 5 minutes ) ", timedelta(minutes=5)),
    ],
)
def test_rates(expression: str, rate: timedelta) -> None:
    assert parse_rate(expression) == rate


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("rate(1 minutes)", r"wants rate\(1 minute\)"),
        ("rate(5 hour)", r"wants rate\(5 hours\)"),
        ("rate(0 minutes)", "at least 1"),
        ("rate(10 seconds)", "is not rate"),
        ("rate(-1 days)", "is not rate"),
        ("every 5 minutes", "is not rate"),
    ],
)
def test_bad_rates_are_clear_errors(expression: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        parse_rate(expression)


def test_a_schedule_event_without_an_expression_names_itself() -> None:
    template = copy.deepcopy(load_template(SYNTHETIC))
    events = template["Resources"]["TickFunction"]["Properties"]["Events"]
    events["EveryMinute"]["Properties"] = {"Schedule": "rate(2 minute)"}
    with pytest.raises(TemplateError, match=r"TickFunction.Events.EveryMinute: .*2 minutes"):
        schedules(template)
    events["EveryMinute"]["Properties"] = {}
    with pytest.raises(TemplateError, match=r"TickFunction\.Events\.EveryMinute: Schedule must be"):
        schedules(template)


def test_the_openai_key_parameter_names_only_what_the_webhooks_may_read() -> None:
    template = load_template()
    parameter = template["Parameters"]["OpenAIKeyParam"]
    assert parameter["Default"] == ""  # no key: offline, nothing fails
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("/leadbot/prod/openai-api-key")
    assert pattern.fullmatch("")
    assert not pattern.fullmatch("/other-app/openai-api-key")
    assert not pattern.fullmatch("openai-api-key")
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["OPENAI_KEY_PARAM"] == {"Ref": "OpenAIKeyParam"}
    for function_id in ("WebhookTelegramFunction", "WebhookWhatsAppFunction"):
        (policy,) = template["Resources"][function_id]["Properties"]["Policies"]
        (secrets,) = [s for s in policy["Statement"] if s["Sid"] == "TenantSecrets"]
        assert "ssm:GetParameter" in secrets["Action"]
        assert secrets["Resource"]["Fn::Sub"].endswith(":parameter/leadbot/${Env}/*")
