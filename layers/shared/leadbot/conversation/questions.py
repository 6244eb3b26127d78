"""The qualification questions: what each stage asks, which answers it takes, where it leads."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from leadbot.domain import (
    Bedrooms,
    Choice,
    FlowMode,
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
from leadbot.parsing.answers import (
    clean,
    is_worded_as_question,
    match_option,
    parse_bedrooms,
)

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

# The qa_first flow (DESIGN.md §6): questions answered first, then four questions (budget,
# area, timeline, unit) before the phone. Also in stages.mmd, checked by the same test.
QA_FIRST_NEXT_STAGE: Mapping[Stage, Stage] = {
    Stage.LANGUAGE: Stage.QA,
    Stage.QA: Stage.BUDGET,
    Stage.BUDGET: Stage.LOCATION,
    Stage.LOCATION: Stage.TIMELINE,
    Stage.TIMELINE: Stage.UNIT,
    Stage.UNIT: Stage.CONTACT,
    Stage.CONTACT: Stage.ENGAGEMENT,
}

# Land and offices have no bedrooms: the lead skips that question.
NO_BEDROOMS = frozenset({PropertyType.LAND, PropertyType.OFFICE})


class Unit(StrEnum):
    """qa_first's unit question: a bedroom count or a property type, by button or typed
    together ("2-bedroom apartment")."""

    STUDIO = "studio"
    ONE = "1"
    TWO = "2"
    THREE = "3"
    FOUR_PLUS = "4+"
    VILLA = "villa"
    TOWNHOUSE = "townhouse"
    PENTHOUSE = "penthouse"
    OFFICE = "office"
    LAND = "land"


Parser = Callable[[str, Tenant, Language], dict[str, Any] | None]


@dataclass(frozen=True)
class Question:
    """One qualification question: the lead field it fills and how a typed answer is read."""

    stage: Stage
    options: tuple[StrEnum, ...] = ()
    parse: Parser | None = None
    # The lead fields a button sets; default: the stage's one field (FIELDS) set to the option.
    fields_of: Callable[[StrEnum], dict[str, Any]] | None = None

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
            return None if option is None else self.fields(option)
        if self.parse is not None:
            return self.parse(text, tenant, lang)
        found = match_option(text, self.options, self.labels(lang))
        return None if found is None else self.fields(found)

    def fields(self, option: StrEnum) -> dict[str, Any]:
        return self.fields_of(option) if self.fields_of else {FIELDS[self.stage]: option}


def _budget(text: str, tenant: Tenant, lang: Language) -> dict[str, Any] | None:
    money = parse_budget(text, tenant.currency)
    return None if money is None else {"budget": money}


def _location(text: str, tenant: Tenant, lang: Language) -> dict[str, Any] | None:
    area = " ".join(text.split())
    letters = sum(ch.isalpha() for ch in area)
    # Any words could name an area, so "what is the price" would: a question is not one.
    if letters < 2 or len(area) > 80 or area.startswith("/") or is_worded_as_question(area):
        return None
    return {"location": area}


def _unit_fields(option: StrEnum) -> dict[str, Any]:
    if option is Unit.STUDIO:
        return {"bedrooms": Bedrooms.STUDIO, "property_type": PropertyType.APARTMENT}
    if option.value in {b.value for b in Bedrooms}:
        return {"bedrooms": Bedrooms(option.value)}
    return {"property_type": PropertyType(option.value)}


def _unit(text: str, tenant: Tenant, lang: Language) -> dict[str, Any] | None:
    """A unit button's label, else a property type and/or a bedroom count typed in any order:
    "villa", "3", "2BR apartment"; a studio is an apartment."""
    labels = QUESTIONS[Stage.UNIT].labels(lang)
    typed = clean(text)
    by_label = next((o for o, label in labels.items() if clean(label) == typed), None)
    if by_label is not None:
        return _unit_fields(by_label)
    fields: dict[str, Any] = {}
    # A bare number counts bedrooms here, never the n-th property type.
    kind = None if typed.isdigit() else match_option(text, tuple(PropertyType))
    if kind is not None:
        fields["property_type"] = kind
    rooms = parse_bedrooms(text) if kind not in NO_BEDROOMS else None
    if rooms is not None:
        fields["bedrooms"] = rooms
        if rooms is Bedrooms.STUDIO:
            fields.setdefault("property_type", PropertyType.APARTMENT)
    return fields or None


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
    Stage.UNIT: Question(Stage.UNIT, options=tuple(Unit), parse=_unit, fields_of=_unit_fields),
}


def next_stage(stage: Stage, lead: Lead, flow: FlowMode = FlowMode.GUIDED) -> Stage:
    """Where a valid answer at `stage` leads. A stage of the other flow (the agency switched
    modes mid-conversation) goes on by that flow's table until it meets this one's."""
    ours, theirs = (
        (QA_FIRST_NEXT_STAGE, NEXT_STAGE)
        if flow is FlowMode.QA_FIRST
        else (NEXT_STAGE, QA_FIRST_NEXT_STAGE)
    )
    following = ours.get(stage) or theirs[stage]
    if following is Stage.BEDROOMS and lead.property_type in NO_BEDROOMS:
        return NEXT_STAGE[Stage.BEDROOMS]
    return following
