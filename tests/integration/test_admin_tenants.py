"""`python -m leadbot.admin tenant …` on moto, with SSM as in AWS (SecureString parameters read
back by the webhook through Powertools) and the fake Bot API in Telegram's wire format: secrets
land in SSM and never in DynamoDB or the output, setWebhook carries the new secret token and the
update kinds the bot reads, a rotation is honoured by a warm webhook at once, and a disabled
agency is ignored by its webhook and refused to its dashboard users."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest

from leadbot.admin.__main__ import main as admin
from leadbot.domain import Channel
from leadbot.services import runtime
from tests.support import ADMIN, AGENT, InProcessStack, Updates, api_call, every_string

TOKEN = "7000000001:AAF-gulf-homes-bot-token"
ACCESS_TOKEN = "EAAG-gulf-homes-graph-token-0001"
APP_SECRET = "gulf-homes-app-secret-0001"
NUMBER = "100000000000777"
BASE_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"
PARAMS = "/leadbot/test/tenants/gulf-homes"

moto_only = pytest.mark.parametrize("stack", ["moto"], indirect=True)


@pytest.fixture
def ssm(stack: InProcessStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Secrets in SSM (moto) as in AWS, not the local stack's file."""
    monkeypatch.setenv("SECRETS_SOURCE", "ssm")
    monkeypatch.setenv("TG_TOKEN", TOKEN)
    runtime.reset()
    yield boto3.client("ssm", region_name="us-east-1")
    runtime.reset()


def run(capsys: pytest.CaptureFixture[str], *args: str, stdin: str = "") -> tuple[int, str, str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", io.StringIO(stdin))
        code = admin(["tenant", *args])
    out, err = capsys.readouterr()
    return code, out, err


def last_json(out: str) -> Any:
    return json.loads(out.strip().splitlines()[-1])


def create(capsys: pytest.CaptureFixture[str], tmp_path: Path, *extra: str) -> dict[str, Any]:
    token_file = tmp_path / "graph-token"
    token_file.write_text(ACCESS_TOKEN + "\n")
    code, out, err = run(
        capsys,
        "create",
        "--name",
        "Gulf Homes",
        "--languages",
        "en,ar",
        "--flow-mode",
        "qa_first",
        "--telegram-token",
        "env:TG_TOKEN",
        "--whatsapp-phone-number-id",
        NUMBER,
        "--whatsapp-access-token",
        f"file:{token_file}",
        "--whatsapp-app-secret",
        "-",
        *extra,
        stdin=APP_SECRET + "\n",
    )
    assert code == 0, err
    for value in (TOKEN, ACCESS_TOKEN, APP_SECRET):
        assert value not in out + err
    created: dict[str, Any] = last_json(out)
    return created


def gulf(stack: InProcessStack) -> InProcessStack:
    return replace(stack, tenant_id="gulf-homes")


@moto_only
def test_create_puts_each_secret_in_ssm_and_only_its_name_in_dynamodb(
    stack: InProcessStack, ssm: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    created = create(capsys, tmp_path)

    assert created["tenant_id"] == "gulf-homes" and created["flow_mode"] == "qa_first"
    params = created["parameters"]
    assert params == {
        "telegram-token": f"{PARAMS}/telegram_bot_token",
        "whatsapp-token": f"{PARAMS}/whatsapp_access_token",
        "whatsapp-app-secret": f"{PARAMS}/whatsapp_app_secret",
        "whatsapp-verify-token": f"{PARAMS}/whatsapp_verify_token",
    }
    stored = {}
    for name in params.values():
        parameter = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        assert parameter["Type"] == "SecureString"
        stored[name] = parameter["Value"]
    assert stored[params["telegram-token"]] == TOKEN
    assert stored[params["whatsapp-token"]] == ACCESS_TOKEN
    assert stored[params["whatsapp-app-secret"]] == APP_SECRET
    verify_token = stored[params["whatsapp-verify-token"]]
    assert len(verify_token) >= 40  # generated
    tenant = stack.repos.tenants.get("gulf-homes", consistent=True)
    assert tenant.telegram_bot_token_param == params["telegram-token"]
    assert tenant.whatsapp_app_secret_param == params["whatsapp-app-secret"]
    assert tenant.whatsapp_phone_number_id == NUMBER and tenant.created_at is not None
    assert [lang.value for lang in tenant.languages] == ["en", "ar"]
    assert stack.repos.tenants.by_whatsapp_number(NUMBER) == "gulf-homes"
    assert stack.repos.tenants.by_verify_token(verify_token) == "gulf-homes"
    # No value in any table, not even hashed into a key it could be read back from.
    for table, values in every_string().items():
        for secret in (TOKEN, ACCESS_TOKEN, APP_SECRET, verify_token):
            assert not any(secret in s for s in values), table


@moto_only
def test_a_secret_on_the_command_line_or_a_taken_id_is_refused_and_nothing_is_stored(
    stack: InProcessStack, ssm: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "create", "--name", "Gulf Homes", "--languages", "en", "--telegram-token", TOKEN
    )
    assert code == 2 and "never the secret itself" in err and TOKEN not in err
    code, _, err = run(capsys, "create", "--name", "X", "--languages", "en", "--tenant-id", "demo")
    assert code == 2 and "exists already" in err
    code, _, err = run(
        capsys, "create", "--name", "Y", "--languages", "en", "--whatsapp-phone-number-id", NUMBER
    )
    assert code == 2 and "WhatsApp needs whatsapp-token, whatsapp-app-secret" in err
    assert "gulf-homes" not in stack.repos.tenants.ids()
    assert ssm.describe_parameters()["Parameters"] == []


@moto_only
def test_connect_telegram_sets_the_webhook_with_a_new_secret_and_the_update_kinds(
    stack: InProcessStack, ssm: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    create(capsys, tmp_path)
    stack.fake.clear()

    code, out, err = run(
        capsys, "connect-telegram", "--tenant", "gulf-homes", "--base-url", BASE_URL
    )

    assert code == 0, err
    calls = [c for c in stack.fake.outbox() if c["token"].startswith("700000")]
    assert [c["method"] for c in calls] == ["setWebhook", "getWebhookInfo"]
    sent = calls[0]["payload"]
    param = f"{PARAMS}/telegram_webhook_secret"
    secret = ssm.get_parameter(Name=param, WithDecryption=True)["Parameter"]["Value"]
    assert sent["url"] == f"{BASE_URL}/telegram/gulf-homes"
    assert sent["secret_token"] == secret and len(secret) >= 40
    assert sent["allowed_updates"] == ["message", "callback_query", "my_chat_member"]
    assert secret not in out + err
    report = last_json(out)
    assert report["url_matches"] is True and report["pending_update_count"] == 0
    assert report["allowed_updates"] == ["message", "callback_query", "my_chat_member"]
    assert stack.repos.tenants.get("gulf-homes", consistent=True).telegram_secret_param == param
    # The webhook takes Telegram's calls with that secret, and only with it.
    agency = gulf(stack)
    lead = Updates(7_400_000_001, "Hana")
    assert agency.post(lead.text("/start"), secret=secret)["statusCode"] == 200
    assert agency.post(lead.text("hi"), secret="demo-telegram-secret")["statusCode"] == 401
    assert stack.sent(7_400_000_001)  # the bot answered with the agency's token


@moto_only
def test_connect_telegram_reports_what_getwebhookinfo_says_and_keeps_the_secret_on_refusal(
    stack: InProcessStack, ssm: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    create(capsys, tmp_path)
    assert run(capsys, "connect-telegram", "--tenant", "gulf-homes", "--base-url", BASE_URL)[0] == 0
    param = f"{PARAMS}/telegram_webhook_secret"
    secret = ssm.get_parameter(Name=param, WithDecryption=True)["Parameter"]["Value"]
    stack.fake.webhook_trouble(TOKEN, pending=3, error="Connection timed out")

    code, out, err = run(
        capsys, "connect-telegram", "--tenant", "gulf-homes", "--base-url", BASE_URL
    )

    assert code == 0
    report = last_json(out)
    assert (report["pending_update_count"], report["last_error_message"]) == (
        3,
        "Connection timed out",
    )
    assert "last delivery error: Connection timed out" in err
    rotated = ssm.get_parameter(Name=param, WithDecryption=True)["Parameter"]["Value"]
    assert rotated != secret
    # Telegram refuses a URL that is not HTTPS: the secret it still sends stays the stored one.
    code, _, err = run(
        capsys, "connect-telegram", "--tenant", "gulf-homes", "--base-url", "http://insecure.test"
    )
    assert code == 1 and "HTTPS URL must be provided" in err
    assert ssm.get_parameter(Name=param, WithDecryption=True)["Parameter"]["Value"] == rotated


@moto_only
def test_rotating_the_webhook_secret_calls_setwebhook_and_a_warm_webhook_takes_it_at_once(
    stack: InProcessStack, ssm: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    create(capsys, tmp_path)
    run(capsys, "connect-telegram", "--tenant", "gulf-homes", "--base-url", BASE_URL)
    param = f"{PARAMS}/telegram_webhook_secret"
    old = ssm.get_parameter(Name=param, WithDecryption=True)["Parameter"]["Value"]
    agency, lead = gulf(stack), Updates(7_400_000_002, "Hana")
    assert agency.post(lead.text("/start"), secret=old)["statusCode"] == 200  # cached now

    code, out, _ = run(
        capsys,
        "rotate-secret",
        "--tenant",
        "gulf-homes",
        "telegram-webhook-secret",
        "--base-url",
        BASE_URL,
    )

    assert code == 0
    new = ssm.get_parameter(Name=param, WithDecryption=True)["Parameter"]["Value"]
    assert new != old
    hooks = [c for c in stack.fake.outbox() if c["method"] == "setWebhook"]
    assert [h["payload"]["secret_token"] for h in hooks] == [old, new]
    assert last_json(out)["url_matches"] is True
    assert agency.post(lead.text("hi"), secret=new)["statusCode"] == 200
    assert agency.post(lead.text("hi"), secret=old)["statusCode"] == 401


@moto_only
def test_rotating_credentials_a_refused_bot_token_is_not_stored(
    stack: InProcessStack,
    ssm: Any,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    create(capsys, tmp_path)
    param = f"{PARAMS}/telegram_bot_token"
    stack.fake.revoke("7000000001:AAF-revoked")
    monkeypatch.setenv("NEW_TOKEN", "7000000001:AAF-revoked")

    code, _, err = run(
        capsys,
        "rotate-secret",
        "--tenant",
        "gulf-homes",
        "telegram-token",
        "--value",
        "env:NEW_TOKEN",
    )

    assert code == 1 and "Unauthorized" in err
    assert ssm.get_parameter(Name=param, WithDecryption=True)["Parameter"]["Value"] == TOKEN
    monkeypatch.setenv("NEW_TOKEN", "7000000001:AAF-new-token")
    code, out, err = run(
        capsys,
        "rotate-secret",
        "--tenant",
        "gulf-homes",
        "telegram-token",
        "--value",
        "env:NEW_TOKEN",
    )
    assert code == 0 and "no webhook" in err and "AAF-new-token" not in out + err
    assert ssm.get_parameter(Name=param, WithDecryption=True)["Parameter"]["Value"].endswith(
        "new-token"
    )
    # A new verify token: generated, routed, the old one no longer answers Meta's check.
    verify_param = f"{PARAMS}/whatsapp_verify_token"
    old = ssm.get_parameter(Name=verify_param, WithDecryption=True)["Parameter"]["Value"]
    code, _, err = run(capsys, "rotate-secret", "--tenant", "gulf-homes", "whatsapp-verify-token")
    new = ssm.get_parameter(Name=verify_param, WithDecryption=True)["Parameter"]["Value"]
    assert code == 0 and new != old and new in err  # to paste into Meta
    assert stack.repos.tenants.by_verify_token(new) == "gulf-homes"
    assert stack.repos.tenants.by_verify_token(old) is None
    code, _, _ = run(
        capsys,
        "rotate-secret",
        "--tenant",
        "gulf-homes",
        "whatsapp-app-secret",
        "--value",
        "-",
        stdin="rotated-app-secret\n",
    )
    assert code == 0
    app = ssm.get_parameter(Name=f"{PARAMS}/whatsapp_app_secret", WithDecryption=True)
    assert app["Parameter"]["Value"] == "rotated-app-secret"
    assert run(capsys, "rotate-secret", "--tenant", "nope", "whatsapp-token")[0] == 2


def test_a_disabled_agency_is_ignored_by_its_webhook_and_refused_to_its_dashboard_users(
    stack: InProcessStack, capsys: pytest.CaptureFixture[str]
) -> None:
    lead = Updates(7_400_000_003, "Hana")

    code, out, _ = run(capsys, "disable", "--tenant", "demo")

    assert code == 0 and last_json(out) == {"tenant_id": "demo", "enabled": False, "changed": True}
    assert stack.post(lead.text("/start"))["statusCode"] == 200
    assert stack.post(lead.text("/start"), secret="wrong")["statusCode"] == 401  # still checked
    assert stack.sent(7_400_000_003) == []
    key = stack.repos.identities.key("demo", Channel.TELEGRAM, str(lead.chat_id))
    assert stack.repos.identities.lead_id(key, consistent=True) is None  # no lead
    for claims in (AGENT, ADMIN):
        status, body = api_call("GET", "/api/leads", claims)
        assert status == 403 and "disabled" in body["message"]
    code, out, err = run(capsys, "disable", "--tenant", "demo")  # again: nothing changes
    assert code == 0 and "already disabled" in err and last_json(out)["changed"] is False

    assert run(capsys, "enable", "--tenant", "demo")[0] == 0

    assert api_call("GET", "/api/leads", AGENT)[0] == 200
    assert stack.post(lead.text("/start"))["statusCode"] == 200
    assert stack.sent(7_400_000_003)
    assert run(capsys, "disable", "--tenant", "nope")[0] == 2


@moto_only
def test_list_shows_every_agency_with_its_channels(
    stack: InProcessStack, ssm: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    create(capsys, tmp_path)
    run(capsys, "disable", "--tenant", "demo2")

    code, out, _ = run(capsys, "list", "--json")

    assert code == 0
    rows = {row["tenant_id"]: row for row in json.loads(out)}
    assert set(rows) == {"demo", "demo2", "gulf-homes"}
    assert rows["gulf-homes"]["channels"] == ["whatsapp"]  # Telegram once connected
    assert rows["gulf-homes"]["created_at"] is not None and rows["gulf-homes"]["enabled"]
    assert rows["demo"]["channels"] == ["telegram", "whatsapp"]
    assert rows["demo2"]["enabled"] is False
    run(capsys, "connect-telegram", "--tenant", "gulf-homes", "--base-url", BASE_URL)

    code, out, _ = run(capsys, "list")

    lines = out.splitlines()
    assert lines[0].split() == ["TENANT", "NAME", "ENABLED", "CHANNELS", "CREATED"]
    [gulf_line] = [line for line in lines if line.startswith("gulf-homes")]
    assert "telegram,whatsapp" in gulf_line and " yes " in gulf_line
