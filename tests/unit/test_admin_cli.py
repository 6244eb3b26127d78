"""The ops CLI explains a missing environment instead of failing with a traceback."""

from __future__ import annotations

import pytest

from leadbot.admin.__main__ import main
from leadbot.services import runtime


def test_without_the_function_environment_the_cli_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("TENANTS_TABLE", "IDENTITIES_TABLE", "LEADS_TABLE", "TIMELINE_TABLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "x")
    runtime.reset()
    try:
        assert main(["issue-admin-code", "--tenant", "demo"]) == 2
    finally:
        runtime.reset()
    error = capsys.readouterr().err
    assert "TENANTS_TABLE" in error and "IDEMPOTENCY_TABLE" not in error
    assert "make admin-code" in error
