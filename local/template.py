"""Read template.yaml so the local stack builds tables, routes and env vars from it."""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DEFAULT_TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"

_TABLE = "AWS::DynamoDB::Table"
_FUNCTION = "AWS::Serverless::Function"
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


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function_id: str
    code_uri: str
    handler: str


def _globals(template: Mapping[str, Any]) -> dict[str, Any]:
    function: dict[str, Any] = template.get("Globals", {}).get("Function", {})
    return function


def api_routes(template: Mapping[str, Any]) -> list[Route]:
    """Every Api event of every serverless function, in template order."""
    defaults = _globals(template)
    routes: list[Route] = []
    for rid, res in _resources(template, _FUNCTION).items():
        props = res.get("Properties", {})
        for event in (props.get("Events") or {}).values():
            if event.get("Type") != "Api":
                continue
            routes.append(
                Route(
                    method=str(event["Properties"]["Method"]).upper(),
                    path=event["Properties"]["Path"],
                    function_id=rid,
                    code_uri=props.get("CodeUri", defaults.get("CodeUri")),
                    handler=props.get("Handler", defaults.get("Handler")),
                )
            )
    return routes


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
    """Globals + the function's own environment variables, with Refs resolved through `refs`."""
    functions = _resources(template, _FUNCTION)
    if function_id not in functions:
        raise KeyError(f"no AWS::Serverless::Function {function_id!r} in the template")
    own = functions[function_id].get("Properties", {})
    variables: dict[str, Any] = {
        **_globals(template).get("Environment", {}).get("Variables", {}),
        **own.get("Environment", {}).get("Variables", {}),
    }
    return {key: _resolve(value, refs, f"{function_id}.{key}") for key, value in variables.items()}
