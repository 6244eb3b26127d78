"""DynamoDB Local starts, answers boto3, and keeps its data across restarts on the same dir."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.dynamodb_local import DynamoDBLocal, free_port, jar_dir

REPO_ROOT = Path(__file__).resolve().parents[2]
JAR_DIR = jar_dir(REPO_ROOT / ".tools")

pytestmark = pytest.mark.ddblocal


@pytest.fixture(autouse=True)
def _installed() -> None:
    # `make test` installs both; a missing one is a broken setup, not a reason to pass quietly.
    if shutil.which("java") is None or not (JAR_DIR / "DynamoDBLocal.jar").is_file():
        pytest.fail(f"DynamoDB Local needs java and {JAR_DIR}/DynamoDBLocal.jar: `make install`")


def _client(endpoint: str, region: str = "us-east-1", key: str = "a") -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=key,
    )


def test_data_survives_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "ddb"  # created by start()
    with DynamoDBLocal(jar_dir=JAR_DIR, data_dir=data_dir) as ddb:
        assert ddb.endpoint == f"http://127.0.0.1:{ddb.port}"
        client = _client(ddb.endpoint)
        client.create_table(
            TableName="Leads",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(TableName="Leads", Item={"pk": {"S": "lead#1"}, "name": {"S": "Sara"}})
    assert not ddb.running
    assert (data_dir / "dynamodb-local.log").exists()

    with DynamoDBLocal(jar_dir=JAR_DIR, data_dir=data_dir) as again:
        # -sharedDb: other credentials and another region see the same tables.
        client = _client(again.endpoint, region="eu-west-1", key="other")
        item = client.get_item(TableName="Leads", Key={"pk": {"S": "lead#1"}})["Item"]
        assert item["name"] == {"S": "Sara"}


def test_in_memory_on_a_chosen_port() -> None:
    port = free_port()
    ddb = DynamoDBLocal(jar_dir=JAR_DIR, data_dir=None, port=port)
    assert "-inMemory" in ddb.command()
    ddb.start()
    try:
        assert ddb.port == port
        assert _client(ddb.endpoint).list_tables()["TableNames"] == []
    finally:
        ddb.stop()
    ddb.stop()  # idempotent


def test_missing_jar_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="make install"):
        DynamoDBLocal(jar_dir=tmp_path, data_dir=None).start()
