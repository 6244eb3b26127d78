"""The conversation: a pure state machine over `Stage` (see stages.mmd beside this file)."""

from leadbot.conversation.engine import (
    HANDOFF,
    LISTING_PREFIX,
    CatalogUrl,
    Ctx,
    Needs,
    format_money,
    needs,
    step,
)
from leadbot.conversation.questions import NEXT_STAGE, QA_FIRST_NEXT_STAGE, QUESTIONS

__all__ = [
    "HANDOFF",
    "LISTING_PREFIX",
    "NEXT_STAGE",
    "QA_FIRST_NEXT_STAGE",
    "QUESTIONS",
    "CatalogUrl",
    "Ctx",
    "Needs",
    "format_money",
    "needs",
    "step",
]
