"""The conversation: a pure state machine over `Stage` (see stages.mmd beside this file)."""

from leadbot.conversation.engine import CatalogUrl, Ctx, format_money, step
from leadbot.conversation.questions import NEXT_STAGE, QUESTIONS

__all__ = ["NEXT_STAGE", "QUESTIONS", "CatalogUrl", "Ctx", "format_money", "step"]
