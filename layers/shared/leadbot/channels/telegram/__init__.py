"""Telegram Bot API: update types and parsing, normalisation to InboundEvent, rendering, client."""

from leadbot.channels.telegram.client import TelegramClient
from leadbot.channels.telegram.models import Update, ValidationError, parse_update
from leadbot.channels.telegram.normalize import to_inbound
from leadbot.channels.telegram.render import render, webhook_answer

__all__ = [
    "TelegramClient",
    "Update",
    "ValidationError",
    "parse_update",
    "render",
    "to_inbound",
    "webhook_answer",
]
