"""`python -m leadbot.admin tenant …`: create, connect, rotate, disable, enable and list agencies.

Secrets are never taken from the command line (it stays in shell history and shows in `ps`):
each secret option names where to read the value from.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadbot.domain import ChannelError, FlowMode, Language, TenantExists, TenantNotFound

if TYPE_CHECKING:
    from typing import TextIO

    from leadbot.services.tenants import SecretKind, TelegramConnection

SOURCES = """Secret values are never given on the command line (shell history, `ps`): each secret
option says where to read it from: `-` (one line of standard input; one option at most),
`env:NAME` (an environment variable), `file:PATH` (a file's first line) or `prompt` (typed,
not echoed). They go straight to SSM SecureString parameters under
/leadbot/<env>/tenants/<tenant>/; DynamoDB keeps only the parameters' names, and nothing
prints them (connect-whatsapp shows the verify token, which Meta's dashboard needs)."""

BASE_URL_HELP = (
    "the API's base URL, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/prod or a "
    "custom domain (default: read from the stack's outputs, see --stack)"
)
BY = "ops (python -m leadbot.admin)"


class SourceError(Exception):
    """A secret option that does not say where to read from, or a source that cannot be read."""


class SecretSources:
    """Reads each secret from where its option says; stdin at most once."""

    def __init__(self, stdin: TextIO | None = None) -> None:
        self._stdin = stdin or sys.stdin
        self._stdin_used_by: str | None = None

    def read(self, option: str, source: str | None) -> str | None:
        if source is None:
            return None
        if source == "-":
            if self._stdin_used_by is not None:
                raise SourceError(
                    f"{option} and {self._stdin_used_by} both read standard input: give one of "
                    "them as env:NAME, file:PATH or prompt"
                )
            self._stdin_used_by = option
            value = self._stdin.readline().strip()
        elif source.startswith("env:"):
            name = source.removeprefix("env:")
            value = os.environ.get(name, "").strip()
            if not value:
                raise SourceError(f"{option}: the environment variable {name} is not set")
        elif source.startswith("file:"):
            path = Path(source.removeprefix("file:")).expanduser()
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise SourceError(f"{option}: cannot read {path} ({exc.strerror})") from None
            value = lines[0].strip() if lines else ""
        elif source == "prompt":
            value = getpass.getpass(f"{option.removeprefix('--')}: ").strip()
        else:
            raise SourceError(
                f"{option} takes where to read the secret from (-, env:NAME, file:PATH or "
                "prompt), never the secret itself: it would stay in your shell history"
            )
        if not value:
            raise SourceError(f"{option}: the value read is empty")
        return value


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from leadbot.services.tenants import GENERATED, SecretKind

    tenant = commands.add_parser(
        "tenant",
        help="agencies: create, connect-telegram, connect-whatsapp, rotate-secret, disable, "
        "enable, list",
        description=SOURCES,
    )
    actions = tenant.add_subparsers(dest="action", required=True)
    create = actions.add_parser(
        "create",
        help="create an agency; its channel secrets go to SSM (see `tenant --help`)",
        description=SOURCES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  read -rs TG && export TG  # paste the bot token from BotFather\n"
        "  python -m leadbot.admin tenant create --name 'Gulf Homes' --languages en,ar "
        "--telegram-token env:TG",
    )
    create.add_argument("--name", required=True, help="the agency's name, as leads see it")
    create.add_argument(
        "--tenant-id", help="lower-case letters, digits, dashes (default: from the name)"
    )
    create.add_argument(
        "--languages",
        required=True,
        type=_languages,
        help="the languages offered to leads, in order: en,fa,ar,ru",
    )
    create.add_argument("--default-language", type=Language, choices=list(Language))
    create.add_argument(
        "--flow-mode", type=FlowMode, choices=list(FlowMode), default=FlowMode.GUIDED
    )
    create.add_argument("--currency", help="ISO code of budgets and prices (default AED)")
    create.add_argument("--timezone", help="IANA zone (default Asia/Dubai)")
    create.add_argument("--phone-region", help="region of local phone numbers (default AE)")
    create.add_argument("--dashboard-url", default="", help="the dashboard's address, for links")
    create.add_argument("--telegram-token", metavar="SOURCE", help="the bot token from BotFather")
    create.add_argument(
        "--whatsapp-phone-number-id", help="Meta's 'Phone number ID' of the business number"
    )
    create.add_argument(
        "--whatsapp-access-token", metavar="SOURCE", help="a system user's Graph API token"
    )
    create.add_argument(
        "--whatsapp-app-secret", metavar="SOURCE", help="the Meta app's secret (signs webhooks)"
    )
    create.add_argument(
        "--whatsapp-verify-token",
        metavar="SOURCE",
        help="the token Meta's subscription check sends (default: a generated one)",
    )
    for name, text in (
        (
            "connect-telegram",
            "point the bot's webhook at this deployment (setWebhook with a new "
            "secret token and the update kinds the bot reads), then confirm with getWebhookInfo",
        ),
        (
            "connect-whatsapp",
            "print the callback URL and verify token to paste into Meta, and "
            "check the deployed webhook: signed with the app secret 200, wrongly or not signed 401",
        ),
    ):
        connect = actions.add_parser(name, help=text, description=text)
        connect.add_argument("--tenant", required=True, help="tenant id, e.g. demo")
        _where(connect)
        if name == "connect-telegram":
            connect.add_argument(
                "--drop-pending-updates",
                action="store_true",
                help="discard updates Telegram holds for the bot",
            )
    generated = ", ".join(k.value for k in sorted(GENERATED))
    rotate = actions.add_parser(
        "rotate-secret",
        help="replace one secret of an agency",
        description=f"{SOURCES}\n\ntelegram-webhook-secret is generated and set with "
        f"setWebhook at once (as connect-telegram); {generated} are generated unless --value "
        "is given; a new telegram-token is tried on Telegram before it is stored.",
    )
    rotate.add_argument("--tenant", required=True, help="tenant id, e.g. demo")
    rotate.add_argument("secret", type=SecretKind, choices=list(SecretKind))
    rotate.add_argument("--value", metavar="SOURCE", help="where to read the new value from")
    _where(rotate)
    for name, text in (
        (
            "disable",
            "stop serving the agency: its webhooks answer 200 and do nothing, its "
            "dashboard users get 403, follow-ups stop; data is kept",
        ),
        ("enable", "serve the agency again"),
    ):
        toggle = actions.add_parser(name, help=text, description=text)
        toggle.add_argument("--tenant", required=True, help="tenant id, e.g. demo")
    listing = actions.add_parser("list", help="every agency: id, name, enabled, channels, created")
    listing.add_argument("--json", action="store_true", help="one JSON array instead of a table")


def _where(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--base-url", help=BASE_URL_HELP)
    where.add_argument(
        "--stack", help="the CloudFormation stack to read the URL from (default leadbot-<env>)"
    )


def _languages(text: str) -> tuple[Language, ...]:
    try:
        found = tuple(Language(code.strip()) for code in text.split(",") if code.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: a comma-separated list of {', '.join(Language)}"
        ) from None
    if not found:
        raise argparse.ArgumentTypeError("at least one language")
    return found


def base_url(args: argparse.Namespace) -> str:
    """--base-url, else the deployed stack's WhatsAppWebhookUrl output without /whatsapp."""
    if getattr(args, "base_url", None):
        return str(args.base_url).rstrip("/")
    import boto3

    from leadbot.config import settings

    stack = args.stack or f"leadbot-{settings().leadbot_env}"
    cloudformation = boto3.client("cloudformation", region_name=settings().region)
    try:
        found = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except Exception as exc:
        raise SourceError(
            f"cannot read the stack {stack!r}'s outputs ({type(exc).__name__}): give --base-url"
        ) from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in found[0].get("Outputs", [])}
    url = outputs.get("WhatsAppWebhookUrl", "")
    if not url.endswith("/whatsapp"):
        raise SourceError(f"the stack {stack!r} has no WhatsAppWebhookUrl output: give --base-url")
    return url.removesuffix("/whatsapp")


def run(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO | None = None) -> int:
    from leadbot.services.tenants import TenantSetupError

    try:
        return _run(args, out, err, SecretSources(stdin))
    except TenantNotFound:
        print(f"error: no tenant {args.tenant!r}", file=err)
        return 2
    except (SourceError, TenantSetupError) as exc:
        print(f"error: {exc}", file=err)
        return 2
    except ChannelError as exc:
        print(f"error: Telegram refused: {exc}", file=err)
        return 1


def _run(args: argparse.Namespace, out: TextIO, err: TextIO, sources: SecretSources) -> int:
    from leadbot.services import tenants
    from leadbot.services.runtime import repositories, secret_store
    from leadbot.services.telegram import bot_client

    repos, store = repositories(), secret_store()
    action = args.action
    if action == "create":
        return _create(args, out, err, sources)
    if action == "connect-telegram":
        connection = tenants.connect_telegram(
            repos,
            store,
            args.tenant,
            base_url(args),
            bot_client,
            by=BY,
            drop_pending_updates=args.drop_pending_updates,
        )
        return _telegram_report(args.tenant, connection, out, err)
    if action == "connect-whatsapp":
        return _connect_whatsapp(args, out, err)
    if action == "rotate-secret":
        return _rotate(args, out, err, sources)
    if action in ("disable", "enable"):
        changed = tenants.set_enabled(repos, args.tenant, action == "enable", by=BY)
        state = "enabled" if action == "enable" else "disabled"
        print(
            f"{args.tenant} {state}" if changed else f"{args.tenant} was already {state}", file=err
        )
        summary = {"tenant_id": args.tenant, "enabled": action == "enable", "changed": changed}
        print(json.dumps(summary), file=out)
        return 0
    rows = tenants.list_tenants(repos)
    if args.json:
        print(json.dumps([row.as_dict() for row in rows]), file=out)
        return 0
    table = [("TENANT", "NAME", "ENABLED", "CHANNELS", "CREATED")]
    for row in rows:
        created = f"{row.created_at:%Y-%m-%d %H:%M}" if row.created_at else "-"
        channels = ",".join(row.channels) or "-"
        table.append((row.tenant_id, row.name, "yes" if row.enabled else "no", channels, created))
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for r in table:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip(), file=out)
    return 0


def _create(args: argparse.Namespace, out: TextIO, err: TextIO, sources: SecretSources) -> int:
    from leadbot.services.runtime import repositories, secret_store
    from leadbot.services.tenants import NewTenant, SecretKind, create_tenant

    options = {
        SecretKind.TELEGRAM_TOKEN: "--telegram-token",
        SecretKind.WHATSAPP_TOKEN: "--whatsapp-access-token",
        SecretKind.WHATSAPP_APP_SECRET: "--whatsapp-app-secret",
        SecretKind.WHATSAPP_VERIFY_TOKEN: "--whatsapp-verify-token",
    }
    values: dict[SecretKind, str] = {}
    for kind, option in options.items():
        value = sources.read(option, getattr(args, option.removeprefix("--").replace("-", "_")))
        if value is not None:
            values[kind] = value
    new = NewTenant(
        name=args.name,
        languages=args.languages,
        flow_mode=args.flow_mode,
        tenant_id=args.tenant_id,
        default_language=args.default_language,
        currency=args.currency,
        timezone=args.timezone,
        phone_region=args.phone_region,
        dashboard_url=args.dashboard_url,
    )
    try:
        tenant, names = create_tenant(
            repositories(),
            secret_store(),
            new,
            values,
            phone_number_id=args.whatsapp_phone_number_id,
            by=BY,
        )
    except TenantExists as exc:
        print(f"error: a tenant {str(exc)!r} exists already: give another --tenant-id", file=err)
        return 2
    print(f"created {tenant.tenant_id} ({tenant.name})", file=err)
    for kind, name in names.items():
        print(f"  {kind.value}: stored in {name}", file=err)
    nexts = []
    if SecretKind.TELEGRAM_TOKEN in names:
        nexts.append(f"tenant connect-telegram --tenant {tenant.tenant_id}")
    if tenant.whatsapp_phone_number_id:
        nexts.append(f"tenant connect-whatsapp --tenant {tenant.tenant_id}")
    for step in nexts:
        print(f"next: python -m leadbot.admin {step}", file=err)
    summary = {
        "tenant_id": tenant.tenant_id,
        "name": tenant.name,
        "languages": [lang.value for lang in tenant.languages],
        "flow_mode": tenant.flow_mode.value,
        "parameters": {kind.value: name for kind, name in names.items()},
        "whatsapp_phone_number_id": tenant.whatsapp_phone_number_id or None,
    }
    print(json.dumps(summary), file=out)
    return 0


def _telegram_report(
    tenant_id: str, connection: TelegramConnection, out: TextIO, err: TextIO
) -> int:
    info = connection.as_dict()
    if connection.url_matches:
        print(f"{tenant_id}: Telegram sends updates to {connection.url}", file=err)
    else:
        print(
            f"error: Telegram reports the webhook as {connection.info.get('url')!r}, not "
            f"{connection.url}",
            file=err,
        )
    print(f"  allowed updates: {', '.join(info['allowed_updates'])}", file=err)
    print(f"  pending updates: {connection.pending_update_count}", file=err)
    if connection.last_error:
        print(f"  last delivery error: {connection.last_error}", file=err)
    print(json.dumps({"tenant_id": tenant_id, **info}), file=out)
    return 0 if connection.ok else 1


def _connect_whatsapp(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import httpx

    from leadbot.services.runtime import repositories, secret_store
    from leadbot.services.tenants import connect_whatsapp

    with httpx.Client(timeout=10.0) as http:

        def send(
            method: str, url: str, headers: Mapping[str, str], body: bytes
        ) -> tuple[int, bytes]:
            answer = http.request(method, url, headers=dict(headers), content=body)
            return answer.status_code, answer.content

        connection = connect_whatsapp(
            repositories(), secret_store(), args.tenant, base_url(args), send
        )
    print("In Meta's app dashboard (WhatsApp > Configuration > Webhook):", file=err)
    print(f"  Callback URL:  {connection.callback_url}", file=err)
    print(f"  Verify token:  {connection.verify_token}", file=err)
    print("  then subscribe to the 'messages' field.", file=err)
    for probe in connection.probes:
        mark = "ok " if probe.ok else "FAIL"
        got = " ".join(str(x) for x in (probe.status, probe.error) if x)
        print(f"  {mark} {probe.what}: {got} (expected {probe.expected})", file=err)
    summary: dict[str, Any] = {
        "tenant_id": args.tenant,
        "callback_url": connection.callback_url,
        "checks": [p.as_dict() for p in connection.probes],
        "ok": connection.ok,
    }
    print(json.dumps(summary), file=out)
    return 0 if connection.ok else 1


def _rotate(args: argparse.Namespace, out: TextIO, err: TextIO, sources: SecretSources) -> int:
    from leadbot.services.runtime import repositories, secret_store
    from leadbot.services.telegram import bot_client
    from leadbot.services.tenants import SecretKind, rotate_secret

    kind: SecretKind = args.secret
    value = sources.read("--value", args.value)
    url = base_url(args) if kind is SecretKind.TELEGRAM_WEBHOOK_SECRET else None
    rotated = rotate_secret(
        repositories(),
        secret_store(),
        args.tenant,
        kind,
        value,
        by=BY,
        base_url=url,
        telegram_for=bot_client,
    )
    print(f"{args.tenant}: {kind.value} replaced in {rotated.param}", file=err)
    summary: dict[str, Any] = {
        "tenant_id": args.tenant,
        "secret": kind.value,
        "parameter": rotated.param,
    }
    if rotated.telegram is not None:
        return _telegram_report(args.tenant, rotated.telegram, out, err)
    if rotated.webhook_info is not None:
        hook = str(rotated.webhook_info.get("url") or "")
        summary["webhook_url"] = hook or None
        if not hook:
            print("  this bot has no webhook: run `tenant connect-telegram` to set it", file=err)
    if rotated.verify_token is not None:
        print(f"  paste the new verify token into Meta: {rotated.verify_token}", file=err)
    if kind is SecretKind.WHATSAPP_APP_SECRET:
        print("  check it with `tenant connect-whatsapp`", file=err)
    print("  functions use it within 5 minutes (their cache of secrets)", file=err)
    print(json.dumps(summary), file=out)
    return 0
