"""/api/settings through the API function in-process: admins only, every rule a clear 400,
each change traced, tenants apart, and the settings that already act (languages, rates) do."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from leadbot.config import settings
from leadbot.domain import Channel, Language, Tenant, TimelineEntry
from leadbot.i18n import t
from leadbot.services import settings as settings_service
from leadbot.store import ADMIN_STREAM
from local.seed import DEMO2_TELEGRAM_SECRET, DEMO_ADMIN_CHAT
from tests.support import (
    ADMIN,
    AGENT,
    OTHER_TENANT_AGENT,
    InProcessStack,
    Updates,
    api_call,
    api_response,
)

OTHER_TENANT_ADMIN = {**OTHER_TENANT_AGENT, "custom:role": "admin", "sub": "u-demo2-admin"}
DEFAULTS = {
    "languages": ["en", "fa", "ar", "ru"],
    "default_language": "en",
    "flow_mode": "guided",
    "qa_first_after": 2,
    "ghost_after_minutes": 120,
    "campaign_days": [3, 6],
    "quiet_hours_start": 21,
    "quiet_hours_end": 9,
    "followup_templates": {},
    "scarcity_threshold": 3,
    "business_hours_start": 9,
    "business_hours_end": 18,
    "business_days": [0, 1, 2, 3, 4, 5],
    "handoff_sla_minutes": 5,
    "broker_commission_rate": "0.02",
    "platform_commission_rate": "0.25",
    "airtable_base_id": None,
    "airtable_connected": False,
}
GHOST_EN = "Hi {name}, are you still looking? {agency} has news for you."
GHOST_AR = "مرحبا {name}، هل ما زلت تبحث؟"


def _settings(claims: dict[str, str] = ADMIN) -> dict[str, Any]:
    status, answer = api_call("GET", "/api/settings", claims)
    assert status == 200, answer
    return dict(answer)


def _patch(body: dict[str, Any], claims: dict[str, str] = ADMIN) -> dict[str, Any]:
    status, answer = api_call("PATCH", "/api/settings", claims, body=body)
    assert status == 200, answer
    return dict(answer)


def _admin_events(stack: InProcessStack, text: str, tenant_id: str = "demo") -> list[TimelineEntry]:
    history = stack.repos.timeline.history(tenant_id, ADMIN_STREAM)
    return [entry for entry in history if entry.text == text]


def _lead_id(stack: InProcessStack, chat_id: int) -> str:
    key = stack.repos.identities.key("demo", Channel.TELEGRAM, str(chat_id))
    lead_id = stack.repos.identities.lead_id(key)
    assert lead_id is not None
    return lead_id


def test_without_verified_claims_every_route_is_401(stack: InProcessStack) -> None:
    for method, path, body in (
        ("GET", "/api/settings", None),
        ("PATCH", "/api/settings", {"scarcity_threshold": 5}),
        ("POST", "/api/settings/admin-code", None),
    ):
        status, answer = api_call(method, path, None, body=body)
        assert (status, answer["message"]) == (401, "no verified tenant and role"), method
    assert _settings()["scarcity_threshold"] == 3


def test_agents_are_refused_and_change_nothing(stack: InProcessStack) -> None:
    for method, path, body in (
        ("GET", "/api/settings", None),
        ("PATCH", "/api/settings", {"scarcity_threshold": 5}),
        ("POST", "/api/settings/admin-code", None),
    ):
        status, answer = api_call(method, path, AGENT, body=body)
        assert (status, answer["message"]) == (403, "admins only"), method
    assert _settings()["scarcity_threshold"] == 3
    assert stack.repos.timeline.history("demo", ADMIN_STREAM) == []


def test_an_admin_reads_the_defaults_and_nothing_secret(stack: InProcessStack) -> None:
    answer = _settings()
    assert answer == {**DEFAULTS, "admin_chats": 1}
    shown = json.dumps(answer)
    assert DEMO_ADMIN_CHAT not in shown and "telegram" not in shown and "/leadbot/" not in shown


def test_a_tenant_stored_before_settings_existed_reads_as_the_defaults(
    stack: InProcessStack,
) -> None:
    client = boto3.client(
        "dynamodb", region_name="us-east-1", endpoint_url=settings().dynamodb_endpoint
    )
    item = {"tenant_id": {"S": "old"}, "name": {"S": "Old Homes"}, "active": {"BOOL": True}}
    client.put_item(TableName=settings().tenants_table, Item=item)
    old_admin = {**ADMIN, "custom:tenant_id": "old"}

    assert _settings(old_admin) == {**DEFAULTS, "admin_chats": 0}
    assert _patch({"scarcity_threshold": 5}, old_admin)["scarcity_threshold"] == 5
    assert stack.repos.tenants.get("old").name == "Old Homes"


@pytest.mark.parametrize(
    "change",
    [
        {"languages": ["en", "ar"]},
        {"languages": ["ar", "en"], "default_language": "ar"},
        {"flow_mode": "qa_first", "qa_first_after": 4},
        {"ghost_after_minutes": 180},
        {"campaign_days": [2, 5, 9]},
        {"campaign_days": []},
        {"quiet_hours_start": 22, "quiet_hours_end": 8},
        {"scarcity_threshold": 0},
        {"business_hours_start": 10, "business_hours_end": 20, "business_days": [6, 0, 1, 2, 3]},
        {"handoff_sla_minutes": 15},
        {"broker_commission_rate": "0.025", "platform_commission_rate": "0.3"},
        {"followup_templates": {"ghost": {"en": GHOST_EN}, "campaign_2": {"ar": GHOST_AR}}},
    ],
)
def test_an_admin_changes_each_setting_and_only_it(
    stack: InProcessStack, change: dict[str, Any]
) -> None:
    changed = _patch(change)
    assert changed == {**DEFAULTS, "admin_chats": 1, **change}
    assert _settings() == changed


def test_an_admin_connects_an_airtable_base_and_null_disconnects_it(
    stack: InProcessStack,
) -> None:
    # The demo agency's token parameter is seeded (ops set it); the base is the admin's to give.
    connected = _patch({"airtable_base_id": "appAbCdEf0123456X"})
    assert (connected["airtable_base_id"], connected["airtable_connected"]) == (
        "appAbCdEf0123456X",
        True,
    )
    assert stack.repos.tenants.get("demo", consistent=True).airtable_base_id == (
        "appAbCdEf0123456X"
    )
    (event,) = _admin_events(stack, "settings_changed")
    assert event.detail["airtable_base_id"] == "None → appAbCdEf0123456X"

    disconnected = _patch({"airtable_base_id": None})
    assert (disconnected["airtable_base_id"], disconnected["airtable_connected"]) == (None, False)
    assert stack.repos.tenants.get("demo", consistent=True).airtable_base_id is None
    # The token's parameter is ops' and never shown, nor changed by an admin.
    assert "/leadbot/" not in json.dumps(disconnected)
    assert stack.repos.tenants.get("demo", consistent=True).airtable_token_param


def test_templates_merge_per_step_and_language_and_null_drops_one(stack: InProcessStack) -> None:
    _patch({"followup_templates": {"ghost": {"en": GHOST_EN, "ar": GHOST_AR}}})
    changed = _patch(
        {"followup_templates": {"ghost": {"ar": None}, "campaign_1": {"en": "  Day 3, {name}. "}}}
    )
    assert changed["followup_templates"] == {
        "ghost": {"en": GHOST_EN},
        "campaign_1": {"en": "Day 3, {name}."},
    }
    tenant = stack.repos.tenants.get("demo", consistent=True)
    assert [(x.step.value, x.language.value) for x in tenant.followup_templates] == [
        ("ghost", "en"),
        ("campaign_1", "en"),
    ]


def test_each_change_is_traced_with_who_and_old_to_new(stack: InProcessStack) -> None:
    _patch({"languages": ["en", "ar"], "broker_commission_rate": "0.03"})
    _patch({"followup_templates": {"ghost": {"en": GHOST_EN}}})
    _patch({"followup_templates": {"ghost": {"en": None}}, "scarcity_threshold": 3})

    first, second, third = _admin_events(stack, "settings_changed")
    assert first.detail == {
        "by": "admin@demo.example",
        "languages": "en, fa, ar, ru → en, ar",
        "broker_commission_rate": "0.02 → 0.03",
    }
    assert second.detail == {
        "by": "admin@demo.example",
        "followup_templates": f"ghost/en added ({len(GHOST_EN)} characters)",
    }
    # The threshold was already 3: only what changed is told.
    assert third.detail == {"by": "admin@demo.example", "followup_templates": "ghost/en removed"}


def test_a_change_to_the_same_values_records_nothing(stack: InProcessStack) -> None:
    assert _patch({"scarcity_threshold": 3, "languages": DEFAULTS["languages"]}) == _settings()
    assert _admin_events(stack, "settings_changed") == []


NOT_VALID = "the request is not valid"


@pytest.mark.parametrize(
    ("body", "message", "names"),
    [
        ({}, "nothing to change: give any of languages, default_language", ""),
        ({"languages": ["en", "de"]}, NOT_VALID, "languages"),
        ({"languages": []}, NOT_VALID, "languages"),
        ({"languages": ["en", "ar", "en"]}, "languages lists en more than once", ""),
        (
            {"languages": ["fa", "ar"]},
            "default_language en is not one of the languages (fa, ar)",
            "",
        ),
        (
            {"languages": ["en"], "default_language": "ru"},
            "default_language ru is not one of the languages (en)",
            "",
        ),
        ({"default_language": "de"}, NOT_VALID, "default_language"),
        ({"broker_commission_rate": "1.5"}, NOT_VALID, "broker_commission_rate"),
        ({"broker_commission_rate": "-0.01"}, NOT_VALID, "broker_commission_rate"),
        ({"platform_commission_rate": "a quarter"}, NOT_VALID, "platform_commission_rate"),
        ({"platform_commission_rate": 0.25}, NOT_VALID, "platform_commission_rate"),
        (
            {"followup_templates": {"ghost": {"en": "Hi {name}, from {price} only!"}}},
            "followup_templates.ghost.en uses {price}; a template may use only {name} and {agency}",
            "",
        ),
        (
            {"followup_templates": {"ghost": {"en": "Hi {name"}}},
            "followup_templates.ghost.en has a { or } that is not a placeholder",
            "",
        ),
        (
            {"followup_templates": {"ghost": {"en": "Hi {name!r}"}}},
            "followup_templates.ghost.en: write {name} without a format",
            "",
        ),
        (
            {"followup_templates": {"ghost": {"fa": "   "}}},
            "followup_templates.ghost.fa is empty; send null for the built-in wording",
            "",
        ),
        ({"followup_templates": {"ghost": {"en": "x" * 1001}}}, NOT_VALID, "1000"),
        ({"followup_templates": {"reminder": {"en": "Hi"}}}, NOT_VALID, "followup_templates"),
        (
            {"followup_templates": {"campaign_3": {"en": "Hi {name}"}}},
            "followup_templates.campaign_3.en is for a campaign step there is not",
            "",
        ),
        ({"qa_first_after": 0}, NOT_VALID, "qa_first_after"),
        ({"qa_first_after": 21}, NOT_VALID, "qa_first_after"),
        ({"ghost_after_minutes": 5}, NOT_VALID, "ghost_after_minutes"),
        ({"scarcity_threshold": 51}, NOT_VALID, "scarcity_threshold"),
        ({"scarcity_threshold": -1}, NOT_VALID, "scarcity_threshold"),
        ({"campaign_days": [6, 3]}, "campaign_days must increase", ""),
        ({"campaign_days": [1, 2, 3, 4, 5, 6]}, NOT_VALID, "campaign_days"),
        ({"campaign_days": [0]}, NOT_VALID, "campaign_days"),
        ({"quiet_hours_start": 9}, "quiet_hours_start and quiet_hours_end must be different", ""),
        ({"quiet_hours_end": 24}, NOT_VALID, "quiet_hours_end"),
        ({"flow_mode": None}, "flow_mode cannot be null", ""),
        ({"business_hours_end": 8}, "business_hours_end must be after business_hours_start", ""),
        ({"business_days": []}, NOT_VALID, "business_days"),
        ({"business_days": [7]}, NOT_VALID, "business_days"),
        ({"business_days": [1, 1]}, "business_days lists a day more than once", ""),
        ({"handoff_sla_minutes": 0}, NOT_VALID, "handoff_sla_minutes"),
        ({"flow_mode": "chatty"}, NOT_VALID, "flow_mode"),
        ({"airtable_base_id": "app123"}, NOT_VALID, "airtable_base_id"),
        ({"airtable_base_id": "tblAbCdEf0123456X"}, NOT_VALID, "airtable_base_id"),
        ({"airtable_base_id": 12}, NOT_VALID, "airtable_base_id"),
    ],
)
def test_bad_changes_are_400_with_a_clear_message_and_change_nothing(
    stack: InProcessStack, body: dict[str, Any], message: str, names: str
) -> None:
    before = _settings()
    status, answer = api_call("PATCH", "/api/settings", ADMIN, body=body)
    assert status == 400 and answer["message"].startswith(message), answer
    assert names in json.dumps(answer["errors"] if message == NOT_VALID else answer)
    assert _settings() == before
    assert _admin_events(stack, "settings_changed") == []


def test_fewer_campaign_steps_need_their_templates_dropped_in_the_same_change(
    stack: InProcessStack,
) -> None:
    _patch({"followup_templates": {"campaign_2": {"en": "Day 6, {name}"}}})
    status, answer = api_call("PATCH", "/api/settings", ADMIN, body={"campaign_days": [3]})
    assert status == 400
    assert "remove the template (null) or add the step" in answer["message"]
    body = {"campaign_days": [3], "followup_templates": {"campaign_2": {"en": None}}}
    changed = _patch(body)
    assert (changed["campaign_days"], changed["followup_templates"]) == ([3], {})


def test_another_tenants_admin_changes_only_their_own(stack: InProcessStack) -> None:
    theirs = _patch({"languages": ["ru"], "default_language": "ru"}, OTHER_TENANT_ADMIN)
    assert (theirs["languages"], theirs["default_language"]) == (["ru"], "ru")
    assert _settings() == {**DEFAULTS, "admin_chats": 1}
    assert _settings(OTHER_TENANT_ADMIN) == theirs
    assert _admin_events(stack, "settings_changed") == []
    (event,) = _admin_events(stack, "settings_changed", tenant_id="demo2")
    assert event.detail["by"] == "agent@demo2.example"


def test_a_change_keeps_an_admin_chat_registered_while_it_was_being_made(
    stack: InProcessStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenants = stack.repos.tenants
    read = tenants.get

    def read_then_a_chat_registers(tenant_id: str, *, consistent: bool = False) -> Tenant:
        found = read(tenant_id, consistent=consistent)
        if consistent and len(found.admin_chats) == 1:
            tenants.add_admin_chat(tenant_id, "910000009")  # /set_admin, between read and write
        return found

    monkeypatch.setattr(tenants, "get", read_then_a_chat_registers)
    _patch({"languages": ["en", "ar"]})
    monkeypatch.undo()

    stored = tenants.get("demo", consistent=True)
    assert stored.admin_chats == (DEMO_ADMIN_CHAT, "910000009")
    assert stored.languages == (Language.EN, Language.AR)
    assert _settings()["admin_chats"] == 2


def test_changes_by_two_admins_at_once_never_mix_into_settings_neither_checked(
    stack: InProcessStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenants = stack.repos.tenants
    read = tenants.get
    other_admin_done = []

    def read_then_another_admin_saves(tenant_id: str, *, consistent: bool = False) -> Tenant:
        found = read(tenant_id, consistent=consistent)
        if consistent and not other_admin_done:
            other_admin_done.append(True)
            settings_service.change(
                stack.repos, tenant_id, {"languages": ["en", "ar"]}, by="other@demo.example"
            )
        return found

    monkeypatch.setattr(tenants, "get", read_then_another_admin_saves)
    # Fine against what was read (Persian is spoken), not against what the other admin saved.
    status, answer = api_call("PATCH", "/api/settings", ADMIN, body={"default_language": "fa"})
    monkeypatch.undo()

    assert (status, answer["message"]) == (
        400,
        "default_language fa is not one of the languages (en, ar)",
    )
    stored = _settings()
    assert (stored["languages"], stored["default_language"]) == (["en", "ar"], "en")
    assert [e.detail["by"] for e in _admin_events(stack, "settings_changed")] == [
        "other@demo.example"
    ]


def test_new_leads_are_offered_only_the_languages_set(stack: InProcessStack) -> None:
    def offered(chat_id: int) -> list[str]:
        lead = Updates(chat_id, language_code="fa")
        assert stack.post(lead.text("/start"))["statusCode"] == 200
        assert stack.post(lead.press("lang:menu"))["statusCode"] == 200
        rows = stack.sent(chat_id)[-1]["payload"]["reply_markup"]["inline_keyboard"]
        return [button["callback_data"] for row in rows for button in row]

    assert offered(730_000_001) == ["lang:en", "lang:fa", "lang:ar", "lang:ru"]
    _patch({"languages": ["en", "ar"]})

    assert offered(730_000_002) == ["lang:en", "lang:ar"]
    # Persian is no longer spoken: a Persian phone is greeted in the default language.
    welcome = t("welcome", Language.EN, agency="Demo Realty")
    assert stack.sent(730_000_002)[0]["payload"]["text"].startswith(welcome)


def test_a_changed_commission_rate_is_used_from_the_next_deal(stack: InProcessStack) -> None:
    assert stack.post(Updates(730_000_101).text("/start"))["statusCode"] == 200
    lead_id = _lead_id(stack, 730_000_101)
    deal = {"lead_id": lead_id, "value": "1000000"}
    status, before = api_call("POST", "/api/deals", AGENT, body=deal)
    assert status == 201

    _patch({"broker_commission_rate": "0.03", "platform_commission_rate": "0.5"})
    status, after = api_call("POST", "/api/deals", AGENT, body=deal)

    assert status == 201
    assert (after["broker_commission"], after["platform_commission"]) == ("30000.00", "15000.00")
    # A deal made before keeps the rates it was made with.
    status, kept = api_call("GET", f"/api/deals/{before['deal_id']}", AGENT)
    assert (kept["broker_commission"], kept["platform_commission"]) == ("20000.00", "5000.00")


def _issue(claims: dict[str, str] = ADMIN) -> tuple[dict[str, Any], dict[str, Any]]:
    response = api_response("POST", "/api/settings/admin-code", claims)
    assert response["statusCode"] == 201, response
    headers = {k.lower(): v for k, v in (response.get("multiValueHeaders") or {}).items()}
    return json.loads(response["body"]), headers


def test_an_admin_code_from_the_api_makes_a_chat_an_admin_chat_once(
    stack: InProcessStack,
) -> None:
    issued, headers = _issue()
    assert headers["cache-control"] == ["no-store"]
    expires = datetime.fromisoformat(issued["expires_at"])
    assert timedelta(hours=23) < expires - datetime.now(UTC) <= timedelta(hours=24)

    assert (
        stack.post(Updates(910_000_011).text(f"/set_admin {issued['code']}"))["statusCode"] == 200
    )
    assert stack.last_text(910_000_011) == t("admin.registered", Language.EN, agency="Demo Realty")
    assert _settings()["admin_chats"] == 2
    assert (
        stack.post(Updates(910_000_012).text(f"/set_admin {issued['code']}"))["statusCode"] == 200
    )
    assert stack.last_text(910_000_012) == t("admin.refused", Language.EN)

    (event,) = _admin_events(stack, "admin_code_issued")
    assert event.detail == {"by": "admin@demo.example", "expires_at": expires.isoformat()}
    history = stack.repos.timeline.history("demo", ADMIN_STREAM)
    assert issued["code"] not in repr(history)


def test_an_admin_code_works_only_for_its_own_agency(stack: InProcessStack) -> None:
    theirs, _ = _issue(OTHER_TENANT_ADMIN)
    command = Updates(910_000_021).text(f"/set_admin {theirs['code']}")
    assert stack.post(command)["statusCode"] == 200  # to demo's bot
    assert stack.last_text(910_000_021) == t("admin.refused", Language.EN)
    assert _settings()["admin_chats"] == 1

    stack.tenant_id = "demo2"
    assert stack.post(command, secret=DEMO2_TELEGRAM_SECRET)["statusCode"] == 200
    assert _settings(OTHER_TENANT_ADMIN)["admin_chats"] == 2
