"""The language-model interface the rest of LeadBot codes against; `openai` implements it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class LLMError(Exception):
    """The model could not answer (timeout, refusal, outage): callers fall back to offline."""


@dataclass(frozen=True, slots=True)
class Completion:
    """A model's answer and what it cost (logged; never shown to the lead)."""

    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int


class ChatModel(Protocol):
    def complete(self, system: str, user: str, *, timeout_s: float) -> Completion:
        """One chat completion at temperature 0; LLMError on timeout or any failure. `user`
        must already be free of personal data (see leadbot.parsing.pii)."""
        ...


class Transcriber(Protocol):
    def transcribe(self, audio: bytes, mime_type: str, *, timeout_s: float) -> str:
        """The speech in an audio file as text; LLMError on timeout or any failure."""
        ...
