"""Voice notes as typed text: download the audio, transcribe it, hand the engine the transcript.

A transcribed note becomes a TEXT event marked `voice`: the conversation answers it as if the
lead had typed it and still counts a voice message (the +5 engagement bonus), and Timeline keeps
the transcript as the message's text. Without a transcriber (no OpenAI key), or when the audio
cannot be fetched or transcribed in time, the event stays VOICE and the lead is asked to type,
the voice message counted all the same.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from leadbot.domain import ChannelError, EventKind, InboundEvent

if TYPE_CHECKING:
    from leadbot.integrations.llm import Transcriber

log = logging.getLogger(__name__)

# A voice event's audio as its channel serves it, at most `max_bytes`; ChannelError otherwise.
Download = Callable[[InboundEvent, int], bytes]
# Telegram's voice notes and WhatsApp's are Ogg/Opus when the channel does not say.
DEFAULT_AUDIO_TYPE = "audio/ogg"
# As long as the longest message a lead could type on Telegram.
MAX_TRANSCRIPT_CHARS = 4096


def as_typed(
    event: InboundEvent,
    download: Download,
    transcriber: Transcriber | None,
    *,
    max_bytes: int,
    timeout_s: float,
) -> InboundEvent:
    """The voice note as the text the lead spoke, or the event as it came when it cannot be."""
    if event.kind is not EventKind.VOICE or transcriber is None or not event.media_id:
        return event
    from leadbot.integrations.llm import LLMError  # a voice note's, not every message's

    about = {"event_id": event.event_id, "channel": event.channel.value}
    if event.media_size is not None and event.media_size > max_bytes:
        log.info("voice note too big to transcribe", extra={**about, "bytes": event.media_size})
        return event
    started = time.monotonic()
    try:
        audio = download(event, max_bytes)
        mime_type = event.media_type or DEFAULT_AUDIO_TYPE
        text = transcriber.transcribe(audio, mime_type, timeout_s=timeout_s).strip()
    except (ChannelError, LLMError) as exc:
        # The reason names the failing step and code, never the audio or a token.
        log.warning("voice note not transcribed", extra={**about, "reason": str(exc)})
        return event
    except Exception:
        # A voice note must never cost the lead their answer: asked to type, they can go on.
        log.exception("voice note not transcribed: unexpected error", extra=about)
        return event
    elapsed_ms = round((time.monotonic() - started) * 1000)
    if not text:
        log.info("voice note transcribed as silence", extra={**about, "ms": elapsed_ms})
        return event
    log.info(
        "voice note transcribed",
        extra={**about, "bytes": len(audio), "characters": len(text), "ms": elapsed_ms},
    )
    return replace(event, kind=EventKind.TEXT, text=text[:MAX_TRANSCRIPT_CHARS], voice=True)


def transcribing(download: Download) -> Callable[[InboundEvent], InboundEvent]:
    """`as_typed` with the deployment's transcriber and limits, for a channel's `download`.

    Settings and the transcriber are looked up only for a voice note: other messages, and
    the webhook's cold start, never touch OpenAI's adapter.
    """

    def prepare(event: InboundEvent) -> InboundEvent:
        if event.kind is not EventKind.VOICE:
            return event
        from leadbot.config import settings
        from leadbot.services.runtime import transcriber

        s = settings()
        return as_typed(
            event,
            download,
            transcriber(),
            max_bytes=s.voice_max_bytes,
            timeout_s=s.openai_transcribe_timeout_s,
        )

    return prepare
