"""A local API Gateway: HTTP requests become REST (v1) proxy events for in-process handlers."""

from __future__ import annotations

import base64
import binascii
import importlib.util
import json
import re
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import TCPServer
from types import ModuleType, TracebackType
from typing import Any, Final, Self, cast
from urllib.parse import parse_qs, parse_qsl, unquote, urlsplit

from local.auth import ExpiredToken, InvalidToken, bearer_token
from local.dashboard import DashboardSite
from local.fake_telegram import FakeTelegram
from local.fake_whatsapp import MAX_MEDIA_BYTES, FakeWhatsApp, error_body
from local.template import CognitoAuthorizer, HandlerRef, Route

MAX_BODY_BYTES = 10 * 1024 * 1024
ACCOUNT_ID = "000000000000"
REGION = "us-east-1"
STAGE = "local"
LAMBDA_TIMEOUT_S = 30.0
LAMBDA_MEMORY_MB = 128

LambdaHandler = Callable[[dict[str, Any], Any], Any]
# An id token -> its claims as API Gateway passes them; raises InvalidToken (ExpiredToken).
TokenVerifier = Callable[[str], Mapping[str, str]]
Headers = list[tuple[str, str]]

_BOT_METHOD = re.compile(r"^/_local/telegram/bot(?P<token>[^/]+)/(?P<method>[A-Za-z0-9_]+)$")
_BOT_FILE = re.compile(r"^/_local/telegram/file/bot(?P<token>[^/]+)/(?P<path>.+)$")
_TELEGRAM_INBOUND_FILE = "/_local/telegram/files"
# Users send files of up to 2 GB; bots may download 20 MB. Enough to try both sides of that.
_TELEGRAM_FILE_BODY = 50 * 1024 * 1024
_WHATSAPP_MESSAGES = re.compile(
    r"^/_local/whatsapp/(?P<version>v[0-9.]+)/(?P<number>[^/]+)/messages$"
)
_WHATSAPP_UPLOAD = re.compile(r"^/_local/whatsapp/(?P<version>v[0-9.]+)/(?P<number>[^/]+)/media$")
_WHATSAPP_MEDIA = re.compile(r"^/_local/whatsapp/(?P<version>v[0-9.]+)/(?P<media_id>[^/]+)$")
_WHATSAPP_DOWNLOAD = re.compile(r"^/_local/whatsapp/media/(?P<media_id>[^/]+)/download$")
_WHATSAPP_INBOUND_MEDIA = "/_local/whatsapp/media"
# Graph takes documents up to 100 MB, past API Gateway's 10 MB; a little more for the form.
_WHATSAPP_MEDIA_BODY = MAX_MEDIA_BYTES + 1024 * 1024
_BUILTIN_LOCAL = frozenset({"health", "outbox", "telegram", "whatsapp"})
_CHANNELS = ("telegram", "whatsapp")
# Lambda computes Content-Length and the connection headers itself; never pass them through.
_HOP_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})
# API Gateway's own answers when a Cognito authorizer refuses a request.
_UNAUTHORIZED = {"message": "Unauthorized"}
_EXPIRED = {"message": "The incoming token has expired"}
_DEFAULT_FAULT_DESCRIPTIONS = {
    400: "Bad Request: chat not found",
    403: "Forbidden: bot was blocked by the user",
    429: "Too Many Requests: retry after {retry_after}",
}


class _HttpError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body)
        self.status = status
        self.body = body


@dataclass(frozen=True)
class LocalRequest:
    """A request to a pluggable /_local/<name> endpoint; `path` is what follows <name> (still
    percent-encoded); `headers` by lower-cased name; `raw_query` the query string as sent, for
    endpoints that take a parameter more than once (`records[]=…&records[]=…`)."""

    method: str
    path: str
    query: Mapping[str, str]
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    raw_query: str = ""


# A LocalResponse without a body (None is JSON null).
NO_BODY: Final = object()


@dataclass(frozen=True)
class LocalResponse:
    """`body` goes out as JSON, unless `raw` bytes of `content_type` are given; `allow` lists
    the methods of a 405."""

    status: int
    body: object = NO_BODY
    allow: str | None = None
    raw: bytes | None = None
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


LocalEndpoint = Callable[[LocalRequest], LocalResponse]


@dataclass(frozen=True)
class LambdaContext:
    """The subset of the Lambda context object handlers use."""

    function_name: str
    aws_request_id: str
    deadline: float = field(repr=False)
    memory_limit_in_mb: int = LAMBDA_MEMORY_MB
    function_version: str = "$LATEST"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[{self.function_version}]{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def proxy_event(
    resource: str,
    method: str,
    path: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    *,
    params: Mapping[str, str] | None = None,
    query: str = "",
    request_id: str | None = None,
    source_ip: str = "127.0.0.1",
    protocol: str = "HTTP/1.1",
    host: str = "127.0.0.1",
) -> dict[str, Any]:
    """An API Gateway REST (v1) Lambda proxy event, as API Gateway builds it for a request."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in headers:
        single[key] = value
        multi.setdefault(key, []).append(value)
    multi_query = parse_qs(query, keep_blank_values=True)
    text: str | None
    encoded = False
    if not body:
        text = None
    else:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode("ascii"), True
    now = datetime.now(UTC)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": single,
        "multiValueHeaders": multi,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(params) if params else None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "stage": STAGE,
            "resourceId": "local",
            "resourcePath": resource,
            "httpMethod": method,
            "path": path,
            "protocol": protocol,
            "requestId": request_id or str(uuid.uuid4()),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "domainName": single.get("Host", host),
            "identity": {"sourceIp": source_ip, "userAgent": single.get("User-Agent")},
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


def lambda_context(function_name: str, timeout_s: float = LAMBDA_TIMEOUT_S) -> LambdaContext:
    return LambdaContext(
        function_name=function_name,
        aws_request_id=str(uuid.uuid4()),
        deadline=time.monotonic() + timeout_s,
    )


def match_path(template: str, path: str) -> dict[str, str] | None:
    """Path parameters if `path` fits the API Gateway path template, else None."""
    wanted = template.split("/")[1:]
    given = path.split("/")[1:]
    params: dict[str, str] = {}
    for i, segment in enumerate(wanted):
        if segment.startswith("{") and segment.endswith("+}"):
            rest = "/".join(given[i:])
            if not rest:
                return None
            params[segment[1:-2]] = unquote(rest)
            return params
        if i >= len(given):
            return None
        if segment.startswith("{") and segment.endswith("}"):
            if not given[i]:
                return None
            params[segment[1:-1]] = unquote(given[i])
        elif segment != given[i]:
            return None
    return params if len(given) == len(wanted) else None


def _json_body(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, default=str).encode("utf-8")


def _json_object(body: bytes) -> dict[str, Any]:
    """A local route's JSON object body (empty means {}), else a 400 saying what is wrong."""
    try:
        spec = json.loads(body or b"{}")
    except ValueError:
        raise _HttpError(400, {"message": "body is not JSON"}) from None
    if not isinstance(spec, dict):
        raise _HttpError(400, {"message": "body must be a JSON object"})
    return spec


def _proxy_response(result: object) -> tuple[int, Headers, bytes]:
    """Map a Lambda proxy result to (status, headers, body) or raise ValueError if malformed."""
    if not isinstance(result, dict):
        raise ValueError(f"handler returned {type(result).__name__}, not a dict")
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise ValueError(f"statusCode {status!r} is not an HTTP status")
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise ValueError("headers and multiValueHeaders must be objects")
    # As API Gateway does: a key in multiValueHeaders replaces the same key in headers.
    headers: Headers = [
        (str(k), str(v)) for k, v in single.items() if k not in multi and v is not None
    ]
    for key, values in multi.items():
        if not isinstance(values, list):
            raise ValueError(f"multiValueHeaders[{key!r}] is not a list")
        headers += [(str(key), str(v)) for v in values]
    headers = [(k, v) for k, v in headers if k.lower() not in _HOP_HEADERS]
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "application/json"))
    raw = result.get("body")
    if raw is None:
        body = b""
    elif not isinstance(raw, str):
        raise ValueError(f"body is {type(raw).__name__}, not a string")
    elif result.get("isBase64Encoded"):
        try:
            body = base64.b64decode(raw, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"isBase64Encoded but body is not base64: {exc}") from None
    else:
        body = raw.encode("utf-8")
    return status, headers, body


class _Function:
    """One loaded handler; calls run concurrently, as Lambda scales out to parallel requests."""

    def __init__(self, name: str, handler: LambdaHandler) -> None:
        self.name = name
        self.handler = handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 resets connections when a burst of clients (a
    # webhook retry storm, the bench's 100 leads) connects at once.
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], gateway: LocalGateway) -> None:
        self.gateway = gateway
        super().__init__(address, _RequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall on machines without DNS.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up mid-response is routine for a dev server; anything else is not.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class LocalGateway:
    """API Gateway (REST, Lambda proxy) on 127.0.0.1, plus /_local/* helpers and a fake Bot API."""

    def __init__(
        self,
        routes: list[Route],
        repo_root: Path,
        fake_telegram: FakeTelegram,
        extra: Mapping[str, Callable[[], object]] | None = None,
        *,
        fake_whatsapp: FakeWhatsApp | None = None,
        endpoints: Mapping[str, LocalEndpoint] | None = None,
        body_limits: Mapping[str, int] | None = None,
        verify_token: TokenVerifier | None = None,
        site: DashboardSite | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
        verbose: bool = False,
    ) -> None:
        """`verify_token` checks the id tokens of routes behind a Cognito authorizer;
        `body_limits` lets an endpoint take bodies bigger than API Gateway's 10 MB (uploads,
        which go to S3 in AWS, not through the API). `site` is the dashboard, answering GETs
        of paths no route and no /_local endpoint takes (S3 + CloudFront's part in AWS)."""
        clash = _BUILTIN_LOCAL & (set(extra or {}) | set(endpoints or {}))
        if clash:
            raise ValueError(f"extra endpoints shadow built-in ones: {sorted(clash)}")
        guarded = [f"{r.method} {r.path}" for r in routes if r.authorizer is not None]
        if guarded and verify_token is None:
            raise ValueError(f"routes behind an authorizer need verify_token: {guarded}")
        self.verify_token = verify_token
        self.site = site
        self.routes = list(routes)
        self.repo_root = repo_root
        self.fake_telegram = fake_telegram
        self.fake_whatsapp = fake_whatsapp or FakeWhatsApp()
        self.extra = dict(extra or {})
        # /_local/<name> and everything under it; the longest name wins.
        self.endpoints = dict(sorted((endpoints or {}).items(), key=lambda kv: -len(kv[0])))
        unknown = set(body_limits or {}) - set(self.endpoints)
        if unknown:
            raise ValueError(f"body limits for endpoints that do not exist: {sorted(unknown)}")
        self.body_limits = dict(body_limits or {})
        self.verbose = verbose
        self._functions: dict[str, _Function] = {}
        # Bound now so `url` is known before start() (e.g. to configure the bot's API base).
        self._server = _Server((host, port), self)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_port

    @property
    def url(self) -> str:
        return f"http://{self._server.server_name}:{self.port}"

    @property
    def telegram_api_base(self) -> str:
        """Base URL for the bot's Telegram client: requests go to <base>/bot<token>/<method>."""
        return f"{self.url}/_local/telegram"

    @property
    def whatsapp_api_base(self) -> str:
        """Base URL for a WhatsApp client: it posts to <base>/<version>/<number id>/messages."""
        return f"{self.url}/_local/whatsapp"

    def outbox(self, channel: str | None = None) -> list[dict[str, Any]]:
        """What the fakes were sent, oldest first; each record names its `channel`.

        Telegram's records keep their shape (method, token, chat_id, payload, at, status) and
        WhatsApp's follow it (`chat_id` is the recipient, `payload` the message JSON), so
        readers that filter on chat_id or method see only what they always saw.
        """
        records = []
        if channel in (None, "telegram"):
            records += [{"channel": "telegram", **c} for c in self.fake_telegram.outbox()]
        if channel in (None, "whatsapp"):
            records += self.fake_whatsapp.outbox()
        # Stable: calls of one channel keep their order; the millisecond stamps interleave them.
        return sorted(records, key=lambda record: str(record["at"]))

    def start(self) -> None:
        """Serve in a background daemon thread."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"local-gateway-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port. Idempotent."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- routing ---------------------------------------------------------------------------

    def resolve(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route for a request, or _HttpError 404/403 worded like API Gateway."""
        candidates = [
            (route, params)
            for route in self.routes
            if (params := match_path(route.path, path)) is not None
        ]
        # The most literal template wins, as API Gateway prefers /a/b over /a/{x}.
        candidates.sort(key=lambda item: len(item[1]))
        for route, params in candidates:
            if route.method.upper() in (method, "ANY"):
                return route, params
        status = 403 if candidates else 404
        raise _HttpError(status, {"message": "Missing Authentication Token"})

    def authorize(self, authorizer: CognitoAuthorizer, header: str | None) -> dict[str, str]:
        """The caller's claims, or _HttpError 401 worded as API Gateway's Cognito authorizer."""
        token = bearer_token(header)
        if token is None or self.verify_token is None:
            raise _HttpError(401, _UNAUTHORIZED)
        try:
            return dict(self.verify_token(token))
        except ExpiredToken:
            raise _HttpError(401, _EXPIRED) from None
        except InvalidToken:
            raise _HttpError(401, _UNAUTHORIZED) from None

    def body_limit(self, path: str) -> int:
        """The largest body a request to `path` may carry."""
        if _WHATSAPP_UPLOAD.match(path) or path == _WHATSAPP_INBOUND_MEDIA:
            return _WHATSAPP_MEDIA_BODY
        if path == _TELEGRAM_INBOUND_FILE:
            return _TELEGRAM_FILE_BODY
        name = path.removeprefix("/_local/")
        for prefix, limit in self.body_limits.items():
            if path.startswith("/_local/") and (name == prefix or name.startswith(prefix + "/")):
                return limit
        return MAX_BODY_BYTES

    def function(self, route: Route) -> _Function:
        """Load `<code_uri>/<module>.py` once per function id and cache its handler."""
        cached = self._functions.get(route.function_id)
        if cached is None:
            cached = _Function(route.function_id, load_handler(self.repo_root, route))
            self._functions[route.function_id] = cached
        return cached


_LOAD_LOCK = threading.RLock()


def load_handler(repo_root: Path, function: HandlerRef) -> LambdaHandler:
    """Load a function's handler from its CodeUri the way Lambda does: by file, not by package.

    One module per function id, loaded once, whichever event (route, stream, schedule) asks.
    """
    module_path, _, attr = function.handler.rpartition(".")
    if not module_path:
        raise ValueError(f"{function.function_id}: handler {function.handler!r} lacks a module")
    name = "lambda_" + re.sub(r"\W", "_", function.function_id)
    with _LOAD_LOCK:
        if name in sys.modules:
            return _handler_of(sys.modules[name], attr, function.function_id)
        code_dir = (repo_root / function.code_uri).resolve()
        source = code_dir / (module_path.replace(".", "/") + ".py")
        spec = importlib.util.spec_from_file_location(name, source)
        if spec is None or spec.loader is None:
            raise ImportError(f"{function.function_id}: cannot load {source}")
        # Lambda puts the code directory on sys.path, so helper modules beside app.py import.
        if str(code_dir) not in sys.path:
            sys.path.append(str(code_dir))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
        return _handler_of(module, attr, function.function_id)


def _handler_of(module: ModuleType, attr: str, function_id: str) -> LambdaHandler:
    handler = getattr(module, attr, None)
    if not callable(handler):
        raise AttributeError(f"{function_id}: {module.__file__} has no callable {attr!r}")
    return cast(LambdaHandler, handler)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "LeadBotLocalGateway/1"

    @property
    def gateway(self) -> LocalGateway:
        return cast(_Server, self.server).gateway

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as separate writes; with Nagle plus delayed ACKs that costs
        # ~40 ms per response on loopback.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def __getattr__(self, name: str) -> Any:
        # API Gateway answers every method (403 where it has no route); http.server would
        # answer 501 for any method without a do_ handler (TRACE, QUERY, …).
        if name.startswith("do_") and name[3:].isalpha():
            return self._dispatch
        raise AttributeError(name)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # _dispatch logs one line with the timing instead

    def log_message(self, format: str, *args: Any) -> None:
        if self.gateway.verbose:
            super().log_message(format, *args)

    # -- plumbing --------------------------------------------------------------------------

    def _dispatch(self) -> None:
        started = time.monotonic()
        split = urlsplit(self.path)
        path, query = split.path, split.query
        try:
            body = self._read_body(self.gateway.body_limit(path))
            if path == "/_local" or path.startswith("/_local/"):
                status, headers, payload = self._local(path, query, body)
            elif self._for_site(path):
                status, headers, payload = cast(DashboardSite, self.gateway.site).answer(path)
            else:
                status, headers, payload = self._invoke(path, query, body)
        except _HttpError as exc:
            status, headers, payload = exc.status, [], _json_body(exc.body)
            headers.append(("Content-Type", "application/json"))
            if exc.body.get("message") == "Missing Authentication Token":
                headers.append(("x-amzn-ErrorType", "MissingAuthenticationTokenException"))
            elif exc.body in (_UNAUTHORIZED, _EXPIRED):
                headers.append(("x-amzn-ErrorType", "UnauthorizedException"))
        except Exception:
            # A bug in the gateway itself: answer rather than drop the connection.
            traceback.print_exc(file=sys.stderr)
            status, headers = 500, [("Content-Type", "application/json")]
            payload = _json_body({"message": "local gateway error"})
        self._send(status, headers, payload)
        if self.gateway.verbose:
            elapsed = (time.monotonic() - started) * 1000
            print(
                f"[gateway] {self.command} {path} -> {status} ({elapsed:.0f} ms)", file=sys.stderr
            )

    def _read_body(self, limit: int) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked(limit)
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        try:
            length = int(raw)
        except ValueError:
            self.close_connection = True
            raise _HttpError(400, {"message": "Invalid Content-Length"}) from None
        if length < 0:
            self.close_connection = True
            raise _HttpError(400, {"message": "Invalid Content-Length"})
        if length > limit:
            # The body stays unread, so this connection cannot carry another request.
            self.close_connection = True
            raise _HttpError(413, {"message": "Request Too Long"})
        return self.rfile.read(length)

    def _read_chunked(self, limit: int) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                self.close_connection = True
                raise _HttpError(400, {"message": "Invalid chunked body"}) from None
            if size == 0:
                while self.rfile.readline(1024).strip():
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > limit:
                self.close_connection = True
                raise _HttpError(413, {"message": "Request Too Long"})
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _send(self, status: int, headers: Headers, body: bytes) -> None:
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        if status not in (204, 304) and not 100 <= status < 200:
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    # -- API routes ------------------------------------------------------------------------

    def _for_site(self, path: str) -> bool:
        """A GET the dashboard answers: not /api/*, and no route's path (whatever its method:
        GET /telegram/{tenant} stays API Gateway's 403)."""
        site = self.gateway.site
        if site is None or self.command not in ("GET", "HEAD") or not site.serves(path):
            return False
        return not any(match_path(route.path, path) is not None for route in self.gateway.routes)

    def _invoke(self, path: str, query: str, body: bytes) -> tuple[int, Headers, bytes]:
        gateway = self.gateway
        route, params = gateway.resolve(self.command, path)
        claims = None
        if route.authorizer is not None:
            claims = gateway.authorize(route.authorizer, self.headers.get(route.authorizer.header))
        request_id = str(uuid.uuid4())
        event = self._event(route, path, query, params, body, request_id)
        if claims is not None:
            event["requestContext"]["authorizer"] = {"claims": claims}
        try:
            function = gateway.function(route)
            context = LambdaContext(
                function_name=route.function_id,
                aws_request_id=request_id,
                deadline=time.monotonic() + LAMBDA_TIMEOUT_S,
            )
            result = function.handler(event, context)
            return _proxy_response(result)
        except Exception:
            # Like API Gateway in front of a crashed Lambda: a bare 502, details in the logs.
            print(
                f"[gateway] {route.function_id} failed on {self.command} {path}:", file=sys.stderr
            )
            traceback.print_exc(file=sys.stderr)
            raise _HttpError(502, {"message": "Internal server error"}) from None

    def _event(
        self,
        route: Route,
        path: str,
        query: str,
        params: dict[str, str],
        body: bytes,
        request_id: str,
    ) -> dict[str, Any]:
        return proxy_event(
            route.path,
            self.command,
            path,
            list(self.headers.items()),
            body,
            params=params,
            query=query,
            request_id=request_id,
            source_ip=self.client_address[0],
            protocol=self.request_version,
            host=f"127.0.0.1:{self.gateway.port}",
        )

    # -- /_local/* -------------------------------------------------------------------------

    def _local(self, path: str, query: str, body: bytes) -> tuple[int, Headers, bytes]:
        gateway = self.gateway
        method = self.command
        json_type: Headers = [("Content-Type", "application/json")]
        if (bot := _BOT_METHOD.match(path)) is not None:
            if method not in ("GET", "POST"):
                return 405, [*json_type, ("Allow", "GET, POST")], b""
            return self._bot_api(unquote(bot["token"]), bot["method"], query, body)
        if (file := _BOT_FILE.match(path)) is not None:
            if method not in ("GET", "HEAD"):
                return 405, [*json_type, ("Allow", "GET, HEAD")], b""
            status, content_type, raw = gateway.fake_telegram.download(
                unquote(file["token"]), unquote(file["path"])
            )
            return status, [("Content-Type", content_type)], raw
        if (messages := _WHATSAPP_MESSAGES.match(path)) is not None:
            if method != "POST":
                return 405, [*json_type, ("Allow", "POST")], b""
            return self._whatsapp_api(messages["version"], unquote(messages["number"]), body)
        if (upload := _WHATSAPP_UPLOAD.match(path)) is not None:
            if method != "POST":
                return 405, [*json_type, ("Allow", "POST")], b""
            return self._whatsapp_upload(upload["version"], unquote(upload["number"]), body)
        if (download := _WHATSAPP_DOWNLOAD.match(path)) is not None:
            if method not in ("GET", "HEAD"):
                return 405, [*json_type, ("Allow", "GET, HEAD")], b""
            authorization = self.headers.get("Authorization")
            status, content_type, raw = gateway.fake_whatsapp.download(
                unquote(download["media_id"]), authorization
            )
            return status, [("Content-Type", content_type)], raw
        if (media := _WHATSAPP_MEDIA.match(path)) is not None:
            if method not in ("GET", "DELETE"):
                return 405, [*json_type, ("Allow", "GET, DELETE")], b""
            return self._whatsapp_media(media["version"], unquote(media["media_id"]), query)
        if path.startswith("/_local/telegram/bot"):
            return (
                404,
                json_type,
                _json_body({"ok": False, "error_code": 404, "description": "Not Found"}),
            )
        name = path.removeprefix("/_local/")
        allowed = {
            "health": "GET",
            "outbox": "GET, DELETE",
            "telegram/faults": "POST",
            "telegram/files": "POST",
            "whatsapp/faults": "POST",
            "whatsapp/media": "POST",
        }
        allowed.update({extra: "GET" for extra in gateway.extra})
        if name not in allowed:
            return self._endpoint(path, name, query, body)
        if method not in allowed[name].split(", "):
            return 405, [*json_type, ("Allow", allowed[name])], b""
        if name == "health":
            routes = [f"{r.method} {r.path}" for r in gateway.routes]
            return 200, json_type, _json_body({"status": "ok", "routes": routes})
        if name == "outbox" and method == "GET":
            params = dict(parse_qsl(query))
            channel, chat_id = params.get("channel"), params.get("chat_id")
            if channel is not None and channel not in _CHANNELS:
                raise _HttpError(400, {"message": f"channel must be one of {list(_CHANNELS)}"})
            records = gateway.outbox(channel)
            if chat_id is not None:
                records = [r for r in records if str(r.get("chat_id")) == chat_id]
            return 200, json_type, _json_body(records)
        if name == "outbox":
            gateway.fake_telegram.clear()
            gateway.fake_whatsapp.clear()
            return 204, [], b""
        if name == "whatsapp/faults":
            self._add_whatsapp_fault(body)
            return 204, [], b""
        if name == "whatsapp/media":
            return 200, json_type, _json_body({"id": self._put_whatsapp_media(query, body)})
        if name == "telegram/faults":
            self._add_fault(body)
            return 204, [], b""
        if name == "telegram/files":
            return 200, json_type, _json_body(self._put_telegram_file(body))
        try:
            value = gateway.extra[name]()
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            raise _HttpError(500, {"message": f"{name} failed: {exc}"}) from None
        return 200, json_type, _json_body(value)

    def _endpoint(
        self, path: str, name: str, query: str, body: bytes
    ) -> tuple[int, Headers, bytes]:
        found = [
            (prefix, endpoint)
            for prefix, endpoint in self.gateway.endpoints.items()
            if name == prefix or name.startswith(prefix + "/")
        ]
        if not found:
            raise _HttpError(404, {"message": f"no local endpoint {path}"})
        prefix, endpoint = found[0]
        request = LocalRequest(
            method=self.command,
            path=name.removeprefix(prefix),
            query=dict(parse_qsl(query, keep_blank_values=True)),
            body=body,
            headers={k.lower(): v for k, v in self.headers.items()},
            raw_query=query,
        )
        try:
            response = endpoint(request)
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            raise _HttpError(500, {"message": f"{prefix} failed: {exc}"}) from None
        headers: Headers = [("Content-Type", response.content_type), *response.headers]
        if response.allow is not None:
            headers.append(("Allow", response.allow))
        if response.raw is not None:
            return response.status, headers, response.raw
        payload = b"" if response.body is NO_BODY else _json_body(response.body)
        return response.status, headers, payload

    def _add_fault(self, body: bytes) -> None:
        spec = _json_object(body)
        chat_id, code = spec.get("chat_id"), spec.get("error_code")
        retry_after, times = spec.get("retry_after"), spec.get("times", 1)
        description = spec.get("description")
        if not isinstance(code, int) or isinstance(code, bool):
            raise _HttpError(400, {"message": "error_code must be an integer"})
        if chat_id is not None and not isinstance(chat_id, str | int):
            raise _HttpError(400, {"message": "chat_id must be a string, a number or null"})
        if retry_after is not None and not isinstance(retry_after, int):
            raise _HttpError(400, {"message": "retry_after must be an integer or null"})
        if not isinstance(times, int):
            raise _HttpError(400, {"message": "times must be an integer"})
        if description is None:
            template = _DEFAULT_FAULT_DESCRIPTIONS.get(code, "Error {error_code}")
            description = template.format(error_code=code, retry_after=retry_after)
        try:
            self.gateway.fake_telegram.fail_next(
                None if chat_id is None else str(chat_id),
                code,
                str(description),
                retry_after=retry_after,
                times=times,
            )
        except ValueError as exc:
            raise _HttpError(400, {"message": str(exc)}) from None

    def _add_whatsapp_fault(self, body: bytes) -> None:
        """{"to": wa_id or null, "code": 131047, "message": "...", "times": 1}"""
        spec = _json_object(body)
        to, code, times = spec.get("to"), spec.get("code"), spec.get("times", 1)
        if not isinstance(code, int) or isinstance(code, bool):
            raise _HttpError(400, {"message": "code must be an integer"})
        if to is not None and not isinstance(to, str):
            raise _HttpError(400, {"message": "to must be a string or null"})
        if not isinstance(times, int):
            raise _HttpError(400, {"message": "times must be an integer"})
        message = str(spec.get("message") or f"({code}) Error")
        try:
            self.gateway.fake_whatsapp.fail_next(to, code, message, times=times)
        except ValueError as exc:
            raise _HttpError(400, {"message": str(exc)}) from None

    def _whatsapp_api(self, version: str, number: str, body: bytes) -> tuple[int, Headers, bytes]:
        json_type: Headers = [("Content-Type", "application/json")]
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            error = error_body(100, "(#100) Request body is not valid JSON")
            return 400, json_type, _json_body(error)
        authorization = self.headers.get("Authorization")
        status, answer = self.gateway.fake_whatsapp.handle(version, number, authorization, payload)
        return status, json_type, _json_body(answer)

    def _whatsapp_upload(
        self, version: str, number: str, body: bytes
    ) -> tuple[int, Headers, bytes]:
        authorization = self.headers.get("Authorization")
        content_type = self.headers.get("Content-Type", "")
        status, answer = self.gateway.fake_whatsapp.upload(
            version, number, authorization, content_type, body
        )
        return status, [("Content-Type", "application/json")], _json_body(answer)

    def _whatsapp_media(
        self, version: str, media_id: str, query: str
    ) -> tuple[int, Headers, bytes]:
        """GET (where to download it) or DELETE one media object, as Graph's /{media_id}."""
        fake = self.gateway.fake_whatsapp
        authorization = self.headers.get("Authorization")
        number = dict(parse_qsl(query)).get("phone_number_id")
        if self.command == "DELETE":
            status, answer = fake.delete_media(version, media_id, authorization, number)
        else:
            # Download URLs point back here, as Graph's point at its CDN.
            base = f"{self.gateway.whatsapp_api_base}/media"
            status, answer = fake.retrieve(version, media_id, authorization, number, base)
        return status, [("Content-Type", "application/json")], _json_body(answer)

    def _put_whatsapp_media(self, query: str, body: bytes) -> str:
        """Store raw bytes (Content-Type: their MIME type) as media a lead sent; their id."""
        content_type = self.headers.get("Content-Type")
        if not content_type:
            raise _HttpError(400, {"message": "Content-Type must name the media's MIME type"})
        if not body:
            raise _HttpError(400, {"message": "the body must be the media's bytes"})
        number = dict(parse_qsl(query)).get("phone_number_id")
        return self.gateway.fake_whatsapp.put_media(body, content_type, number)

    def _put_telegram_file(self, body: bytes) -> dict[str, Any]:
        """Keep raw bytes (Content-Type: their MIME type) as a file a user sent the bot: the
        `file_id`, `file_unique_id` and `file_size` an update's voice or audio carries."""
        if not body:
            raise _HttpError(400, {"message": "the body must be the file's bytes"})
        content_type = self.headers.get("Content-Type") or "audio/ogg"
        return self.gateway.fake_telegram.put_file(body, content_type)

    def _bot_api(
        self, token: str, method: str, query: str, body: bytes
    ) -> tuple[int, Headers, bytes]:
        # Telegram accepts parameters in the query string and in the body, in any of its formats.
        payload: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        content_type = self.headers.get_content_type()
        if body:
            try:
                payload.update(self._parse_bot_body(content_type, body))
            except ValueError as exc:
                status, error = 400, {"ok": False, "error_code": 400, "description": str(exc)}
                return status, [("Content-Type", "application/json")], _json_body(error)
        status, answer = self.gateway.fake_telegram.handle(token, method, payload)
        return status, [("Content-Type", "application/json")], _json_body(answer)

    def _parse_bot_body(self, content_type: str, body: bytes) -> dict[str, Any]:
        if content_type == "application/x-www-form-urlencoded":
            return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
        if content_type == "multipart/form-data":
            header = self.headers.get("Content-Type", "")
            message = BytesParser(policy=HTTP).parsebytes(
                b"Content-Type: " + header.encode("latin-1") + b"\r\n\r\n" + body
            )
            fields: dict[str, Any] = {}
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                data = part.get_payload(decode=True)
                if not isinstance(name, str) or not isinstance(data, bytes):
                    continue
                filename = part.get_filename()
                fields[name] = (
                    f"<file {filename}, {len(data)} bytes>"
                    if filename
                    else data.decode("utf-8", errors="replace")
                )
            return fields
        try:
            data = json.loads(body)
        except ValueError:
            if content_type == "application/json":
                raise ValueError("Bad Request: can't parse JSON body") from None
            return {}  # Telegram ignores bodies it cannot read
        if not isinstance(data, dict):
            raise ValueError("Bad Request: JSON body must be an object")
        return data
