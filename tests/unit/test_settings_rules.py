"""The rules of a tenant's settings (domain/settings.py), without AWS."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from leadbot.domain import FollowupStep, FollowupTemplate, InvalidSettings, Language, Tenant
from leadbot.domain.settings import check, template_steps

TENANT = Tenant(tenant_id="demo", name="Demo Realty")


def _ghost(text: str) -> Tenant:
    template = FollowupTemplate(step=FollowupStep.GHOST, language=Language.EN, text=text)
    return replace(TENANT, followup_templates=(template,))


def test_the_defaults_keep_every_rule() -> None:
    check(TENANT)


@pytest.mark.parametrize(
    "text",
    [
        "Hi {name}, {agency} here.",
        "No placeholder at all",
        "Braces written {{like this}} stay braces",
        "ملک جدید برای شما، {name}",
    ],
)
def test_templates_may_use_name_agency_and_escaped_braces(text: str) -> None:
    check(_ghost(text))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Hi {}", "uses {}"),
        ("Hi {0}", "uses {0}"),
        ("Hi {name.upper}", "uses {name.upper}"),
        ("Hi {name[0]}", "uses {name[0]}"),
        ("Only {units} left", "uses {units}"),
        ("Hi {name:>10}", "without a format"),
        ("Hi name}", "not a placeholder"),
    ],
)
def test_templates_refuse_anything_else(text: str, message: str) -> None:
    with pytest.raises(InvalidSettings) as refused:
        check(_ghost(text))
    assert str(refused.value).startswith("followup_templates.ghost.en")
    assert message in str(refused.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"languages": ()}, "languages cannot be empty"),
        ({"broker_commission_rate": Decimal("NaN")}, "broker_commission_rate must be between"),
        ({"platform_commission_rate": Decimal("1.01")}, "platform_commission_rate must be"),
        ({"campaign_days": (3, 3)}, "campaign_days must increase"),
        ({"campaign_days": (3, 91)}, "campaign_days must each be between 1 and 90"),
        ({"quiet_hours_start": 24}, "quiet_hours_start must be between 0 and 23"),
    ],
)
def test_other_rules(change: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidSettings, match=message):
        check(replace(TENANT, **change))


def test_each_campaign_day_is_a_step_that_may_have_a_template() -> None:
    assert template_steps(()) == (FollowupStep.GHOST,)
    assert template_steps((3, 6)) == (
        FollowupStep.GHOST,
        FollowupStep.CAMPAIGN_1,
        FollowupStep.CAMPAIGN_2,
    )
    assert len(template_steps((1, 2, 3, 4, 5))) == len(FollowupStep)
