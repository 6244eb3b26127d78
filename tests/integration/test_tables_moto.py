"""create_tables against moto: the template's tables come out as declared, twice is harmless."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.template import create_tables, local_table_names


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


def test_create_tables(client: Any) -> None:
    names = local_table_names("t")
    create_tables(client, names)
    create_tables(client, names)  # idempotent: existing tables and TTL are left alone

    assert set(client.list_tables()["TableNames"]) == set(names.values())

    leads = client.describe_table(TableName="t-Leads")["Table"]
    assert leads["TableStatus"] == "ACTIVE"
    assert [(k["AttributeName"], k["KeyType"]) for k in leads["KeySchema"]] == [
        ("tenant_id", "HASH"),
        ("lead_id", "RANGE"),
    ]
    gsis = {g["IndexName"]: g for g in leads["GlobalSecondaryIndexes"]}
    assert set(gsis) == {"by_score", "followups_due", "rescore_due", "by_phone", "open_by_broker"}
    assert gsis["by_score"]["Projection"]["ProjectionType"] == "ALL"
    assert gsis["followups_due"]["Projection"]["ProjectionType"] == "KEYS_ONLY"
    assert leads["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    assert leads["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"

    ttl = {
        logical: client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        for logical, name in names.items()
    }
    assert ttl["IdempotencyTable"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiration"}
    assert ttl["IdentitiesTable"]["AttributeName"] == "expires_at"
    assert ttl["TimelineTable"]["TimeToLiveStatus"] == "ENABLED"
    assert ttl["LeadsTable"]["TimeToLiveStatus"] == "DISABLED"


def test_create_tables_subset_and_unknown(client: Any) -> None:
    create_tables(client, {"TenantsTable": "only-Tenants"})
    assert client.list_tables()["TableNames"] == ["only-Tenants"]
    with pytest.raises(KeyError, match="Nope"):
        create_tables(client, {"Nope": "x"})


def test_a_table_kept_from_an_older_template_gains_the_new_indexes(client: Any) -> None:
    """make dev keeps its data: a Timeline created before by_message existed gets it, and
    its items stay."""
    client.create_table(
        TableName="old-Timeline",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(TableName="old-Timeline", Item={"pk": {"S": "t#l"}, "sk": {"S": "1"}})

    create_tables(client, {"TimelineTable": "old-Timeline"})

    table = client.describe_table(TableName="old-Timeline")["Table"]
    assert [g["IndexName"] for g in table["GlobalSecondaryIndexes"]] == ["by_message"]
    assert client.scan(TableName="old-Timeline")["Count"] == 1
