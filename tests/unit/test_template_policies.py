"""template.yaml as CloudFormation gets it (after the SAM transform): tables protected, every
function alarmed and its logs kept for a set time, no wildcard grants on data stores, every
asynchronous consumer with a dead-letter destination that raises an alarm.

Each rule is a function listing what breaks it, so a test can show it on the real template (no
problems) and on a copy broken on purpose (the problem named)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from samtranslator.translator.transform import transform

from local.template import load_template
from tests.support import REPO

Resources = dict[str, dict[str, Any]]

DATA_STORES = ("dynamodb", "s3", "sqs", "ssm")
TOPIC = {"Ref": "AlarmTopic"}
# What SAM attaches to the roles it makes. The DynamoDB one (for stream event sources) lets
# its function read stream records - DescribeStream, GetRecords, GetShardIterator,
# ListStreams - on every resource; SAM offers no way to scope it short of writing the roles
# by hand, so it is allowed here, and only on functions that consume a stream.
SAM_MANAGED = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
SAM_STREAMS = "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole"


class _NoManagedPolicies:
    """The translator resolves managed policy *names* through IAM; the template uses none."""

    def load(self) -> dict[str, str]:
        return {}


def sam_transform(template: dict[str, Any]) -> dict[str, Any]:
    """The CloudFormation template `sam deploy` would create, from the template as parsed by
    local.template.load_template; local code paths stand in for what `sam package` uploads."""
    packaged = copy.deepcopy(template)
    for rid, res in packaged["Resources"].items():
        if res["Type"] == "AWS::Serverless::Function":
            res["Properties"]["CodeUri"] = f"s3://leadbot-artifacts/{rid}.zip"
        elif res["Type"] == "AWS::Serverless::LayerVersion":
            res["Properties"]["ContentUri"] = f"s3://leadbot-artifacts/{rid}.zip"
    transformed: dict[str, Any] = transform(packaged, {}, _NoManagedPolicies())
    return transformed


@pytest.fixture(scope="module")
def resources() -> Resources:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        found: Resources = sam_transform(load_template())["Resources"]
    return found


def _of_type(resources: Resources, kind: str) -> Resources:
    return {rid: res for rid, res in resources.items() if res["Type"] == kind}


def _ref(value: Any) -> str | None:
    """The logical id a Ref or GetAtt names."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else target.split(".")[0])
    return None


def _alarms(resources: Resources, namespace: str, metric: str) -> Iterator[tuple[str, dict]]:
    """(alarm id, its dimensions as {name: referenced logical id}) of every alarm on `metric`
    that notifies the alarm topic."""
    for rid, res in _of_type(resources, "AWS::CloudWatch::Alarm").items():
        props = res["Properties"]
        if (props.get("Namespace"), props.get("MetricName")) != (namespace, metric):
            continue
        if TOPIC not in props.get("AlarmActions", []):
            continue
        yield rid, {d["Name"]: _ref(d["Value"]) for d in props.get("Dimensions", [])}


def _alarmed(resources: Resources, namespace: str, metric: str, dimension: str) -> set[str]:
    """Logical ids (of functions, queues, ...) an alarm on `metric` watches through `dimension`."""
    return {
        target
        for _, dims in _alarms(resources, namespace, metric)
        if (target := dims.get(dimension)) is not None
    }


# --- the rules --------------------------------------------------------------------------------


def table_problems(resources: Resources) -> list[str]:
    problems = []
    for rid, res in _of_type(resources, "AWS::DynamoDB::Table").items():
        props = res["Properties"]
        pitr = props.get("PointInTimeRecoverySpecification", {})
        if pitr.get("PointInTimeRecoveryEnabled") is not True:
            problems.append(f"{rid}: no point-in-time recovery")
        if props.get("DeletionProtectionEnabled") is not True:
            problems.append(f"{rid}: no deletion protection")
        if props.get("SSESpecification", {}).get("SSEEnabled") is not True:
            problems.append(f"{rid}: no SSE")
    return problems


def function_problems(resources: Resources) -> list[str]:
    """Every function: an Errors and a Throttles alarm to the topic, and a log group of its
    own name with a retention, which it writes to."""
    problems = []
    errors = _alarmed(resources, "AWS/Lambda", "Errors", "FunctionName")
    throttles = _alarmed(resources, "AWS/Lambda", "Throttles", "FunctionName")
    groups = _of_type(resources, "AWS::Logs::LogGroup")
    for rid, res in _of_type(resources, "AWS::Lambda::Function").items():
        props = res["Properties"]
        if rid not in errors:
            problems.append(f"{rid}: no Errors alarm")
        if rid not in throttles:
            problems.append(f"{rid}: no Throttles alarm")
        group_id = _ref(props.get("LoggingConfig", {}).get("LogGroup"))
        group = groups.get(group_id or "")
        if group is None:
            problems.append(f"{rid}: logs to no log group of the template")
            continue
        if not group["Properties"].get("RetentionInDays"):
            problems.append(f"{rid}: log group {group_id} keeps logs forever")
        name = props.get("FunctionName", {}).get("Fn::Sub")
        if group["Properties"].get("LogGroupName") != {"Fn::Sub": f"/aws/lambda/{name}"}:
            problems.append(f"{rid}: log group {group_id} is not /aws/lambda/<its name>")
    return problems


def _statements(resources: Resources) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, statement) of every identity policy statement: roles' inline policies,
    AWS::IAM::Policy and AWS::IAM::ManagedPolicy."""
    for rid, res in resources.items():
        documents = []
        if res["Type"] == "AWS::IAM::Role":
            documents = [
                (p["PolicyName"], p["PolicyDocument"])
                for p in res["Properties"].get("Policies", [])
            ]
        elif res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents = [(rid, res["Properties"]["PolicyDocument"])]
        for name, document in documents:
            statements = document["Statement"]
            for statement in statements if isinstance(statements, list) else [statements]:
                yield f"{rid}/{name}", statement


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def iam_problems(resources: Resources) -> list[str]:
    """No Allow statement grants every action, every action of a data store, or a data store's
    actions on every resource; managed policies only the ones SAM attaches, as it should."""
    problems = []
    for where, statement in _statements(resources):
        if statement.get("Effect") != "Allow":
            continue
        actions = [str(a) for a in _listed(statement.get("Action", []))]
        wide = [a for a in actions if a == "*" or a.endswith(":*")]
        if "NotAction" in statement or "NotResource" in statement:
            problems.append(f"{where}: NotAction/NotResource grants everything else")
        if wide:
            problems.append(f"{where}: grants {', '.join(wide)}")
        on_stores = [a for a in actions if a.split(":")[0] in DATA_STORES]
        if on_stores and "*" in _listed(statement.get("Resource", [])):
            problems.append(f"{where}: {', '.join(on_stores)} on every resource (*)")
    stream_consumers = {
        _ref(res["Properties"]["FunctionName"])
        for res in _of_type(resources, "AWS::Lambda::EventSourceMapping").values()
    }
    for rid, res in _of_type(resources, "AWS::IAM::Role").items():
        managed = set(res["Properties"].get("ManagedPolicyArns", []))
        allowed = {SAM_MANAGED}
        if rid.removesuffix("Role") in stream_consumers:
            allowed.add(SAM_STREAMS)
        if managed - allowed:
            problems.append(f"{rid}: managed policies {sorted(managed - allowed)}")
    return problems


def _depth_alarmed(resources: Resources) -> set[str]:
    return _alarmed(resources, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName")


def async_problems(resources: Resources) -> list[str]:
    """Every asynchronous consumer parks what it gives up on in a queue with a depth alarm:
    event source mappings (streams: an on-failure destination and an iterator-age alarm; SQS:
    the queue's redrive), and functions invoked asynchronously (EventBridge rules, S3, SNS:
    an on-failure destination or a dead-letter queue)."""
    problems = []
    queues = _of_type(resources, "AWS::SQS::Queue")
    alarmed = _depth_alarmed(resources)
    iterator_age = _alarmed(resources, "AWS/Lambda", "IteratorAge", "FunctionName")

    def parked(where: str, target: Any) -> None:
        queue = _ref(target)
        if queue not in queues:
            problems.append(f"{where}: gives up on records into no queue of the template")
        elif queue not in alarmed:
            problems.append(f"{where}: its dead-letter queue {queue} has no depth alarm")

    for rid, res in _of_type(resources, "AWS::Lambda::EventSourceMapping").items():
        props = res["Properties"]
        source = _ref(props["EventSourceArn"])
        if source in queues:  # an SQS consumer: the queue's own redrive
            redrive = queues[source]["Properties"].get("RedrivePolicy", {})
            parked(rid, redrive.get("deadLetterTargetArn"))
            continue
        parked(rid, props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"))
        if _ref(props["FunctionName"]) not in iterator_age:
            problems.append(f"{rid}: no IteratorAge alarm on its function")

    invoke_configs = {
        _ref(res["Properties"]["FunctionName"]): res["Properties"]
        for res in _of_type(resources, "AWS::Lambda::EventInvokeConfig").values()
    }
    async_invokers = ("events.amazonaws.com", "s3.amazonaws.com", "sns.amazonaws.com")
    invoked = {
        _ref(res["Properties"]["FunctionName"])
        for res in _of_type(resources, "AWS::Lambda::Permission").values()
        if res["Properties"].get("Principal") in async_invokers
    }
    functions = _of_type(resources, "AWS::Lambda::Function")
    for fid in sorted(f for f in invoked if f is not None):
        config = invoke_configs.get(fid, {})
        destination = config.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        dead_letters = functions[fid]["Properties"].get("DeadLetterConfig", {}).get("TargetArn")
        parked(f"{fid} (invoked asynchronously)", destination or dead_letters)
    return problems


def alarm_problems(resources: Resources) -> list[str]:
    """Every alarm tells the topic when it goes off and when it clears; the topic mails the
    AlarmEmail parameter's address when there is one."""
    problems = [
        f"{rid}: does not notify the alarm topic"
        for rid, res in _of_type(resources, "AWS::CloudWatch::Alarm").items()
        if TOPIC not in res["Properties"].get("AlarmActions", [])
        or TOPIC not in res["Properties"].get("OKActions", [])
    ]
    mails = [
        res
        for res in _of_type(resources, "AWS::SNS::Subscription").values()
        if res["Properties"]["TopicArn"] == TOPIC and res["Properties"]["Protocol"] == "email"
    ]
    if [(m["Properties"]["Endpoint"], m.get("Condition")) for m in mails] != [
        ({"Ref": "AlarmEmail"}, "HasAlarmEmail")
    ]:
        problems.append("AlarmTopic: no email subscription from the AlarmEmail parameter")
    return problems


# --- the template keeps them -----------------------------------------------------------------


def test_every_table_has_point_in_time_recovery_deletion_protection_and_sse(
    resources: Resources,
) -> None:
    assert len(_of_type(resources, "AWS::DynamoDB::Table")) == 9
    assert table_problems(resources) == []


def test_every_function_has_error_and_throttle_alarms_and_a_log_group_with_retention(
    resources: Resources,
) -> None:
    assert len(_of_type(resources, "AWS::Lambda::Function")) == 7
    assert function_problems(resources) == []
    for group in _of_type(resources, "AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_no_policy_grants_wildcard_actions_or_resources_on_data_stores(
    resources: Resources,
) -> None:
    assert sum(1 for _ in _statements(resources)) > 30  # the functions' own, and SAM's
    assert iam_problems(resources) == []


def test_every_async_consumer_parks_failures_in_a_queue_with_a_depth_alarm(
    resources: Resources,
) -> None:
    assert len(_of_type(resources, "AWS::Lambda::EventSourceMapping")) == 4
    assert async_problems(resources) == []
    # Every queue of the template is a dead-letter queue, and each is watched.
    assert _depth_alarmed(resources) == set(_of_type(resources, "AWS::SQS::Queue"))


def test_every_alarm_notifies_the_topic(resources: Resources) -> None:
    assert alarm_problems(resources) == []


def test_the_stream_consumers_and_scheduled_functions_are_the_ones_checked(
    resources: Resources,
) -> None:
    """The async rule sees what the template has: three stream consumers, two scheduled, one
    invoked by S3."""
    mappings = _of_type(resources, "AWS::Lambda::EventSourceMapping").values()
    assert {_ref(m["Properties"]["FunctionName"]) for m in mappings} == {
        "ScoreUpdateFunction",
        "CrmSyncFunction",
        "GhostSweepFunction",
    }
    configs = _of_type(resources, "AWS::Lambda::EventInvokeConfig").values()
    assert {_ref(c["Properties"]["FunctionName"]) for c in configs} == {
        "ScoreUpdateFunction",
        "GhostSweepFunction",
        "BrochureIngestFunction",
    }
    s3_invoked = {
        _ref(p["Properties"]["FunctionName"])
        for p in _of_type(resources, "AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "s3.amazonaws.com"
    }
    assert s3_invoked == {"BrochureIngestFunction"}


# --- and each rule catches a template that breaks it ----------------------------------------


def _without(resources: Resources, rid: str) -> Resources:
    broken = copy.deepcopy(resources)
    del broken[rid]
    return broken


def test_a_function_without_its_error_alarm_is_named(resources: Resources) -> None:
    assert function_problems(_without(resources, "CrmSyncErrorsAlarm")) == [
        "CrmSyncFunction: no Errors alarm"
    ]


def test_an_alarm_that_tells_nobody_does_not_count(resources: Resources) -> None:
    broken = copy.deepcopy(resources)
    broken["ApiThrottlesAlarm"]["Properties"]["AlarmActions"] = []
    assert function_problems(broken) == ["ApiFunction: no Throttles alarm"]
    assert alarm_problems(broken) == ["ApiThrottlesAlarm: does not notify the alarm topic"]


def test_a_function_logging_to_a_group_without_retention_or_of_another_name_is_named(
    resources: Resources,
) -> None:
    broken = copy.deepcopy(resources)
    del broken["ApiLogGroup"]["Properties"]["RetentionInDays"]
    broken["ApiFunction"]["Properties"]["FunctionName"] = {"Fn::Sub": "${AWS::StackName}-x"}
    assert function_problems(broken) == [
        "ApiFunction: log group ApiLogGroup keeps logs forever",
        "ApiFunction: log group ApiLogGroup is not /aws/lambda/<its name>",
    ]
    del broken["ApiFunction"]["Properties"]["LoggingConfig"]
    assert function_problems(broken) == ["ApiFunction: logs to no log group of the template"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ("PointInTimeRecoverySpecification", "LeadsTable: no point-in-time recovery"),
        ("DeletionProtectionEnabled", "LeadsTable: no deletion protection"),
        ("SSESpecification", "LeadsTable: no SSE"),
    ],
)
def test_a_table_missing_a_protection_is_named(
    resources: Resources, change: str, problem: str
) -> None:
    broken = copy.deepcopy(resources)
    del broken["LeadsTable"]["Properties"][change]
    assert table_problems(broken) == [problem]


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        (
            {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "arn:aws:dynamodb:x"},
            "grants dynamodb:*",
        ),
        ({"Effect": "Allow", "Action": ["*"], "Resource": "arn:aws:s3:::b"}, "grants *"),
        (
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"},
            "s3:GetObject on every resource (*)",
        ),
        (
            {"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": ["arn:x", "*"]},
            "ssm:GetParameter on every resource (*)",
        ),
    ],
)
def test_a_wildcard_grant_on_a_data_store_is_named(
    resources: Resources, statement: dict[str, Any], problem: str
) -> None:
    broken = copy.deepcopy(resources)
    policies = broken["ApiFunctionRole"]["Properties"]["Policies"]
    policies[0]["PolicyDocument"]["Statement"].append(statement)
    assert iam_problems(broken) == [f"ApiFunctionRole/{policies[0]['PolicyName']}: {problem}"]


def test_a_wildcard_grant_elsewhere_and_a_deny_pass(resources: Resources) -> None:
    """X-Ray and CloudWatch take no resource-level permissions; a Deny narrows."""
    broken = copy.deepcopy(resources)
    statements = broken["ApiFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    statements["Statement"] += [
        {"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"},
        {"Effect": "Deny", "Action": "dynamodb:*", "Resource": "*"},
    ]
    assert iam_problems(broken) == []


def test_a_broad_managed_policy_or_stream_reading_on_a_non_consumer_is_named(
    resources: Resources,
) -> None:
    broken = copy.deepcopy(resources)
    managed = broken["ApiFunctionRole"]["Properties"]["ManagedPolicyArns"]
    managed += [SAM_STREAMS, "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"]
    assert iam_problems(broken) == [
        f"ApiFunctionRole: managed policies {sorted(managed[1:])}",
    ]


def test_a_stream_consumer_without_its_destination_or_alarms_is_named(
    resources: Resources,
) -> None:
    broken = copy.deepcopy(resources)
    del broken["ScoreUpdateFunctionLeadsStream"]["Properties"]["DestinationConfig"]
    assert async_problems(broken) == [
        "ScoreUpdateFunctionLeadsStream: gives up on records into no queue of the template"
    ]
    assert async_problems(_without(resources, "CrmSyncDLQAlarm")) == [
        "CrmSyncFunctionLeadsStream: its dead-letter queue CrmSyncDLQ has no depth alarm",
        "CrmSyncFunctionDealsStream: its dead-letter queue CrmSyncDLQ has no depth alarm",
    ]
    assert async_problems(_without(resources, "NewListingsIteratorAgeAlarm")) == [
        "GhostSweepFunctionNewListings: no IteratorAge alarm on its function"
    ]


def test_a_scheduled_function_without_an_on_failure_destination_is_named(
    resources: Resources,
) -> None:
    broken = _without(resources, "ScoreUpdateFunctionEventInvokeConfig")
    assert async_problems(broken) == [
        "ScoreUpdateFunction (invoked asynchronously): gives up on records into no queue of "
        "the template"
    ]
    broken["ScoreUpdateFunction"]["Properties"]["DeadLetterConfig"] = {
        "TargetArn": {"Fn::GetAtt": ["ScheduledRunsDLQ", "Arn"]}
    }
    assert async_problems(broken) == []


def test_an_sqs_consumer_is_judged_by_its_queues_redrive(resources: Resources) -> None:
    broken = copy.deepcopy(resources)
    broken["WorkQueue"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    broken["ApiFunctionWork"] = {
        "Type": "AWS::Lambda::EventSourceMapping",
        "Properties": {
            "EventSourceArn": {"Fn::GetAtt": ["WorkQueue", "Arn"]},
            "FunctionName": {"Ref": "ApiFunction"},
        },
    }
    assert async_problems(broken) == [
        "ApiFunctionWork: gives up on records into no queue of the template"
    ]
    broken["WorkQueue"]["Properties"]["RedrivePolicy"] = {
        "deadLetterTargetArn": {"Fn::GetAtt": ["ScheduledRunsDLQ", "Arn"]},
        "maxReceiveCount": 5,
    }
    assert async_problems(broken) == []


def test_a_topic_without_the_email_subscription_is_named(resources: Resources) -> None:
    assert alarm_problems(_without(resources, "AlarmEmailSubscription")) == [
        "AlarmTopic: no email subscription from the AlarmEmail parameter"
    ]


# --- and ops have a runbook entry for each alarm ---------------------------------------------


def test_every_alarm_has_a_runbook_entry_in_the_operations_doc(resources: Resources) -> None:
    doc = (REPO / "docs/operations.md").read_text(encoding="utf-8")
    headings = [line for line in doc.splitlines() if line.startswith("### ")]
    entries = {name.strip(" `") for h in headings for name in h[4:].split(",")}
    names = set()
    for rid, res in _of_type(resources, "AWS::CloudWatch::Alarm").items():
        name = res["Properties"]["AlarmName"]["Fn::Sub"]
        assert name.startswith("${AWS::StackName}-"), rid
        names.add(name.removeprefix("${AWS::StackName}-"))
    assert len(names) == 24
    assert names - entries == set()


# --- buckets and the dashboard's hosting ----------------------------------------------------

_BLOCK_ALL = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")


def _bucket_policies(resources: Resources) -> dict[str, list[dict[str, Any]]]:
    """Each bucket's policy statements, by the bucket's logical id."""
    return {
        str(_ref(res["Properties"]["Bucket"])): res["Properties"]["PolicyDocument"]["Statement"]
        for res in _of_type(resources, "AWS::S3::BucketPolicy").values()
    }


def bucket_problems(resources: Resources) -> list[str]:
    """Every bucket: public access blocked, encrypted, objects owned by the bucket, and TLS
    required by its policy."""
    problems = []
    policies = _bucket_policies(resources)
    for rid, res in _of_type(resources, "AWS::S3::Bucket").items():
        props = res["Properties"]
        block = props.get("PublicAccessBlockConfiguration", {})
        if not all(block.get(name) is True for name in _BLOCK_ALL):
            problems.append(f"{rid}: public access not blocked")
        if not props.get("BucketEncryption"):
            problems.append(f"{rid}: not encrypted")
        rules = props.get("OwnershipControls", {}).get("Rules", [])
        if [r.get("ObjectOwnership") for r in rules] != ["BucketOwnerEnforced"]:
            problems.append(f"{rid}: ACLs still in use")
        tls = [
            s
            for s in policies.get(rid, [])
            if s["Effect"] == "Deny"
            and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        if not tls:
            problems.append(f"{rid}: plain HTTP not denied")
    return problems


def hosting_problems(resources: Resources) -> list[str]:
    """Every distribution: HTTPS for viewers, its S3 origins through origin access control
    (no legacy identity), and those buckets readable by that distribution alone."""
    problems = []
    policies = _bucket_policies(resources)
    for rid, res in _of_type(resources, "AWS::CloudFront::Distribution").items():
        config = res["Properties"]["DistributionConfig"]
        behaviors = [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]
        for behavior in behaviors:
            if behavior.get("ViewerProtocolPolicy") not in ("redirect-to-https", "https-only"):
                problems.append(f"{rid}: {behavior.get('PathPattern', '*')} allows plain HTTP")
        for origin in config["Origins"]:
            if "S3OriginConfig" not in origin:
                continue
            if not origin.get("OriginAccessControlId") or origin["S3OriginConfig"].get(
                "OriginAccessIdentity"
            ):
                problems.append(f"{rid}: origin {origin['Id']} without origin access control")
            bucket = _ref(origin["DomainName"])
            for statement in policies.get(str(bucket), []):
                if statement["Effect"] != "Allow":
                    continue
                source = statement.get("Condition", {}).get("StringEquals", {})
                reader = statement.get("Principal")
                if reader != {"Service": "cloudfront.amazonaws.com"} or rid not in str(
                    source.get("AWS:SourceArn")
                ):
                    problems.append(f"{bucket}: read by more than the distribution {rid}")
    return problems


def test_every_bucket_is_private_encrypted_and_tls_only(resources: Resources) -> None:
    assert set(_of_type(resources, "AWS::S3::Bucket")) == {
        "ExportsBucket",
        "BrochuresBucket",
        "DashboardBucket",
    }
    assert bucket_problems(resources) == []


def test_the_dashboard_is_served_over_https_from_its_private_bucket(resources: Resources) -> None:
    assert set(_of_type(resources, "AWS::CloudFront::Distribution")) == {"DashboardDistribution"}
    assert hosting_problems(resources) == []
    config = resources["DashboardDistribution"]["Properties"]["DistributionConfig"]
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == {
        "Ref": "DashboardSecurityHeaders"
    }
    # The hosted UI's client: code flow back at the distribution's /auth/callback.
    client = resources["DashboardUserPoolClient"]["Properties"]
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["GenerateSecret"] is False
    assert "/auth/callback" in str(client["CallbackURLs"])


def test_a_public_or_plain_http_bucket_is_named(resources: Resources) -> None:
    broken = copy.deepcopy(resources)
    broken["DashboardBucket"]["Properties"]["PublicAccessBlockConfiguration"][
        "RestrictPublicBuckets"
    ] = False
    del broken["ExportsBucketPolicy"]
    # In the order SAM's output lists the buckets, which moves one it adds a notification to.
    assert sorted(bucket_problems(broken)) == [
        "DashboardBucket: public access not blocked",
        "ExportsBucket: plain HTTP not denied",
    ]


def test_a_distribution_without_oac_or_https_or_with_a_shared_bucket_is_named(
    resources: Resources,
) -> None:
    broken = copy.deepcopy(resources)
    config = broken["DashboardDistribution"]["Properties"]["DistributionConfig"]
    config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] = "allow-all"
    config["Origins"][0]["OriginAccessControlId"] = ""
    statements = _bucket_policies(broken)["DashboardBucket"]
    statements.append({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"})
    assert hosting_problems(broken) == [
        "DashboardDistribution: * allows plain HTTP",
        "DashboardDistribution: origin DashboardBuild without origin access control",
        "DashboardBucket: read by more than the distribution DashboardDistribution",
    ]
