"""Read template.yaml: the local stack builds tables, routes, streams, schedules and env from it."""

from __future__ import annotations

import contextlib
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import yaml
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DEFAULT_TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"

_TABLE = "AWS::DynamoDB::Table"
_FUNCTION = "AWS::Serverless::Function"
_QUEUE = "AWS::SQS::Queue"
_API = "AWS::Serverless::Api"
# The Auth value that makes an event public under an Api's DefaultAuthorizer.
NO_AUTHORIZER = "NONE"
# "${!Literal}" is an escaped literal in Fn::Sub, not a variable.
_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns CloudFormation short tags into their long form."""


def _construct_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - yaml has no other node kinds
        raise yaml.constructor.ConstructorError(None, None, f"bad node {node!r}", node.start_mark)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        # The attribute itself may contain dots (Endpoint.Address), the resource id never does.
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


@functools.cache
def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=_CfnLoader)
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a CloudFormation template")
    return data


def load_template(path: Path | None = None) -> dict[str, Any]:
    """Parse template.yaml (cached; treat the result as read-only)."""
    return _load((path or DEFAULT_TEMPLATE).resolve())


def _resources(template: Mapping[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    resources: dict[str, dict[str, Any]] = template.get("Resources", {})
    return {rid: res for rid, res in resources.items() if res.get("Type") == kind}


@dataclass(frozen=True)
class TableSpec:
    create_kwargs: dict[str, Any]
    ttl_attribute: str | None


def table_specs(template: Mapping[str, Any]) -> dict[str, TableSpec]:
    """Each table's `create_table` arguments (minus TableName) keyed by logical id."""
    specs: dict[str, TableSpec] = {}
    for rid, res in _resources(template, _TABLE).items():
        props = res["Properties"]
        kwargs: dict[str, Any] = {
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if stream := props.get("StreamSpecification"):
            kwargs["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": stream["StreamViewType"],
            }
        ttl = props.get("TimeToLiveSpecification") or {}
        specs[rid] = TableSpec(
            create_kwargs=kwargs,
            ttl_attribute=ttl.get("AttributeName") if ttl.get("Enabled") else None,
        )
    return specs


def local_table_names(prefix: str, template: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Logical id -> local physical name, e.g. LeadsTable -> f"{prefix}-Leads"."""
    tables = _resources(template or load_template(), _TABLE)
    return {rid: f"{prefix}-{rid.removesuffix('Table')}" for rid in tables}


def _existing_tables(client: DynamoDBClient) -> set[str]:
    names: set[str] = set()
    for page in client.get_paginator("list_tables").paginate():
        names.update(page.get("TableNames", []))
    return names


def create_tables(
    client: DynamoDBClient,
    names: Mapping[str, str],
    template: Mapping[str, Any] | None = None,
) -> None:
    """Create the named tables that do not exist yet, wait for ACTIVE, enable TTL. Idempotent."""
    specs = table_specs(template or load_template())
    unknown = set(names) - set(specs)
    if unknown:
        raise KeyError(f"not tables in the template: {sorted(unknown)}")
    existing = _existing_tables(client)
    for rid, name in names.items():
        if name in existing:
            _add_missing_indexes(client, name, specs[rid])
            continue
        # Another process may have created it since we listed.
        with contextlib.suppress(client.exceptions.ResourceInUseException):
            client.create_table(TableName=name, **specs[rid].create_kwargs)
    waiter = client.get_waiter("table_exists")
    for rid, name in names.items():
        # DynamoDB Local and moto are ACTIVE at once; a short delay keeps the worst case small.
        waiter.wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        attribute = specs[rid].ttl_attribute
        if attribute is None:
            continue
        status = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if status.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            continue
        try:
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute},
            )
        except ClientError as exc:
            # Raced with another process: DynamoDB refuses to enable TTL twice.
            if "already enabled" not in str(exc).lower():
                raise


def _add_missing_indexes(client: DynamoDBClient, name: str, spec: TableSpec) -> None:
    """A table kept from an older template (make dev's data folder) gains the stream and the
    indexes added since, one at a time as DynamoDB requires; its items stay."""
    wanted = spec.create_kwargs.get("GlobalSecondaryIndexes", [])
    table = client.describe_table(TableName=name)["Table"]
    stream = spec.create_kwargs.get("StreamSpecification")
    if stream and not table.get("StreamSpecification", {}).get("StreamEnabled"):
        # A stream added since (the Properties table's, for new-listing matches).
        with contextlib.suppress(client.exceptions.ResourceInUseException):
            client.update_table(TableName=name, StreamSpecification=stream)
    have = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    for index in wanted:
        if index["IndexName"] in have:
            continue
        with contextlib.suppress(client.exceptions.ResourceInUseException):
            client.update_table(
                TableName=name,
                AttributeDefinitions=spec.create_kwargs["AttributeDefinitions"],
                GlobalSecondaryIndexUpdates=[{"Create": index}],
            )


class HandlerRef(Protocol):
    """What loading a function's handler needs: Route, StreamSource and ScheduleEvent all are."""

    @property
    def function_id(self) -> str: ...

    @property
    def code_uri(self) -> str: ...

    @property
    def handler(self) -> str: ...


class TemplateError(ValueError):
    """template.yaml declares something the local stack cannot run as written."""


@dataclass(frozen=True)
class CognitoAuthorizer:
    """A COGNITO_USER_POOLS authorizer of an Api: the id token travels in `header`."""

    name: str
    header: str = "Authorization"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function_id: str
    code_uri: str
    handler: str
    # A Cognito user pool authorizer guards the route; None: public.
    authorizer: CognitoAuthorizer | None = None


def _globals(template: Mapping[str, Any]) -> dict[str, Any]:
    function: dict[str, Any] = template.get("Globals", {}).get("Function", {})
    return function


@dataclass(frozen=True)
class _Event:
    function_id: str
    name: str
    code_uri: str
    handler: str
    properties: dict[str, Any]


def _events(template: Mapping[str, Any], kind: str) -> list[_Event]:
    """Every event of type `kind` of every serverless function, in template order."""
    defaults = _globals(template)
    events: list[_Event] = []
    for rid, res in _resources(template, _FUNCTION).items():
        props = res.get("Properties", {})
        for name, event in (props.get("Events") or {}).items():
            if event.get("Type") != kind:
                continue
            events.append(
                _Event(
                    function_id=rid,
                    name=name,
                    code_uri=props.get("CodeUri", defaults.get("CodeUri")),
                    handler=props.get("Handler", defaults.get("Handler")),
                    properties=event.get("Properties") or {},
                )
            )
    return events


def api_routes(template: Mapping[str, Any]) -> list[Route]:
    """Every Api event of every serverless function, in template order, with its authorizer."""
    return [
        Route(
            method=str(event.properties["Method"]).upper(),
            path=event.properties["Path"],
            function_id=event.function_id,
            code_uri=event.code_uri,
            handler=event.handler,
            authorizer=_route_authorizer(template, event),
        )
        for event in _events(template, "Api")
    ]


def _route_authorizer(template: Mapping[str, Any], event: _Event) -> CognitoAuthorizer | None:
    """The event's own Auth.Authorizer, else its Api's DefaultAuthorizer; NONE is public.

    Only Cognito user pool authorizers without scopes run locally (id tokens); anything else
    is refused rather than served unguarded.
    """
    where = f"{event.function_id}.Events.{event.name}"
    api_ref = event.properties.get("RestApiId")
    if api_ref is None:
        auth: dict[str, Any] = {}  # the implicit ServerlessRestApi has no authorizers
    else:
        api_id = _logical_id(api_ref, None, f"{where}.RestApiId")
        api = _resources(template, _API).get(api_id)
        if api is None:
            raise TemplateError(f"{where}: RestApiId {api_id} is not an AWS::Serverless::Api")
        auth = api.get("Properties", {}).get("Auth") or {}
    own = event.properties.get("Auth") or {}
    if "AuthorizationScopes" in own:
        raise TemplateError(f"{where}: the local stack does not support AuthorizationScopes")
    name = own.get("Authorizer", auth.get("DefaultAuthorizer"))
    if name is None or name == NO_AUTHORIZER:
        return None
    if name == "AWS_IAM":
        raise TemplateError(f"{where}: the local stack does not support AWS_IAM authorization")
    spec = (auth.get("Authorizers") or {}).get(name)
    if spec is None:
        raise TemplateError(f"{where}: authorizer {name!r} is not in its Api's Auth.Authorizers")
    if "UserPoolArn" not in spec:
        raise TemplateError(f"{where}: {name} is not a Cognito authorizer (no UserPoolArn)")
    if spec.get("AuthorizationScopes"):
        raise TemplateError(f"{where}: the local stack does not support AuthorizationScopes")
    header = (spec.get("Identity") or {}).get("Header", "Authorization")
    return CognitoAuthorizer(name=str(name), header=str(header))


REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"
_STARTING_POSITIONS = frozenset({"TRIM_HORIZON", "LATEST"})
# Properties that change what Lambda delivers; running without them would mislead.
_UNSUPPORTED_STREAM_PROPERTIES = frozenset({"FilterCriteria", "TumblingWindowInSeconds"})


@dataclass(frozen=True)
class StreamSource:
    """A DynamoDB event of a function: Lambda's event source mapping on a table's stream."""

    function_id: str
    event_name: str
    code_uri: str
    handler: str
    table_id: str
    starting_position: str
    batch_size: int = 100
    batching_window_s: float = 0.0
    function_response_types: tuple[str, ...] = ()
    bisect_on_error: bool = False
    # -1, Lambda's default: retry until the record leaves the stream (24 h).
    max_retries: int = -1
    on_failure: str | None = None
    enabled: bool = True

    @property
    def report_batch_item_failures(self) -> bool:
        return REPORT_BATCH_ITEM_FAILURES in self.function_response_types


def _logical_id(value: Any, attribute: str | None, where: str) -> str:
    """The resource behind `!GetAtt X.<attribute>` (or `!Ref X` when attribute is None)."""
    if isinstance(value, dict) and "Fn::GetAtt" in value and attribute is not None:
        target = value["Fn::GetAtt"]
        if isinstance(target, str):
            target = target.split(".", 1)
        if isinstance(target, list) and len(target) == 2 and target[1] == attribute:
            return str(target[0])
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return str(value["Ref"])
    wanted = f"!GetAtt <resource>.{attribute}" if attribute else "!Ref <resource>"
    raise TemplateError(f"{where}: expected {wanted}, got {value!r}")


def _int(props: Mapping[str, Any], key: str, default: int, low: int, high: int, where: str) -> int:
    value = props.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise TemplateError(f"{where}: {key} must be an integer in [{low}, {high}], not {value!r}")
    return value


def _flag(props: Mapping[str, Any], key: str, default: bool, where: str) -> bool:
    value = props.get(key, default)
    if not isinstance(value, bool):
        raise TemplateError(f"{where}: {key} must be true or false, not {value!r}")
    return value


def stream_sources(template: Mapping[str, Any]) -> list[StreamSource]:
    """Every DynamoDB event of every serverless function, checked as Lambda would check it."""
    tables = _resources(template, _TABLE)
    sources: list[StreamSource] = []
    for event in _events(template, "DynamoDB"):
        where = f"{event.function_id}.Events.{event.name}"
        props = event.properties
        unsupported = sorted(_UNSUPPORTED_STREAM_PROPERTIES & set(props))
        if unsupported:
            raise TemplateError(f"{where}: the local stack does not support {unsupported}")
        if "Stream" not in props:
            raise TemplateError(f"{where}: Stream is required (!GetAtt <Table>.StreamArn)")
        table_id = _logical_id(props["Stream"], "StreamArn", f"{where}.Stream")
        if table_id not in tables:
            raise TemplateError(f"{where}: {table_id} is not a table in the template")
        if not tables[table_id].get("Properties", {}).get("StreamSpecification"):
            raise TemplateError(f"{where}: table {table_id} has no StreamSpecification")
        position = props.get("StartingPosition")
        if position not in _STARTING_POSITIONS:
            raise TemplateError(
                f"{where}: StartingPosition must be one of {sorted(_STARTING_POSITIONS)},"
                f" not {position!r}"
            )
        response_types = props.get("FunctionResponseTypes") or []
        if not isinstance(response_types, list) or not set(response_types) <= {
            REPORT_BATCH_ITEM_FAILURES
        }:
            raise TemplateError(
                f"{where}: FunctionResponseTypes may only hold {REPORT_BATCH_ITEM_FAILURES},"
                f" not {response_types!r}"
            )
        on_failure = (props.get("DestinationConfig") or {}).get("OnFailure") or {}
        destination = on_failure.get("Destination")
        sources.append(
            StreamSource(
                function_id=event.function_id,
                event_name=event.name,
                code_uri=event.code_uri,
                handler=event.handler,
                table_id=table_id,
                starting_position=str(position),
                batch_size=_int(props, "BatchSize", 100, 1, 10_000, where),
                batching_window_s=_int(props, "MaximumBatchingWindowInSeconds", 0, 0, 300, where),
                function_response_types=tuple(response_types),
                bisect_on_error=_flag(props, "BisectBatchOnFunctionError", False, where),
                max_retries=_int(props, "MaximumRetryAttempts", -1, -1, 10_000, where),
                on_failure=(
                    None
                    if destination is None
                    else destination
                    if isinstance(destination, str)
                    else _logical_id(destination, "Arn", f"{where}.DestinationConfig")
                ),
                enabled=_flag(props, "Enabled", True, where),
            )
        )
    return sources


_RATE = re.compile(r"^rate\(\s*(?P<value>\d+)\s+(?P<unit>minutes?|hours?|days?)\s*\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def parse_rate(expression: str) -> timedelta:
    """`rate(N unit)` as EventBridge reads it: 1 takes the singular unit, more the plural."""
    match = _RATE.match(expression.strip())
    if match is None:
        raise TemplateError(
            f"{expression!r} is not rate(N minute(s)|hour(s)|day(s)), e.g. rate(30 minutes)"
        )
    value, unit = int(match["value"]), match["unit"]
    if value < 1:
        raise TemplateError(f"{expression!r}: the rate must be at least 1")
    if (value == 1) != (not unit.endswith("s")):
        singular = unit.removesuffix("s")
        wanted = singular if value == 1 else singular + "s"
        raise TemplateError(f"{expression!r}: EventBridge wants rate({value} {wanted})")
    return timedelta(seconds=value * _UNIT_SECONDS[unit.removesuffix("s")])


@dataclass(frozen=True)
class ScheduleEvent:
    """A Schedule event of a function: an EventBridge rule that invokes it every `rate`."""

    function_id: str
    event_name: str
    code_uri: str
    handler: str
    expression: str
    # None for cron(...): the local stack runs those only when asked to.
    rate: timedelta | None
    enabled: bool = True
    # EventBridge's Input: this JSON value replaces the scheduled event.
    input: Any = None


def schedules(template: Mapping[str, Any]) -> list[ScheduleEvent]:
    """Every Schedule event of every serverless function."""
    found: list[ScheduleEvent] = []
    for event in _events(template, "Schedule"):
        where = f"{event.function_id}.Events.{event.name}"
        props = event.properties
        expression = props.get("Schedule")
        if not isinstance(expression, str):
            raise TemplateError(f"{where}: Schedule must be rate(…) or cron(…), not {expression!r}")
        if expression.strip().startswith("cron("):
            rate = None
        else:
            try:
                rate = parse_rate(expression)
            except TemplateError as exc:
                raise TemplateError(f"{where}: {exc}") from None
        state = props.get("State", "ENABLED")
        enabled = _flag(props, "Enabled", True, where) and state == "ENABLED"
        raw_input = props.get("Input")
        try:
            payload = None if raw_input is None else json.loads(raw_input)
        except (TypeError, ValueError):
            raise TemplateError(f"{where}: Input must be JSON text, not {raw_input!r}") from None
        found.append(
            ScheduleEvent(
                function_id=event.function_id,
                event_name=event.name,
                code_uri=event.code_uri,
                handler=event.handler,
                expression=expression.strip(),
                rate=rate,
                enabled=enabled,
                input=payload,
            )
        )
    return found


@dataclass(frozen=True)
class S3Notification:
    """An S3 event of a function: the bucket `bucket_id` invokes it for each object created
    whose key has `prefix` and `suffix` (its Filter's rules)."""

    function_id: str
    event_name: str
    code_uri: str
    handler: str
    bucket_id: str
    events: tuple[str, ...]
    prefix: str = ""
    suffix: str = ""

    def wants(self, event_name: str, key: str) -> bool:
        """Whether S3 would notify the function of `event_name` ("s3:ObjectCreated:Put") on
        `key`: an event matches its own name or a trailing-wildcard one."""
        named = any(
            event_name == e or (e.endswith("*") and event_name.startswith(e[:-1]))
            for e in self.events
        )
        return named and key.startswith(self.prefix) and key.endswith(self.suffix)


def s3_notifications(template: Mapping[str, Any]) -> list[S3Notification]:
    """Every S3 event of every serverless function."""
    found: list[S3Notification] = []
    for event in _events(template, "S3"):
        where = f"{event.function_id}.Events.{event.name}"
        props = event.properties
        bucket = _logical_id(props.get("Bucket"), None, f"{where}.Bucket")
        names = props.get("Events")
        events = (names,) if isinstance(names, str) else tuple(names or ())
        if not events:
            raise TemplateError(f"{where}: Events must name S3 events, e.g. s3:ObjectCreated:*")
        rules = {
            str(rule.get("Name", "")).lower(): str(rule.get("Value", ""))
            for rule in (props.get("Filter") or {}).get("S3Key", {}).get("Rules", [])
        }
        found.append(
            S3Notification(
                function_id=event.function_id,
                event_name=event.name,
                code_uri=event.code_uri,
                handler=event.handler,
                bucket_id=bucket,
                events=events,
                prefix=rules.get("prefix", ""),
                suffix=rules.get("suffix", ""),
            )
        )
    return found


def queues(template: Mapping[str, Any]) -> list[str]:
    """Every SQS queue's logical id (the local stack's dead-letter queues), in template order."""
    return list(_resources(template, _QUEUE))


def function_ids(template: Mapping[str, Any]) -> list[str]:
    """Every serverless function's logical id, in template order."""
    return list(_resources(template, _FUNCTION))


def _resolve(value: Any, refs: Mapping[str, str], where: str) -> str:
    def lookup(name: str) -> str:
        try:
            return refs[name]
        except KeyError:
            raise KeyError(f"{where}: cannot resolve Ref {name!r}; pass it in refs") from None

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return lookup(value["Ref"])
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        return _SUB_VAR.sub(lambda m: lookup(m.group(1)), value["Fn::Sub"])
    raise ValueError(f"{where}: unsupported value {value!r}")


def function_environment(
    template: Mapping[str, Any], function_id: str, refs: Mapping[str, str]
) -> dict[str, str]:
    """Globals + the function's own environment variables, with Refs resolved through `refs`
    (a template parameter missing from `refs` takes its Default, as in CloudFormation)."""
    defaults = {
        name: str(spec["Default"])
        for name, spec in (template.get("Parameters") or {}).items()
        if isinstance(spec, dict) and "Default" in spec
    }
    refs = {**defaults, **refs}
    functions = _resources(template, _FUNCTION)
    if function_id not in functions:
        raise KeyError(f"no AWS::Serverless::Function {function_id!r} in the template")
    own = functions[function_id].get("Properties", {})
    variables: dict[str, Any] = {
        **_globals(template).get("Environment", {}).get("Variables", {}),
        **own.get("Environment", {}).get("Variables", {}),
    }
    return {key: _resolve(value, refs, f"{function_id}.{key}") for key, value in variables.items()}
