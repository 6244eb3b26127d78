"""`python -m leadbot.admin airtable-init` on moto, against the fake Airtable over HTTP with the
real pyairtable client: the base connected and the four tables created once, and a clear exit 2
when the agency has no base or Airtable refuses the token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from leadbot.admin.__main__ import main as admin
from leadbot.config import settings
from leadbot.integrations.airtable import SCHEMA
from leadbot.services import runtime
from local.fake_airtable import FakeAirtable, airtable_endpoint
from local.fake_telegram import FakeTelegram
from local.gateway import LocalGateway
from local.seed import DEMO_AIRTABLE_BASE_ID, DEMO_AIRTABLE_TOKEN
from tests.support import InProcessStack


@pytest.fixture
def fake(
    stack: InProcessStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeAirtable]:
    fake = FakeAirtable()
    fake.add_base(DEMO_AIRTABLE_BASE_ID, DEMO_AIRTABLE_TOKEN)
    with LocalGateway(
        [], tmp_path, FakeTelegram(), endpoints={"airtable": airtable_endpoint(fake)}
    ) as gateway:
        monkeypatch.setenv("AIRTABLE_API_BASE", f"{gateway.url}/_local/airtable")
        runtime.reset()
        yield fake


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = admin(["airtable-init", "--tenant", "demo", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_it_connects_the_base_and_creates_the_tables_once(
    stack: InProcessStack, fake: FakeAirtable, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "--base", DEMO_AIRTABLE_BASE_ID)

    assert code == 0, out
    assert out.splitlines()[:4] == [f"created table {t.name}" for t in SCHEMA]
    assert json.loads(out.splitlines()[-1])["tables_created"] == [t.name for t in SCHEMA]
    assert fake.tables(DEMO_AIRTABLE_BASE_ID) == {
        t.name: [f.name for f in t.fields] for t in SCHEMA
    }
    tenant = stack.repos.tenants.get("demo", consistent=True)
    assert tenant.airtable_base_id == DEMO_AIRTABLE_BASE_ID and tenant.airtable_configured

    code, out, _ = _run(capsys)

    assert code == 0
    assert out.splitlines()[0] == (
        f"base {DEMO_AIRTABLE_BASE_ID} of demo already has every table and field"
    )
    assert json.loads(out.splitlines()[-1]) == {
        "base_id": DEMO_AIRTABLE_BASE_ID,
        "tables_created": [],
        "fields_created": [],
        "type_mismatches": [],
    }
    assert len([r for r in fake.requests() if r["method"] == "POST"]) == 4


def test_without_a_base_it_says_so_and_exits_2(
    fake: FakeAirtable, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys)

    assert code == 2 and out == ""
    assert "tenant 'demo' has no Airtable base configured: give --base" in err
    assert fake.requests() == []


def test_a_refused_token_is_a_clear_error_and_exit_2(
    stack: InProcessStack, fake: FakeAirtable, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets = Path(settings().secrets_source.removeprefix("file:"))
    values = json.loads(secrets.read_text())
    secrets.write_text(json.dumps({**values, "/leadbot/test/airtable-wrong": "patRevoked"}))

    code, out, err = _run(
        capsys, "--base", DEMO_AIRTABLE_BASE_ID, "--token-param", "/leadbot/test/airtable-wrong"
    )

    assert code == 2 and out == ""
    assert "error: Airtable refused the token for the base" in err
    assert "AUTHENTICATION_REQUIRED" in err and "patRevoked" not in err
    assert fake.tables(DEMO_AIRTABLE_BASE_ID) == {}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base", "app123"], "'app123' is not an Airtable base id"),
        (["--tenant", "nobody"], "no tenant 'nobody'"),
    ],
)
def test_bad_arguments_exit_2(
    fake: FakeAirtable, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = _run(capsys, *args)
    assert code == 2 and message in err
