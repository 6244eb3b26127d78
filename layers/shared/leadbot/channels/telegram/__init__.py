"""Telegram Bot API: update models, normalisation to InboundEvent, rendering and the HTTP client."""

from leadbot.channels.telegram.client import TelegramClient
from leadbot.channels.telegram.models import Update
from leadbot.channels.telegram.normalize import to_inbound
from leadbot.channels.telegram.render import render

__all__ = ["TelegramClient", "Update", "render", "to_inbound"]
