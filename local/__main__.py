"""`python -m local`: the whole product on one machine (DESIGN.md §8); Ctrl-C stops it all."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from local import auth
from local.clock import LocalClock
from local.dashboard import DashboardSite, local_config
from local.dynamodb_local import DynamoDBLocal, jar_dir
from local.exports import exports_endpoint
from local.fake_airtable import FakeAirtable, airtable_endpoint
from local.fake_openai import BODY_LIMIT as OPENAI_BODY_LIMIT
from local.fake_openai import FakeOpenAI, openai_endpoint
from local.fake_sqs import queue_url, sqs_endpoint
from local.fake_telegram import FakeTelegram
from local.fake_whatsapp import FakeWhatsApp
from local.gateway import LocalGateway
from local.schedules import Schedules
from local.simulator import Simulator, deliver_as_telegram, tenant_webhook_secret
from local.streams import Streams
from local.telegram_poll import poll_forever
from local.template import (
    TemplateError,
    api_routes,
    function_environment,
    load_template,
    local_table_names,
    queues,
    s3_notifications,
    schedules,
    stream_sources,
)
from local.uploads import UPLOAD_BODY_LIMIT, UploadNotifier, uploads_endpoint

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 8080
# How often the dashboard refreshes the board and an open lead on the local stack.
DASHBOARD_POLL_SECONDS = 3


def local_dir() -> Path:
    return Path(os.environ.get("LEADBOT_LOCAL_DIR") or REPO / ".local").resolve()


def function_env(
    template: dict[str, Any],
    names: dict[str, str],
    ddb: str,
    secrets: Path,
    api: str,
    public_url: str,
    exports: Path | None = None,
    brochures: Path | None = None,
    whatsapp_api: str = "",
    openai_api: str = "",
    airtable_api: str = "",
    sqs_api: str = "",
) -> dict[str, str]:
    """Every function's environment from template.yaml, with local tables, secrets and APIs.

    `public_url` is where leads' browsers reach the gateway (catalog links point there).
    `exports` is the folder that stands in for the exports bucket (no S3 here); the gateway
    serves it at /_local/exports (local.exports). `brochures` stands in for the brochures
    bucket; the gateway takes uploads into it at /_local/uploads (local.uploads).
    `openai_api` is the fake OpenAI's base URL: with it, functions have the demo OpenAI key.
    `airtable_api` is the fake Airtable's (pyairtable's endpoint_url). `sqs_api` is where the
    gateway serves the template's queues as SQS (local.fake_sqs): `!Ref <Queue>` is their URL.
    """
    from local.seed import OPENAI_KEY_PARAM

    refs = {
        **names,
        "Env": "local",
        "DashboardUrl": "",
        "LogLevel": "WARNING",
        "PublicApiUrl": public_url,
        "ExportsBucket": "",
        "BrochuresBucket": "",
        "OpenAIKeyParam": OPENAI_KEY_PARAM if openai_api else "",
        **{name: queue_url(sqs_api, name) if sqs_api else "" for name in queues(template)},
    }
    env: dict[str, str] = {}
    for function_id in _local_functions(template):
        env.update(function_environment(template, function_id, refs))
    env.update(
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        DYNAMODB_ENDPOINT=ddb,
        SECRETS_SOURCE=f"file:{secrets}",
        TELEGRAM_API_BASE=api,
    )
    if whatsapp_api:
        env.update(WHATSAPP_API_BASE=whatsapp_api)
    if openai_api:
        env.update(OPENAI_API_BASE=openai_api)
    if airtable_api:
        env.update(AIRTABLE_API_BASE=airtable_api)
    if sqs_api:
        env.update(SQS_ENDPOINT=sqs_api)
    if exports is not None:
        env.update(EXPORTS_DIR=str(exports), EXPORTS_URL_BASE=f"{public_url}/_local/exports")
    if brochures is not None:
        env.update(BROCHURES_DIR=str(brochures), BROCHURES_URL_BASE=f"{public_url}/_local/uploads")
    return env


def _local_functions(template: dict[str, Any]) -> list[str]:
    """The functions the local stack invokes: behind a route, on a stream, on a schedule, on an
    upload."""
    events: list[Any] = [
        *api_routes(template),
        *stream_sources(template),
        *schedules(template),
        *s3_notifications(template),
    ]
    return list(dict.fromkeys(event.function_id for event in events))


class LocalStack:
    """DynamoDB Local, tables, demo tenant, gateway, fake Telegram, streams and schedules."""

    def __init__(
        self,
        *,
        port: int,
        data: Path,
        ddb_port: int | None,
        telegram_api: str | None,
        public_url: str | None = None,
        background: bool = True,
        openai: bool = True,
    ):
        """`background=False` leaves stream pollers and schedules stopped (the bench drives
        score_update itself and counts every DynamoDB request of the process). `openai=False`
        gives the functions no OpenAI key: the product offline, as without one in AWS."""
        self.background = background
        self.openai = openai
        self.data = data
        self.template = load_template()
        self.names = local_table_names("leadbot-local", self.template)
        self.fake = FakeTelegram()
        self.fake_whatsapp = FakeWhatsApp()
        self.fake_openai = FakeOpenAI()
        self.fake_airtable = FakeAirtable()
        self.ddb = DynamoDBLocal(
            jar_dir=jar_dir(REPO / ".tools"), data_dir=data / "dynamodb", port=ddb_port
        )
        # Checkpoints beside the data: a restart goes on where the pollers stopped, as Lambda.
        self.streams = Streams(
            stream_sources(self.template),
            self.names,
            endpoint=self.ddb.endpoint,
            repo_root=REPO,
            checkpoints=data / "streams.json",
        )
        self.schedules = Schedules(schedules(self.template), REPO)
        # What S3 would tell the functions of an upload to the brochures bucket.
        self.upload_notifier = UploadNotifier(
            [n for n in s3_notifications(self.template) if n.bucket_id == "BrochuresBucket"], REPO
        )
        # The time the functions see; kept beside the data, which was written in it.
        self.clock = LocalClock(data / "clock.json")
        # The demo users' id tokens, minted at every start under a key kept in secrets.json.
        self.tokens: dict[str, str] = {}
        self._token_key = b""
        self.gateway = LocalGateway(
            api_routes(self.template),
            REPO,
            self.fake,
            {"tokens": lambda: self.tokens},
            endpoints={
                **self.streams.endpoints(),
                **self.schedules.endpoints(),
                **self.clock.endpoints(),
                "exports": exports_endpoint(data / "exports"),
                "uploads": uploads_endpoint(data / "brochures", self.upload_notifier),
                "openai": openai_endpoint(self.fake_openai),
                "airtable": airtable_endpoint(self.fake_airtable),
                "sqs": sqs_endpoint(self.streams.dead_letters, queues(self.template)),
                "simulator": Simulator(
                    self.verify_token,
                    tenant_webhook_secret,
                    self._deliver_update,
                    lambda: self.gateway.outbox("telegram"),
                ).endpoint(),
            },
            body_limits={"uploads": UPLOAD_BODY_LIMIT, "openai": OPENAI_BODY_LIMIT},
            fake_whatsapp=self.fake_whatsapp,
            verify_token=self.verify_token,
            site=DashboardSite(
                REPO / "dashboard" / "dist", lambda: local_config(DASHBOARD_POLL_SECONDS)
            ),
            port=port,
            verbose=False,
        )
        self.telegram_api = telegram_api or self.gateway.telegram_api_base
        self.openai_api = f"{self.gateway.url}/_local/openai/v1"
        self.airtable_api = f"{self.gateway.url}/_local/airtable"
        self.sqs_api = f"{self.gateway.url}/_local/sqs"
        # Where catalog links point: the gateway, unless a phone must reach it (a tunnel).
        self.public_url = public_url or self.gateway.url

    def start(self) -> None:
        import boto3

        from leadbot.services.runtime import brochure_store, repositories
        from local.seed import (
            DEMO_AIRTABLE_BASE_ID,
            DEMO_AIRTABLE_TOKEN,
            DEMO_OPENAI_KEY,
            DEMO_USERS,
            DEMO_WHATSAPP_ACCESS_TOKEN,
            DEMO_WHATSAPP_PHONE_NUMBER_ID,
            DEV_TOKEN_KEY_PARAM,
            demo_secrets,
            demo_tenant,
            seed,
        )
        from local.template import create_tables

        self.data.mkdir(parents=True, exist_ok=True)
        self.clock.load()
        self.fake_whatsapp.register(DEMO_WHATSAPP_PHONE_NUMBER_ID, DEMO_WHATSAPP_ACCESS_TOKEN)
        self.fake_openai.add_key(DEMO_OPENAI_KEY)
        self.fake_airtable.add_base(DEMO_AIRTABLE_BASE_ID, DEMO_AIRTABLE_TOKEN)
        self.ddb.start()
        secrets = self.data / "secrets.json"
        stored = json.loads(secrets.read_text()) if secrets.exists() else {}
        # The demo's own always win over stale ones; the link key survives, so do sent links.
        values = {**stored, **demo_secrets(stored)}
        if self.telegram_api != self.gateway.telegram_api_base:
            # Polling the real Bot API: the demo bot answers with the real bot's token.
            values[demo_tenant().telegram_bot_token_param] = os.environ["TELEGRAM_BOT_TOKEN"]
        secrets.write_text(json.dumps(values, indent=2))
        self._token_key = values[DEV_TOKEN_KEY_PARAM].encode()
        now = datetime.now(UTC)
        self.tokens = {
            name: auth.mint(auth.id_claims(user, now), self._token_key)
            for name, user in DEMO_USERS.items()
        }
        os.environ.update(
            function_env(
                self.template,
                self.names,
                self.ddb.endpoint,
                secrets,
                self.telegram_api,
                self.public_url,
                self.data / "exports",
                self.data / "brochures",
                self.gateway.whatsapp_api_base,
                self.openai_api if self.openai else "",
                self.airtable_api,
                self.sqs_api,
            )
        )
        client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=self.ddb.endpoint)
        create_tables(client, self.names, self.template)
        # Alerts link to the dashboard this gateway serves; brochures go to the folder that
        # stands in for S3.
        seed(repositories(), dashboard_url=self.gateway.url, brochures=brochure_store())
        if self.background:
            self.streams.start()
            self.schedules.start()
        self.gateway.start()
        (self.data / "stack.json").write_text(
            json.dumps({"url": self.gateway.url, "dynamodb": self.ddb.endpoint, "pid": os.getpid()})
        )

    def verify_token(self, token: str) -> dict[str, str]:
        """The gateway's Cognito authorizer: the claims of a token this stack signed."""
        if not self._token_key:
            raise auth.InvalidToken("the stack has not started")
        claims = auth.verify(token, self._token_key, datetime.now(UTC))
        return auth.apigw_claims(claims)

    def _deliver_update(self, tenant_id: str, update: bytes, secret: str) -> tuple[int, bytes]:
        """The chat simulator's update through the gateway's own webhook route, as Telegram."""
        return deliver_as_telegram(self.gateway.url, self.telegram_api)(tenant_id, update, secret)

    def stop(self) -> None:
        self.schedules.stop()
        self.streams.stop()
        self.gateway.stop()
        self.upload_notifier.wait(timeout=10)  # a brochure being read finishes with its tables
        self.ddb.stop()
        (self.data / "stack.json").unlink(missing_ok=True)


def _banner(stack: LocalStack) -> str:
    from local.seed import (
        DEMO_ADMIN_CHAT,
        DEMO_AIRTABLE_BASE_ID,
        DEMO_OPENAI_KEY,
        DEMO_TELEGRAM_SECRET,
        DEMO_TENANT_ID,
    )

    url = stack.gateway.url
    return "\n".join(
        [
            "LeadBot local stack is up.",
            f"  Dashboard         {url}/   (sign in as a demo user; `make dashboard` builds it)",
            f"  Telegram webhook  POST {url}/telegram/{DEMO_TENANT_ID}",
            f"                    header X-Telegram-Bot-Api-Secret-Token: {DEMO_TELEGRAM_SECRET}",
            f"  Catalog links     GET  {stack.public_url}/c/<token>   (sent to leads as buttons)",
            f"  Bot API outbox    GET  {url}/_local/outbox   (admin chat {DEMO_ADMIN_CHAT})",
            f"  Fake WhatsApp API POST {url}/_local/whatsapp/<version>/<phone_number_id>/messages",
            "  WhatsApp media    POST .../<phone_number_id>/media; GET, DELETE .../<version>/<id>",
            f"  Lead's media      POST {url}/_local/whatsapp/media   (bytes + Content-Type → id)",
            f"  Telegram files    POST {url}/_local/telegram/files   (a voice note → file_id)",
            f"  Fake OpenAI API   {url}/_local/openai/v1   (key: {DEMO_OPENAI_KEY})",
            f"  What went to it   GET  {url}/_local/openai/requests",
            f"  Fake Airtable API {url}/_local/airtable/v0   (base {DEMO_AIRTABLE_BASE_ID},"
            " token: README); GET /_local/airtable/requests",
            f"  Chat simulator    POST {url}/_local/simulator/<tenant>/updates   (dashboard token;"
            " the dashboard's Try the bot)",
            f"  Health            GET  {url}/_local/health",
            *_tokens_banner(stack),
            *_streams_banner(stack),
            *_schedules_banner(stack),
            f'  Clock             GET  {url}/_local/clock; POST {{"advance_s": N}} moves the'
            " functions' time N s on",
            f"  DynamoDB Local    {stack.ddb.endpoint}   data in {stack.data}",
            "  Admin code        make admin-code TENANT=demo",
            "  Rescore leads     make rescore TENANT=demo   (or ALL=1)",
            "  CRM sync DLQ      make crm-replay [LIMIT=N]   (writes it to Airtable again)",
            "  Follow-up index   make reindex-followups TENANT=demo   (or ALL=1)",
            "  Import leads      make import-leads FILE=sheet.csv TENANT=demo [SOURCE=expo]",
            "  Ingest brochure   make ingest FILE=b.pdf PROPERTY=<id> TENANT=demo [TITLE=…]",
            "  Brochure uploads  PUT  /_local/uploads/<token> (the dashboard's); each is then read"
            " by BrochureIngestFunction, as S3's event would have it",
            "  Import listings   make import-listings FILE=listings.csv TENANT=demo",
            f"  Airtable          make airtable-init TENANT=demo BASE={DEMO_AIRTABLE_BASE_ID}"
            "   (connects the fake's demo base)",
            "Ctrl-C stops everything.",
        ]
    )


def _tokens_banner(stack: LocalStack) -> list[str]:
    from local.seed import DEMO_USERS

    url = stack.gateway.url
    lines = [
        f"  Dashboard tokens  GET  {url}/_local/tokens   (30 days; header Authorization: <token>)"
    ]
    for name, token in stack.tokens.items():
        user = DEMO_USERS[name]
        lines.append(f"                    {name}: {user.email} ({user.role}, {user.tenant_id})")
        lines.append(f"                      {token}")
    return lines


def _streams_banner(stack: LocalStack) -> list[str]:
    pollers = stack.streams.pollers
    if not pollers:
        return ["  Streams           none in template.yaml"]
    url = stack.gateway.url
    lines = [f"  Streams           GET  {url}/_local/streams   DLQ GET {url}/_local/dlq"]
    for poller in pollers:
        source = poller.source
        off = "" if source.enabled else "  (disabled)"
        lines.append(f"                    {source.table_id} -> {source.function_id}{off}")
    return lines


def _schedules_banner(stack: LocalStack) -> list[str]:
    runners = stack.schedules.runners.values()
    if not runners:
        return ["  Schedules         none in template.yaml"]
    url = stack.gateway.url
    lines = [
        f"  Schedules         POST {url}/_local/schedules/<Function>/<Event> runs one now;",
        f"                    POST {url}/_local/schedules/<Function>/run runs each of a function's"
        " (GhostSweepFunction or ghost_sweep)",
    ]
    for runner in runners:
        schedule = runner.schedule
        note = "" if runner.timed else "  (on demand only)"
        lines.append(
            f"                    {schedule.function_id}/{schedule.event_name}"
            f" {schedule.expression}{note}"
        )
    return lines


def _deliver_to(url: str) -> Callable[[dict[str, Any]], tuple[int, bytes]]:
    """Post an update to the demo tenant's webhook, as Telegram would."""
    from local.seed import DEMO_TELEGRAM_SECRET, DEMO_TENANT_ID

    def deliver(update: dict[str, Any]) -> tuple[int, bytes]:
        headers = {"X-Telegram-Bot-Api-Secret-Token": DEMO_TELEGRAM_SECRET}
        response = httpx.post(f"{url}/telegram/{DEMO_TENANT_ID}", json=update, headers=headers)
        return response.status_code, response.content

    return deliver


def serve(args: argparse.Namespace) -> int:
    port = int(os.environ.get("PORT", DEFAULT_PORT))
    ddb_port = int(os.environ["DDB_PORT"]) if os.environ.get("DDB_PORT") else None
    telegram_api = "https://api.telegram.org" if args.poll_telegram else None
    try:
        stack = LocalStack(
            port=port,
            data=local_dir(),
            ddb_port=ddb_port,
            telegram_api=telegram_api,
            # A phone following a button from the real Telegram cannot reach 127.0.0.1.
            public_url=os.environ.get("PUBLIC_API_URL"),
        )
    except OSError as exc:
        print(f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); set PORT=…", file=sys.stderr)
        return 1
    except TemplateError as exc:
        print(f"template.yaml: {exc}", file=sys.stderr)
        return 1
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    # Ctrl-C stops the stack even when started from a shell that ignores SIGINT for its
    # background jobs (Python then leaves it ignored, and the stack could not be stopped).
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    started = time.monotonic()
    try:
        stack.start()
        print(_banner(stack), f"\nReady in {time.monotonic() - started:.1f} s.", flush=True)
        if args.poll_telegram:
            threading.Thread(
                target=poll_forever,
                args=(os.environ["TELEGRAM_BOT_TOKEN"], _deliver_to(stack.gateway.url), stopping),
                daemon=True,
            ).start()
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    except RuntimeError as exc:  # DynamoDB Local would not start: its log tail says why
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        print("Stopping…", flush=True)
        stack.stop()
    return 0


def ops(argv: list[str]) -> int:
    """`python -m leadbot.admin …` against the running local stack's DynamoDB and secrets."""
    stack_file = local_dir() / "stack.json"
    if not stack_file.exists():
        print("the local stack is not running: start it with `make dev`", file=sys.stderr)
        return 1
    running = json.loads(stack_file.read_text())
    template = load_template()
    env = function_env(
        template,
        local_table_names("leadbot-local", template),
        running["dynamodb"],
        local_dir() / "secrets.json",
        running["url"] + "/_local/telegram",
        running["url"],
        brochures=local_dir() / "brochures",
        whatsapp_api=running["url"] + "/_local/whatsapp",
        openai_api=running["url"] + "/_local/openai/v1",
        airtable_api=running["url"] + "/_local/airtable",
        sqs_api=running["url"] + "/_local/sqs",
    )
    os.environ.update(env)
    from leadbot.admin.__main__ import main

    return main(_with_stack_url(argv, running["url"]))


# `tenant` actions that talk to the deployment's own URL: on the local stack, the gateway's.
_NEEDS_URL = ("connect-telegram", "connect-whatsapp", "rotate-secret")


def _with_stack_url(argv: list[str], url: str) -> list[str]:
    if argv[:1] != ["tenant"] or not set(_NEEDS_URL) & set(argv[1:2]):
        return argv
    if "--base-url" in argv or "--stack" in argv:
        return argv
    return [*argv, "--base-url", url]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    parser.add_argument(
        "--poll-telegram",
        action="store_true",
        help="long-poll the real Bot API with TELEGRAM_BOT_TOKEN and feed updates to the webhook",
    )
    commands = parser.add_subparsers(dest="command")
    code = commands.add_parser("admin-code", help="issue a one-time /set_admin code")
    code.add_argument("--tenant", default="demo")
    rescore = commands.add_parser("rescore", help="score the existing leads of a tenant now")
    rescore.add_argument("--tenant", default="demo")
    rescore.add_argument("--all", action="store_true", help="every tenant")
    reindex = commands.add_parser(
        "reindex-followups", help="place a tenant's existing leads in the follow-up schedule"
    )
    reindex.add_argument("--tenant", default="demo")
    reindex.add_argument("--all", action="store_true", help="every tenant")
    sheet = commands.add_parser("import-leads", help="import a CSV of people as leads")
    sheet.add_argument("file", help="the CSV file (UTF-8)")
    sheet.add_argument("--tenant", default="demo")
    sheet.add_argument("--source", help="source of rows without one (default: import)")
    brochure = commands.add_parser("ingest", help="ingest a PDF brochure of a listing")
    brochure.add_argument("file", help="the brochure (PDF)")
    brochure.add_argument("--tenant", default="demo")
    brochure.add_argument("--property", required=True, help="the listing's property id")
    brochure.add_argument("--title", help="the brochure's title (default: the listing's)")
    airtable = commands.add_parser(
        "airtable-init", help="create LeadBot's tables in the agency's Airtable base (the fake)"
    )
    airtable.add_argument("--tenant", default="demo")
    airtable.add_argument("--base", help="connect this base id first (the demo's: see README)")
    airtable.add_argument("--token-param", help="the token's parameter name, if not the seeded one")
    replay = commands.add_parser(
        "crm-replay", help="write what the CRM sync's DLQ holds to Airtable again, and drain it"
    )
    replay.add_argument("--limit", type=int, help="at most this many messages")
    passthrough = commands.add_parser(
        "admin",
        help="any `python -m leadbot.admin` command against the running stack (tenant …, "
        "export-lead, forget-lead); tenant connect-*/rotate-secret get the gateway's URL",
    )
    passthrough.add_argument("args", nargs=argparse.REMAINDER)
    listings = commands.add_parser("import-listings", help="add or update listings from a CSV")
    listings.add_argument("file", help="the CSV file (UTF-8)")
    listings.add_argument("--tenant", default="demo")
    args = parser.parse_args(argv)
    if args.command == "import-listings":
        return ops(["listings", "import", "--tenant", args.tenant, str(Path(args.file).resolve())])
    if args.command == "import-leads":
        extra = ["--source", args.source] if args.source else []
        sheet_file = str(Path(args.file).resolve())
        return ops(["import-leads", "--tenant", args.tenant, *extra, sheet_file])
    if args.command == "ingest":
        extra = ["--title", args.title] if args.title else []
        brochure_file = str(Path(args.file).resolve())
        return ops(
            ["ingest", "--tenant", args.tenant, "--property", args.property, *extra, brochure_file]
        )
    if args.command == "admin":
        return ops([a for a in args.args if a != "--"] or ["--help"])
    if args.command == "admin-code":
        return ops(["issue-admin-code", "--tenant", args.tenant])
    if args.command == "airtable-init":
        extra = ["--base", args.base] if args.base else []
        extra += ["--token-param", args.token_param] if args.token_param else []
        return ops(["airtable-init", "--tenant", args.tenant, *extra])
    if args.command == "crm-replay":
        return ops(["crm-replay", *(["--limit", str(args.limit)] if args.limit else [])])
    if args.command == "rescore":
        return ops(["rescore", "--all"] if args.all else ["rescore", "--tenant", args.tenant])
    if args.command == "reindex-followups":
        which = ["--all"] if args.all else ["--tenant", args.tenant]
        return ops(["reindex-followups", *which])
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
