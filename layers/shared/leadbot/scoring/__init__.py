"""The lead score: the formula of DESIGN.md §7, temperature and grade; pure."""

from leadbot.scoring.formula import (
    Breakdown,
    Part,
    Rule,
    Score,
    ScoreInputs,
    score,
    score_lead,
    temperature,
)

__all__ = [
    "Breakdown",
    "Part",
    "Rule",
    "Score",
    "ScoreInputs",
    "score",
    "score_lead",
    "temperature",
]
