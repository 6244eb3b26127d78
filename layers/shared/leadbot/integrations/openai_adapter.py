"""OpenAI behind LeadBot's ChatModel and Transcriber, with the official SDK imported on first use.

Every call has its own timeout and at most `max_retries` retries (none by default): the callers
are webhooks with an offline fallback, so a slow or failing model is given up on, never waited
for. Whatever goes wrong (no key, HTTP errors, timeouts, a malformed answer) is an LLMError.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from leadbot.config import Settings
from leadbot.integrations.llm import Completion, LLMError
from leadbot.metrics import Metric, count

if TYPE_CHECKING:
    import openai

# The audio formats OpenAI transcribes, by the MIME types channels give them (parameters such
# as "; codecs=opus" dropped). OpenAI reads the format from the file name's extension.
AUDIO_EXTENSIONS = {
    "audio/ogg": "ogg",
    "audio/opus": "ogg",
    "audio/oga": "oga",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/mp4": "m4a",
    "audio/m4a": "m4a",
    "audio/x-m4a": "m4a",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/webm": "webm",
    "audio/flac": "flac",
    "audio/x-flac": "flac",
    "video/mp4": "mp4",
    "video/webm": "webm",
}


class OpenAIConnection:
    """One SDK client per API key, made on the first call (importing `openai` costs ~0.5 s of
    CPU, which a webhook that never calls it must not pay), remade when the key rotates."""

    def __init__(
        self,
        api_key: Callable[[], str],
        *,
        base_url: str = "https://api.openai.com/v1",
        max_retries: int = 0,
        http: httpx.Client | None = None,
    ) -> None:
        """`api_key` is asked on every call (the secrets reader caches it); `http` is shared
        with the channel clients so connections stay warm."""
        self._api_key = api_key
        self._base_url = base_url
        self._max_retries = max_retries
        self._http = http
        self._lock = threading.Lock()
        self._client: openai.OpenAI | None = None
        self._key = ""

    def client(self) -> openai.OpenAI:
        try:
            key = self._api_key()
        except Exception as exc:  # SSM or the secrets file: any failure means no model now
            raise LLMError(f"no OpenAI key: {type(exc).__name__}") from exc
        if not key:
            raise LLMError("no OpenAI key: the parameter is empty")
        with self._lock:
            if self._client is None or key != self._key:
                import openai

                self._client = openai.OpenAI(
                    api_key=key,
                    base_url=self._base_url,
                    max_retries=self._max_retries,
                    http_client=self._http,
                )
                self._key = key
            return self._client

    def call(self, what: str, request: Callable[[openai.OpenAI], Any]) -> Any:
        """Run one SDK request; any failure becomes an LLMError naming `what` and the cause.
        Each call counts in LlmCalls, each failure (a missing key too) in LlmErrors: their
        ratio is the LLM error-rate alarm's."""
        count(Metric.LLM_CALLS)
        try:
            return self._call(what, request)
        except LLMError:
            count(Metric.LLM_ERRORS)
            raise

    def _call(self, what: str, request: Callable[[openai.OpenAI], Any]) -> Any:
        client = self.client()
        import openai

        try:
            return request(client)
        except openai.APIStatusError as exc:
            raise LLMError(f"{what}: HTTP {exc.status_code} {_error_code(exc)}") from exc
        except openai.APITimeoutError as exc:
            raise LLMError(f"{what}: timed out") from exc
        except openai.OpenAIError as exc:
            raise LLMError(f"{what}: {type(exc).__name__}") from exc
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # An answer the SDK could not read: as useless to the caller as no answer.
            raise LLMError(f"{what}: malformed answer ({type(exc).__name__})") from exc


class OpenAIChat:
    """ChatModel: one chat completion at temperature 0, bounded in length."""

    def __init__(self, connection: OpenAIConnection, *, model: str, max_tokens: int) -> None:
        self._connection = connection
        self.model = model
        self._max_tokens = max_tokens

    def complete(self, system: str, user: str, *, timeout_s: float) -> Completion:
        answer = self._connection.call(
            "chat",
            lambda client: client.chat.completions.create(
                model=self.model,
                messages=[
                    {"role": "system", "content": system},
                    {"role": "user", "content": user},
                ],
                temperature=0,
                max_completion_tokens=self._max_tokens,
                timeout=timeout_s,
            ),
        )
        choice = answer.choices[0] if answer.choices else None
        text = (choice.message.content or "").strip() if choice is not None else ""
        if not text:
            count(Metric.LLM_ERRORS)  # answered, yet no use to anyone: a failed call
            raise LLMError("chat: the answer is empty")
        usage = answer.usage
        if usage is not None:
            count(Metric.LLM_TOKENS, usage.prompt_tokens + usage.completion_tokens)
        return Completion(
            text=text,
            model=answer.model or self.model,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
        )


class OpenAITranscriber:
    """Transcriber: speech to text with an audio model."""

    def __init__(self, connection: OpenAIConnection, *, model: str) -> None:
        self._connection = connection
        self.model = model

    def transcribe(self, audio: bytes, mime_type: str, *, timeout_s: float) -> str:
        extension = AUDIO_EXTENSIONS.get(mime_type.split(";", 1)[0].strip().lower())
        if extension is None:
            # WhatsApp's AAC and AMR notes among them: OpenAI would refuse them anyway.
            raise LLMError(f"transcription: {mime_type or 'unknown'} audio is not supported")
        answer = self._connection.call(
            "transcription",
            lambda client: client.audio.transcriptions.create(
                file=(f"voice.{extension}", audio, mime_type),
                model=self.model,
                timeout=timeout_s,
            ),
        )
        return str(answer.text).strip()


def from_settings(
    settings: Settings, secret: Callable[[str], str], http: httpx.Client | None = None
) -> tuple[OpenAIChat, OpenAITranscriber] | None:
    """The deployment's chat model and transcriber; None when no key is configured (offline)."""
    param = settings.openai_key_param
    if not param:
        return None
    connection = OpenAIConnection(
        lambda: secret(param),
        base_url=settings.openai_api_base,
        max_retries=settings.openai_max_retries,
        http=http,
    )
    chat = OpenAIChat(
        connection, model=settings.openai_chat_model, max_tokens=settings.openai_max_tokens
    )
    return chat, OpenAITranscriber(connection, model=settings.openai_transcribe_model)


def _error_code(exc: openai.APIStatusError) -> str:
    """OpenAI's error code ("rate_limit_exceeded", "invalid_api_key") or type, never its
    message: the message may echo part of the key."""
    return str(exc.code or exc.type or "")
