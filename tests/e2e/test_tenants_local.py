"""Onboarding an agency's WhatsApp number on the running local stack with `python -m local admin
tenant …`: connect-whatsapp checks the gateway's real endpoint (Meta's subscription check, a body
signed with the app secret 200, wrongly signed and unsigned 401), a rotated app secret is taken at
once; the check fails, loudly, against an address that is not the webhook, and refuses to run for
a disabled agency."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import stack_env

pytestmark = pytest.mark.e2e

NUMBER = "100000000000919"


def admin(stack_dir: Path, *args: str, stdin: str = "", **env: str) -> tuple[int, Any, str]:
    done = subprocess.run(
        [sys.executable, "-m", "local", "admin", *args],
        env=stack_env(stack_dir, **env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = done.stdout.strip().splitlines()
    return done.returncode, json.loads(lines[-1]) if lines else None, done.stderr


def test_connect_whatsapp_checks_the_deployed_endpoint_with_the_app_secret(
    local_stack: str, stack_dir: Path
) -> None:
    code, created, err = admin(
        stack_dir,
        "tenant",
        "create",
        "--name",
        "Palm Keys",
        "--languages",
        "en,ru",
        "--whatsapp-phone-number-id",
        NUMBER,
        "--whatsapp-access-token",
        "env:WA_TOKEN",
        "--whatsapp-app-secret",
        "-",
        stdin="palm-keys-app-secret\n",
        WA_TOKEN="palm-keys-graph-token",
    )
    assert code == 0, err
    assert created["tenant_id"] == "palm-keys"
    assert "palm-keys-app-secret" not in err and "palm-keys-graph-token" not in err

    code, report, err = admin(stack_dir, "tenant", "connect-whatsapp", "--tenant", "palm-keys")

    assert code == 0, err
    assert report["callback_url"] == f"{local_stack}/whatsapp"
    assert [(c["expected"], c["status"]) for c in report["checks"]] == [
        (200, 200),
        (200, 200),
        (401, 401),
        (401, 401),
    ]
    assert f"Callback URL:  {local_stack}/whatsapp" in err and "Verify token:  " in err

    # A new app secret (Meta's "reset"): the running functions take it at once.
    code, _, err = admin(
        stack_dir,
        "tenant",
        "rotate-secret",
        "--tenant",
        "palm-keys",
        "whatsapp-app-secret",
        "--value",
        "-",
        stdin="palm-keys-app-secret-2\n",
    )
    assert code == 0, err
    assert admin(stack_dir, "tenant", "connect-whatsapp", "--tenant", "palm-keys")[0] == 0

    # Disabled, its number is not served: there is nothing to check, and it says so.
    assert admin(stack_dir, "tenant", "disable", "--tenant", "palm-keys")[0] == 0
    code, report, err = admin(stack_dir, "tenant", "connect-whatsapp", "--tenant", "palm-keys")
    assert (code, report) == (2, None) and "palm-keys is disabled" in err
    assert admin(stack_dir, "tenant", "enable", "--tenant", "palm-keys")[0] == 0


def test_the_check_fails_against_an_address_that_is_not_the_webhook(
    local_stack: str, stack_dir: Path
) -> None:
    code, _, err = admin(
        stack_dir,
        "tenant",
        "create",
        "--name",
        "Marina Nest",
        "--languages",
        "en",
        "--whatsapp-phone-number-id",
        "100000000000920",
        "--whatsapp-access-token",
        "env:WA_TOKEN",
        "--whatsapp-app-secret",
        "env:WA_SECRET",
        WA_TOKEN="marina-nest-graph-token",
        WA_SECRET="marina-nest-app-secret",
    )
    assert code == 0, err

    code, report, err = admin(
        stack_dir,
        "tenant",
        "connect-whatsapp",
        "--tenant",
        "marina-nest",
        "--base-url",
        f"{local_stack}/prod",
    )

    assert code == 1 and report["ok"] is False
    assert not any(c["ok"] for c in report["checks"])
    # The local stack serves its dashboard for unknown GETs: answered, but not Meta's check.
    subscription = report["checks"][0]
    assert subscription["status"] != 200 or subscription["error"] == "hub.challenge not echoed"
    assert {c["status"] for c in report["checks"][1:]} == {404}
    assert "FAIL body signed with the app secret: 404 (expected 200)" in err
