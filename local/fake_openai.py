"""An in-memory fake of OpenAI's chat completions and audio transcriptions, in their wire format.

The local stack mounts it at `/_local/openai/v1/...`; tests point the official SDK at it over
HTTP. It answers as OpenAI does: Bearer keys (401 with OpenAI's error envelope
`{"error": {"message", "type", "param", "code"}}`), request validation (model, messages,
temperature, token limits; multipart file and model), and faults a test asks for (429, 500, a
slow answer for timeouts).

Its answers are deterministic and come only from what it is given, so an evaluation run
through it measures the prompts and retrieval, not the fake:

- Chat: the passages are the lines of any message that start with a bracketed label,
  `[Brochure p.8] The price per sq.ft is AED 1,960. ...` (a passage runs on over the following
  lines until a blank line, the next passage or the question). The question is what follows
  `Question:` in the last user message, else that message's text outside the passages. The
  answer is the sentence sharing the most words with the question (earlier sentences winning
  ties) of the passage sharing the most (its label counted, earlier passages winning ties),
  followed by the passage's label in brackets:
  `The price per sq.ft is AED 1,960. [Brochure p.8]`. With no passage sharing a word, the
  answer is NO_ANSWER. `max_completion_tokens` (or `max_tokens`) cuts it short, with
  finish_reason "length". Tokens are counted as words and punctuation marks (an approximation,
  but the same for the same text).
- Transcriptions: the file must be in one of OpenAI's formats, by its name's extension, and
  start like one (Ogg, WAV, MP3, FLAC, MP4/M4A, WebM). Its transcript is the UTF-8 text after
  the file's last NUL byte: `fake_voice_note("I want a villa")` makes such a file (an Ogg
  header, a NUL, the text). Bytes that are not text there transcribe as "" (silence).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from local.gateway import LocalEndpoint, LocalRequest, LocalResponse

CHAT_MODELS = frozenset(
    {
        "gpt-4o-mini",
        "gpt-4o",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4.1-nano",
        "gpt-5",
        "gpt-5-mini",
        "gpt-5-nano",
    }
)
TRANSCRIBE_MODELS = frozenset({"whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"})
AUDIO_FORMATS = ("flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm")
MAX_AUDIO_BYTES = 25 * 1024 * 1024
# The request body the gateway lets through to it: the largest audio file plus the form.
BODY_LIMIT = MAX_AUDIO_BYTES + 1024 * 1024
ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
NO_ANSWER = "I don't know: the passages given do not say."
_SERVER_ERROR = "The server had an error while processing your request. Sorry about that!"

_PASSAGE = re.compile(
    r"^\s*(?:[-*•]\s*|\d{1,3}[.)]\s*)?\[(?P<label>[^\[\]\n]{1,80})\]\s*(?P<text>.*)$"
)
_QUESTION = re.compile(r"^\s*(?:question|q)\s*[:：]\s*(?P<text>.*)$", re.IGNORECASE)
_WORD = re.compile(r"\w+")
_TOKEN = re.compile(r"\w+|[^\w\s]")
# The end of a sentence: a full stop (not inside a number such as 2.5), ! or ? in any script.
_SENTENCE_END = re.compile(r"(?<=[.!?؟।。])(?=\s)")
# English words that say nothing about which passage answers.
_STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        "a an and any are as at be by can could do does for from has have how i in is it me my "
        "of on or please tell the there this to was we what when where which who why will with "
        "would you your about",
    )
)


def fake_voice_note(text: str) -> bytes:
    """An "Ogg" file the fake transcribes as `text` (see the module's doc)."""
    return b"OggS\x00\x02" + bytes(range(1, 23)) + b"\x00" + text.encode("utf-8")


@dataclass
class _Fault:
    endpoint: str | None  # "chat", "transcriptions" or None for both
    status: int | None  # None: answer normally, only late
    delay_s: float
    remaining: int


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: JSON `body`, or `text` (transcriptions as response_format=text)."""

    status: int
    body: dict[str, Any] | None = None
    text: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Passage:
    label: str
    text: str


def error(
    status: int,
    message: str,
    kind: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
) -> Answer:
    """OpenAI's error envelope."""
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return Answer(status, body)


def mask_key(key: str) -> str:
    return key[:3] + "…" + key[-2:] if len(key) > 8 else "…"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FakeOpenAI:
    """Thread-safe: records every request (newest last) and answers it as OpenAI would."""

    def __init__(self, keys: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._keys = set(keys)
        self._faults: list[_Fault] = []
        self._requests: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    # -- test and local-stack controls ----------------------------------------------------

    def add_key(self, key: str) -> None:
        with self._lock:
            self._keys.add(key)

    def fail_next(
        self,
        status: int | None = None,
        *,
        delay_s: float = 0.0,
        times: int = 1,
        endpoint: str | None = None,
    ) -> None:
        """Make the next `times` authenticated requests (to `endpoint`: "chat" or
        "transcriptions"; None for either) wait `delay_s`, then fail with `status` (429 rate
        limit, 500, 503, ...) or, with no status, answer normally."""
        if times < 1:
            raise ValueError("times must be at least 1")
        if status is not None and not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status (400-599) or null")
        if not 0 <= delay_s <= 120:
            raise ValueError("delay_s must be between 0 and 120")
        if endpoint not in (None, "chat", "transcriptions"):
            raise ValueError('endpoint must be "chat", "transcriptions" or null')
        with self._lock:
            self._faults.append(_Fault(endpoint, status, delay_s, times))

    def requests(self) -> list[dict[str, Any]]:
        """What was sent to "OpenAI", oldest first: the text of every message (so tests can
        check what leaves the product) and, for audio, its size and transcript."""
        with self._lock:
            return copy.deepcopy(self._requests)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
            self._faults.clear()

    # -- the API ----------------------------------------------------------------------------

    def chat(self, authorization: str | None, body: bytes) -> Answer:
        """POST /v1/chat/completions."""
        record: dict[str, Any] = {"endpoint": "chat.completions", "at": _now_iso()}
        return self._serve("chat", authorization, record, lambda: _chat(body, record, self._id()))

    def transcribe(self, authorization: str | None, content_type: str, body: bytes) -> Answer:
        """POST /v1/audio/transcriptions (multipart/form-data: file, model, ...)."""
        record: dict[str, Any] = {"endpoint": "audio.transcriptions", "at": _now_iso()}
        return self._serve(
            "transcriptions", authorization, record, lambda: _transcribe(content_type, body, record)
        )

    def _serve(
        self, endpoint: str, authorization: str | None, record: dict[str, Any], answer: Any
    ) -> Answer:
        key = (authorization or "").removeprefix("Bearer ").strip()
        record["key"] = mask_key(key)
        with self._lock:
            self._requests.append(record)
            refused = self._authenticate(key)
            fault = None if refused is not None else self._take_fault(endpoint)
        if refused is not None:
            result = refused
        else:
            if fault is not None and fault.delay_s:
                time.sleep(fault.delay_s)  # outside the lock: other requests go on meanwhile
            if fault is not None and fault.status is not None:
                result = _fault_answer(fault.status, endpoint)
            else:
                result = answer()
        with self._lock:
            record["status"] = result.status
        request_id = hashlib.sha256(f"{record['at']}{id(record)}".encode()).hexdigest()[:24]
        return Answer(
            result.status,
            result.body,
            result.text,
            {"x-request-id": f"req_{request_id}", **result.headers},
        )

    def _authenticate(self, key: str) -> Answer | None:
        if not key:
            return error(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        if key not in self._keys:
            return error(
                401,
                f"Incorrect API key provided: {mask_key(key)}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )
        return None

    def _take_fault(self, endpoint: str) -> _Fault | None:
        for fault in self._faults:
            if fault.endpoint in (None, endpoint):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _id(self) -> int:
        with self._lock:
            return next(self._ids)


def _fault_answer(status: int, endpoint: str) -> Answer:
    if status == 429:
        model = "gpt-4o-mini" if endpoint == "chat" else "gpt-4o-mini-transcribe"
        answer = error(
            429,
            f"Rate limit reached for {model} in organization org-fake on requests per min "
            "(RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.",
            kind="requests",
            code="rate_limit_exceeded",
        )
        return Answer(429, answer.body, headers={"retry-after": "20"})
    if status >= 500:
        return error(status, _SERVER_ERROR, kind="server_error")
    return error(status, f"Error {status}")


# -- chat completions -------------------------------------------------------------------------


def _chat(raw: bytes, record: dict[str, Any], number: int) -> Answer:
    try:
        body = json.loads(raw or b"")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return error(
            400,
            "We could not parse the JSON body of your request. (HINT: This likely means you "
            "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, "
            "but what was sent was not valid JSON.)",
        )
    given = body.get("messages")
    record.update(
        model=body.get("model"),
        temperature=body.get("temperature"),
        messages=[
            {"role": m.get("role"), "content": _content_text(m.get("content"))}
            for m in (given if isinstance(given, list) else [])
            if isinstance(m, dict)
        ],
    )
    refused = _check_chat(body)
    if refused is not None:
        return refused
    messages: list[dict[str, Any]] = body["messages"]
    texts = [_content_text(m.get("content")) for m in messages]
    answer = grounded_answer(texts, _last_user(messages))
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    tokens = _TOKEN.findall(answer)
    finish = "stop"
    if isinstance(limit, int) and len(tokens) > limit:
        answer = _first_tokens(answer, limit)
        finish = "length"
    prompt_tokens = sum(len(_TOKEN.findall(text)) + 3 for text in texts) + 3
    completion_tokens = min(len(tokens), limit) if isinstance(limit, int) else len(tokens)
    record["answer"] = answer
    digest = hashlib.sha256(f"{number}:{answer}".encode()).hexdigest()[:29]
    return Answer(
        200,
        {
            "id": f"chatcmpl-{digest}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": answer,
                        "refusal": None,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": finish,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": 0,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
            "service_tier": "default",
            "system_fingerprint": "fp_fakeopenai",
        },
    )


def _check_chat(body: dict[str, Any]) -> Answer | None:
    model = body.get("model")
    if not model:
        return error(400, "you must provide a model parameter")
    if not isinstance(model, str) or model not in CHAT_MODELS:
        return error(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            code="model_not_found",
        )
    messages = body.get("messages")
    if messages is None:
        return _missing("messages")
    if not isinstance(messages, list):
        return _invalid_type("messages", "an array", messages)
    if not messages:
        return error(
            400,
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got "
            "an empty array instead.",
            param="messages",
            code="empty_array",
        )
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            return _invalid_type(where, "an object", message)
        role = message.get("role")
        if role is None:
            return _missing(f"{where}.role")
        if role not in ROLES:
            supported = ", ".join(f"'{r}'" for r in sorted(ROLES))
            return error(
                400,
                f"Invalid value: '{role}'. Supported values are: {supported}.",
                param=f"{where}.role",
                code="invalid_value",
            )
        content = message.get("content")
        if content is None and role in ("system", "developer", "user", "tool"):
            return _missing(f"{where}.content")
        if content is not None and not isinstance(content, str | list):
            return _invalid_type(f"{where}.content", "one of a string or array of objects", content)
    temperature = body.get("temperature")
    if temperature is not None:
        if isinstance(temperature, bool) or not isinstance(temperature, int | float):
            return _invalid_type("temperature", "a decimal", temperature)
        if temperature > 2:
            return _out_of_range("temperature", "decimal", "above maximum", "<= 2", temperature)
        if temperature < 0:
            return _out_of_range("temperature", "decimal", "below minimum", ">= 0", temperature)
    for name in ("max_tokens", "max_completion_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            return _invalid_type(name, "an integer", value)
        if value < 1:
            return _out_of_range(name, "integer", "below minimum", ">= 1", value)
    return None


def _missing(param: str) -> Answer:
    return error(
        400,
        f"Missing required parameter: '{param}'.",
        param=param,
        code="missing_required_parameter",
    )


_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a decimal",
    bool: "a boolean",
    list: "an array",
    dict: "an object",
}


def _invalid_type(param: str, expected: str, given: object) -> Answer:
    got = _TYPE_NAMES.get(type(given), "null")
    return error(
        400,
        f"Invalid type for '{param}': expected {expected}, but got {got} instead.",
        param=param,
        code="invalid_type",
    )


def _out_of_range(param: str, kind: str, side: str, bound: str, given: object) -> Answer:
    # "decimal_above_max_value", "integer_below_min_value", as OpenAI names them
    code = f"{kind}_{side.split()[0]}_{side.split()[1][:3]}_value"
    return error(
        400,
        f"Invalid '{param}': {kind} {side} value. Expected a value {bound}, but got {given} "
        "instead.",
        param=param,
        code=code,
    )


def _content_text(content: object) -> str:
    """A message's text: a string, or the text parts of an array of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = (p for p in content if isinstance(p, dict) and p.get("type") == "text")
        return "\n".join(str(p.get("text", "")) for p in parts)
    return ""


def _last_user(messages: list[dict[str, Any]]) -> str:
    users = [m for m in messages if m.get("role") == "user"]
    return _content_text(users[-1].get("content")) if users else ""


def grounded_answer(texts: list[str], user: str) -> str:
    """The fake's answer to `user` from the passages in `texts` (see the module's doc)."""
    passages = [p for text in texts for p in passages_in(text)]
    question = question_in(user)
    wanted = _words(question)
    best: _Passage | None = None
    best_score = 0
    for passage in passages:
        score = len(wanted & _words(f"{passage.label} {passage.text}"))
        if score > best_score:
            best, best_score = passage, score
    if best is None:
        return NO_ANSWER
    return f"{best_sentence(best.text, wanted)} [{best.label}]"


def passages_in(text: str) -> list[_Passage]:
    passages: list[_Passage] = []
    label: str | None = None
    lines: list[str] = []

    def close() -> None:
        if label is not None and " ".join(lines).strip():
            passages.append(_Passage(label.strip(), " ".join(lines).strip()))

    for line in text.splitlines():
        found = _PASSAGE.match(line)
        if found is not None:
            close()
            label, lines = found["label"], [found["text"]]
        elif label is not None and line.strip() and not _QUESTION.match(line):
            lines.append(line.strip())
        else:
            close()
            label, lines = None, []
    close()
    return passages


def question_in(user: str) -> str:
    """What follows the last `Question:`, else the message's lines outside the passages."""
    lines = user.splitlines()
    for i in range(len(lines) - 1, -1, -1):
        found = _QUESTION.match(lines[i])
        if found is not None:
            rest = [found["text"], *(line for line in lines[i + 1 :] if not _PASSAGE.match(line))]
            return " ".join(part.strip() for part in rest if part.strip())
    passage_lines = set()
    in_passage = False
    for i, line in enumerate(lines):
        if _PASSAGE.match(line):
            in_passage = True
        elif not line.strip():
            in_passage = False
        if in_passage:
            passage_lines.add(i)
    outside = (line.strip() for i, line in enumerate(lines) if i not in passage_lines)
    return " ".join(line for line in outside if line)


def first_sentence(text: str) -> str:
    return _SENTENCE_END.split(text.strip(), maxsplit=1)[0].strip()


def best_sentence(text: str, wanted: set[str]) -> str:
    """The sentence of `text` sharing the most words with `wanted`; the first on a tie."""
    sentences = [part.strip() for part in _SENTENCE_END.split(text.strip()) if part.strip()]
    if not sentences:
        return ""
    return max(sentences, key=lambda sentence: len(wanted & _words(sentence)))


def _words(text: str) -> set[str]:
    words = set()
    for word in _WORD.findall(text.casefold()):
        if len(word) < 2 or word in _STOPWORDS:
            continue
        # "plans" finds "plan": a plural s is the commonest mismatch in English questions.
        words.add(word[:-1] if len(word) > 3 and word.isascii() and word.endswith("s") else word)
    return words


def _first_tokens(text: str, limit: int) -> str:
    matches = list(_TOKEN.finditer(text))
    return text[: matches[limit - 1].end()] if limit <= len(matches) else text


# -- audio transcriptions -------------------------------------------------------------------


def _transcribe(content_type: str, body: bytes, record: dict[str, Any]) -> Answer:
    if len(body) > MAX_AUDIO_BYTES:
        return error(
            413, f"Maximum content size limit ({MAX_AUDIO_BYTES}) exceeded ({len(body)} bytes read)"
        )
    fields, file = _form(content_type, body)
    model = fields.get("model", "")
    record.update(model=model or None)
    if file is None:
        return _missing("file")
    filename, data = file
    record.update(filename=filename, bytes=len(data))
    if not model:
        return _missing("model")
    if model not in TRANSCRIBE_MODELS:
        return error(
            400,
            f"Invalid model {model}. The model must be one of {sorted(TRANSCRIBE_MODELS)}.",
            param="model",
            code="invalid_value",
        )
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in AUDIO_FORMATS:
        return error(400, f"Invalid file format. Supported formats: {list(AUDIO_FORMATS)}")
    if not _looks_like_audio(data):
        return error(
            400,
            "Audio file might be corrupted or unsupported",
            param="file",
            code="invalid_value",
        )
    response_format = fields.get("response_format", "json")
    if response_format not in ("json", "text"):
        return error(
            400,
            f"response_format '{response_format}' is not supported by the fake; use json or text",
            param="response_format",
            code="unsupported_value",
        )
    transcript = transcript_of(data)
    record["transcript"] = transcript
    if response_format == "text":
        return Answer(200, text=transcript + "\n")
    answer: dict[str, Any] = {"text": transcript}
    if model != "whisper-1":
        words = len(_TOKEN.findall(transcript))
        audio_tokens = max(1, len(data) // 1000)
        answer["usage"] = {
            "type": "tokens",
            "input_tokens": audio_tokens,
            "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens},
            "output_tokens": words,
            "total_tokens": audio_tokens + words,
        }
    return Answer(200, answer)


def transcript_of(data: bytes) -> str:
    """The text after the file's last NUL byte; "" when there is none or it is not UTF-8."""
    _, nul, tail = data.rpartition(b"\x00")
    if not nul:
        return ""
    try:
        return tail.decode("utf-8").strip()
    except UnicodeDecodeError:
        return ""


def _looks_like_audio(data: bytes) -> bool:
    head = data[:12]
    return (
        head.startswith((b"OggS", b"fLaC", b"ID3", b"\x1a\x45\xdf\xa3"))
        or (head.startswith(b"RIFF") and head[8:12] == b"WAVE")
        or head[4:8] == b"ftyp"
        or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)
    )


def _form(content_type: str, body: bytes) -> tuple[dict[str, str], tuple[str, bytes] | None]:
    """A multipart/form-data body's text fields and its `file` part (name and bytes)."""
    if content_type.split(";", 1)[0].strip().lower() != "multipart/form-data":
        return {}, None
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        return {}, None
    fields: dict[str, str] = {}
    file: tuple[str, bytes] | None = None
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True)
        if not isinstance(name, str) or not isinstance(data, bytes):
            continue
        if name == "file":
            file = (part.get_filename() or "", data)
        else:
            fields[name] = data.decode("utf-8", errors="replace")
    return fields, file


# -- the gateway's /_local/openai ------------------------------------------------------------


def openai_endpoint(fake: FakeOpenAI) -> LocalEndpoint:
    """`/_local/openai`: the API under /v1 (base URL `<gateway>/_local/openai/v1`), and
    `/faults` (POST) and `/requests` (GET, DELETE) to steer and inspect it."""

    def serve(request: LocalRequest) -> LocalResponse:
        path, method = request.path, request.method
        authorization = request.headers.get("authorization")
        if path == "/v1/chat/completions" and method == "POST":
            return _http(fake.chat(authorization, request.body))
        if path == "/v1/audio/transcriptions" and method == "POST":
            content_type = request.headers.get("content-type", "")
            return _http(fake.transcribe(authorization, content_type, request.body))
        if path.startswith("/v1/"):
            return _http(error(404, f"Invalid URL ({method} {path})"))
        if path == "/faults":
            if method != "POST":
                return LocalResponse(405, allow="POST")
            return _add_fault(fake, request.body)
        if path == "/requests":
            if method == "GET":
                return LocalResponse(200, fake.requests())
            if method == "DELETE":
                fake.clear()
                return LocalResponse(204)
            return LocalResponse(405, allow="GET, DELETE")
        return LocalResponse(404, {"message": f"no local endpoint /_local/openai{path}"})

    return serve


def _http(answer: Answer) -> LocalResponse:
    headers = tuple(answer.headers.items())
    if answer.text is not None:
        raw = answer.text.encode("utf-8")
        return LocalResponse(answer.status, raw=raw, content_type="text/plain", headers=headers)
    return LocalResponse(answer.status, answer.body, headers=headers)


def _add_fault(fake: FakeOpenAI, body: bytes) -> LocalResponse:
    """{"status": 429 or null, "delay_s": 0, "times": 1, "endpoint": "chat" or null}"""
    try:
        spec = json.loads(body or b"{}")
    except ValueError:
        return LocalResponse(400, {"message": "body is not JSON"})
    if not isinstance(spec, dict):
        return LocalResponse(400, {"message": "body must be a JSON object"})
    status, delay, times = spec.get("status"), spec.get("delay_s", 0), spec.get("times", 1)
    if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
        return LocalResponse(400, {"message": "status must be an integer or null"})
    if isinstance(delay, bool) or not isinstance(delay, int | float):
        return LocalResponse(400, {"message": "delay_s must be a number"})
    if isinstance(times, bool) or not isinstance(times, int):
        return LocalResponse(400, {"message": "times must be an integer"})
    if status is None and not delay:
        return LocalResponse(400, {"message": "give a status, a delay_s, or both"})
    try:
        fake.fail_next(status, delay_s=float(delay), times=times, endpoint=spec.get("endpoint"))
    except ValueError as exc:
        return LocalResponse(400, {"message": str(exc)})
    return LocalResponse(204)
