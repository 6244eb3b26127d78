"""The language-model interface the rest of LeadBot codes against; `openai` implements it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)


class LLMError(Exception):
    """The model could not answer (timeout, refusal, outage): callers fall back to offline."""


@dataclass(frozen=True, slots=True)
class Completion:
    """A model's answer and what it cost (logged; never shown to the lead)."""

    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class ChatModel(Protocol):
    def complete(self, system: str, user: str, *, timeout_s: float) -> Completion:
        """One chat completion at temperature 0; LLMError on timeout or any failure. `user`
        must already be free of personal data (see leadbot.parsing.pii)."""
        ...


class Transcriber(Protocol):
    def transcribe(self, audio: bytes, mime_type: str, *, timeout_s: float) -> str:
        """The speech in an audio file as text; LLMError on timeout or any failure."""
        ...


def log_usage(completion: Completion, purpose: str, **context: Any) -> None:
    """One structured log line of what a completion cost, for the caller to emit once it used
    it: `purpose` says what for ("answer", ...); `context` adds keys such as tenant_id.

    Modules log under "leadbot", the Powertools Logger's name in every function, so this comes
    out as JSON with the function's keys; never log the prompt or the answer (personal data)."""
    log.info(
        "llm usage",
        extra={
            "purpose": purpose,
            "model": completion.model,
            "prompt_tokens": completion.prompt_tokens,
            "completion_tokens": completion.completion_tokens,
            "total_tokens": completion.total_tokens,
            **context,
        },
    )
