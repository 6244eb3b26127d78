"""The qualification questions: what each stage asks, which answers it takes, where it leads."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from leadbot.domain import (
    Bedrooms,
    Choice,
    Goal,
    Language,
    Lead,
    PaymentMethod,
    PropertyType,
    Stage,
    Tenant,
    Timeline,
)
from leadbot.i18n import t
from leadbot.parsing import parse_budget
from leadbot.parsing.answers import clean, match_option, parse_bedrooms

# The transition table (kept in step with stages.mmd by a test): after a valid answer, go here.
NEXT_STAGE: Mapping[Stage, Stage] = {
    Stage.LANGUAGE: Stage.GOAL,
    Stage.GOAL: Stage.BUDGET,
    Stage.BUDGET: Stage.PROPERTY_TYPE,
    Stage.PROPERTY_TYPE: Stage.LOCATION,
    Stage.LOCATION: Stage.TIMELINE,
    Stage.TIMELINE: Stage.BEDROOMS,
    Stage.BEDROOMS: Stage.PAYMENT,
    Stage.PAYMENT: Stage.CONTACT,
    Stage.CONTACT: Stage.ENGAGEMENT,
}

# Land and offices have no bedrooms: the lead skips that question.
NO_BEDROOMS = frozenset({PropertyType.LAND, PropertyType.OFFICE})

Parser = Callable[[str, Tenant, Language], dict[str, Any] | None]


@dataclass(frozen=True)
class Question:
    """One qualification question: the lead field it fills and how a typed answer is read."""

    stage: Stage
    options: tuple[StrEnum, ...] = ()
    parse: Parser | None = None

    def choice_value(self, option: StrEnum) -> str:
        return f"{self.stage.value}:{option.value}"

    def labels(self, lang: Language) -> dict[StrEnum, str]:
        return {option: t(f"{self.stage.value}.{option.value}", lang) for option in self.options}

    def choices(self, lang: Language) -> tuple[Choice, ...]:
        labels = self.labels(lang)
        return tuple(Choice(label=labels[o], value=self.choice_value(o)) for o in self.options)

    def read(
        self, text: str, payload: str, tenant: Tenant, lang: Language
    ) -> dict[str, Any] | None:
        """The lead fields an answer sets, or None when the answer is not valid here."""
        if payload:
            prefix = f"{self.stage.value}:"
            if not payload.startswith(prefix):
                return None  # a button of an earlier question
            text_value = payload.removeprefix(prefix)
            option = next((o for o in self.options if o.value == text_value), None)
            return None if option is None else {FIELDS[self.stage]: option}
        if self.parse is not None:
            return self.parse(text, tenant, lang)
        found = match_option(text, self.options, self.labels(lang))
        return None if found is None else {FIELDS[self.stage]: found}


def _budget(text: str, tenant: Tenant, lang: Language) -> dict[str, Any] | None:
    money = parse_budget(text, tenant.currency)
    return None if money is None else {"budget": money}


def _location(text: str, tenant: Tenant, lang: Language) -> dict[str, Any] | None:
    area = " ".join(text.split())
    letters = sum(ch.isalpha() for ch in area)
    if letters < 2 or len(area) > 80 or area.startswith("/"):
        return None
    return {"location": area}


def _bedrooms(text: str, tenant: Tenant, lang: Language) -> dict[str, Any] | None:
    labels = QUESTIONS[Stage.BEDROOMS].labels(lang)
    typed = clean(text)
    by_label = next((o for o, label in labels.items() if clean(label) == typed), None)
    found = by_label or parse_bedrooms(text)
    return None if found is None else {"bedrooms": found}


FIELDS: Mapping[Stage, str] = {
    Stage.GOAL: "goal",
    Stage.BUDGET: "budget",
    Stage.PROPERTY_TYPE: "property_type",
    Stage.LOCATION: "location",
    Stage.TIMELINE: "timeline",
    Stage.BEDROOMS: "bedrooms",
    Stage.PAYMENT: "payment_method",
}

QUESTIONS: Mapping[Stage, Question] = {
    Stage.GOAL: Question(Stage.GOAL, options=tuple(Goal)),
    Stage.BUDGET: Question(Stage.BUDGET, parse=_budget),
    Stage.PROPERTY_TYPE: Question(Stage.PROPERTY_TYPE, options=tuple(PropertyType)),
    Stage.LOCATION: Question(Stage.LOCATION, parse=_location),
    Stage.TIMELINE: Question(Stage.TIMELINE, options=tuple(Timeline)),
    Stage.BEDROOMS: Question(Stage.BEDROOMS, options=tuple(Bedrooms), parse=_bedrooms),
    Stage.PAYMENT: Question(Stage.PAYMENT, options=tuple(PaymentMethod)),
}


def next_stage(stage: Stage, lead: Lead) -> Stage:
    following = NEXT_STAGE[stage]
    if following is Stage.BEDROOMS and lead.property_type in NO_BEDROOMS:
        return NEXT_STAGE[Stage.BEDROOMS]
    return following
