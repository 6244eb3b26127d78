"""Data rights over real tables (moto and DynamoDB Local): a lead's export holds everything stored
about it, and forgetting it leaves none of its phone, name, chat id or words in any table of
template.yaml, while the other leads stay as they were. Through the dashboard API (admins only)
and `python -m leadbot.admin export-lead / forget-lead`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from leadbot.admin.__main__ import main as admin
from leadbot.domain import Channel
from leadbot.store import ADMIN_STREAM
from tests.support import (
    ADMIN,
    AGENT,
    OTHER_TENANT_AGENT,
    InProcessStack,
    Updates,
    api_call,
    every_string,
)

ZAINAB_CHAT = 7_331_234_567
ZAINAB_PHONE = "+971 55 987 6543"
ZAINAB_E164 = "+971559876543"
ZAINAB_EMAIL = "zainab.q@example.org"
QUESTION = "Is the zebra enclosure open on Sundays?"
LEYLA_CHAT = 7_331_765_432
LEYLA_E164 = "+971501112233"


def lead_id_of(stack: InProcessStack, chat: int) -> str:
    key = stack.repos.identities.key("demo", Channel.TELEGRAM, str(chat))
    lead_id = stack.repos.identities.lead_id(key, consistent=True)
    assert lead_id is not None
    return lead_id


@pytest.fixture
def two_leads(stack: InProcessStack) -> tuple[str, str]:
    """Zainab: qualified, a question nobody could answer, a /set_admin try, an email an agent
    added (bound to her in Identities only) and a deal. Leyla: qualified. Their lead ids."""
    zainab, leyla = Updates(ZAINAB_CHAT, "Zainab"), Updates(LEYLA_CHAT, "Leyla")
    for update in [
        *zainab.qualification(ZAINAB_PHONE),
        zainab.text(QUESTION),
        zainab.text("/set_admin not-a-code"),
        *leyla.qualification("+971 50 111 2233"),
    ]:
        assert stack.post(update)["statusCode"] == 200
    status, merged = api_call(
        "POST",
        "/api/leads",
        AGENT,
        {"name": "Zainab Q", "phone": "0559876543", "email": ZAINAB_EMAIL},
    )
    assert status == 200 and merged["outcome"] == "merged", merged
    zainab_id = lead_id_of(stack, ZAINAB_CHAT)
    status, _ = api_call("POST", "/api/deals", AGENT, {"lead_id": zainab_id, "value": "1800000"})
    assert status == 201
    return zainab_id, lead_id_of(stack, LEYLA_CHAT)


def test_the_export_holds_the_lead_its_identities_timeline_gaps_and_deals(
    stack: InProcessStack, two_leads: tuple[str, str]
) -> None:
    zainab_id, leyla_id = two_leads

    status, export = api_call("GET", f"/api/leads/{zainab_id}/export", ADMIN)

    assert status == 200, export
    assert export["lead"]["phone"] == ZAINAB_E164 and export["lead"]["name"] == "Zainab"
    assert export["lead"]["email"] == ZAINAB_EMAIL
    assert set(export["identities"]) >= {
        f"demo#telegram#{ZAINAB_CHAT}",
        f"demo#phone#{ZAINAB_E164}",
        f"demo#email#{ZAINAB_EMAIL}",
    }
    texts = [entry.get("text") for entry in export["timeline"]]
    assert "/start" in texts and QUESTION in texts and "lead_merged" in texts
    assert [entry["sk"] for entry in export["timeline"]] == sorted(
        entry["sk"] for entry in export["timeline"]
    )
    assert all(entry["pk"] == f"demo#{zainab_id}" for entry in export["timeline"])
    assert [gap["text"] for gap in export["knowledge_gaps"]] == [QUESTION]
    assert [a["detail"]["chat_id"] for a in export["admin_chat_attempts"]] == [str(ZAINAB_CHAT)]
    [deal] = export["deals"]
    assert deal["lead_id"] == zainab_id and deal["value"]["amount"] == "1800000.00"
    assert export["crm"] is None  # the demo agency has no Airtable base
    # Only hers: nothing of Leyla's.
    assert LEYLA_E164 not in json.dumps(export) and leyla_id not in json.dumps(export)


def test_agents_and_other_agencies_cannot_export_or_forget(
    stack: InProcessStack, two_leads: tuple[str, str]
) -> None:
    zainab_id, _ = two_leads

    assert api_call("GET", f"/api/leads/{zainab_id}/export", AGENT)[0] == 403
    assert api_call("DELETE", f"/api/leads/{zainab_id}", AGENT)[0] == 403
    assert api_call("GET", f"/api/leads/{zainab_id}/export", OTHER_TENANT_AGENT)[0] == 403
    other_admin = {**OTHER_TENANT_AGENT, "custom:role": "admin"}
    assert api_call("GET", f"/api/leads/{zainab_id}/export", other_admin)[0] == 404
    assert api_call("DELETE", f"/api/leads/{zainab_id}", other_admin)[0] == 404
    assert api_call("GET", f"/api/leads/{zainab_id}", AGENT)[0] == 200  # still there


def test_forgetting_leaves_nothing_of_the_lead_in_any_table_and_the_others_intact(
    stack: InProcessStack, two_leads: tuple[str, str]
) -> None:
    zainab_id, leyla_id = two_leads
    before = every_string()
    hers = (ZAINAB_E164, "971559876543", "Zainab", str(ZAINAB_CHAT), ZAINAB_EMAIL, "zebra")
    assert any(h in s for h in hers for s in before["LeadsTable"] + before["TimelineTable"])
    leyla_before = api_call("GET", f"/api/leads/{leyla_id}", AGENT)[1]
    leyla_timeline = api_call("GET", f"/api/leads/{leyla_id}/timeline", AGENT, query="limit=100")

    status, done = api_call("DELETE", f"/api/leads/{zainab_id}", ADMIN)

    assert status == 200, done
    assert done["lead"] == 1 and done["identities"] >= 3 and done["timeline"] > 10
    assert (done["knowledge_gaps"], done["admin_chat_attempts"]) == (1, 1)
    assert done["crm"] == "not_configured" and len(done["deals_kept"]) == 1
    after = every_string()
    for table, values in after.items():
        leaks = sorted({s for s in values for h in hers if h in s})
        assert leaks == [], f"{table} still holds {leaks}"
    # The others: untouched.
    assert api_call("GET", f"/api/leads/{leyla_id}", AGENT)[1] == leyla_before
    assert (
        api_call("GET", f"/api/leads/{leyla_id}/timeline", AGENT, query="limit=100")
        == leyla_timeline
    )
    assert any(LEYLA_E164 in s for s in after["LeadsTable"])
    assert any(f"demo#telegram#{LEYLA_CHAT}" == s for s in after["IdentitiesTable"])
    # Gone for the dashboard too, and one anonymous trace in the agency's own stream.
    assert api_call("GET", f"/api/leads/{zainab_id}", AGENT)[0] == 404
    assert api_call("DELETE", f"/api/leads/{zainab_id}", ADMIN)[0] == 404
    [trace] = [
        e for e in stack.repos.timeline.history("demo", ADMIN_STREAM) if e.text == "lead_forgotten"
    ]
    assert trace.detail["lead_id"] == zainab_id and trace.detail["by"] == ADMIN["email"]
    assert json.loads(trace.detail["removed"])["timeline"] == done["timeline"]


def test_a_forgotten_person_writing_again_is_a_new_lead_in_the_same_warm_process(
    stack: InProcessStack, two_leads: tuple[str, str]
) -> None:
    zainab_id, _ = two_leads
    assert api_call("DELETE", f"/api/leads/{zainab_id}", ADMIN)[0] == 200

    # This process still remembers her chat's lead: the message must not fail on it.
    assert stack.post(Updates(ZAINAB_CHAT, "Zainab").text("hello again"))["statusCode"] == 200

    new_id = lead_id_of(stack, ZAINAB_CHAT)
    assert new_id != zainab_id
    assert stack.repos.leads.get("demo", new_id).phone is None  # nothing of the old one


def test_the_cli_exports_and_forgets_with_confirmation(
    stack: InProcessStack,
    two_leads: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Any,
) -> None:
    zainab_id, leyla_id = two_leads
    target = tmp_path / "zainab.json"

    assert (
        admin(["export-lead", "--tenant", "demo", "--lead", zainab_id, "--output", str(target)])
        == 0
    )
    exported = json.loads(target.read_text(encoding="utf-8"))
    assert exported["lead"]["lead_id"] == zainab_id and exported["timeline"]
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    capsys.readouterr()

    # Unattended without --yes: refused, nothing removed.
    assert admin(["forget-lead", "--tenant", "demo", "--lead", zainab_id]) == 2
    assert "--yes" in capsys.readouterr().err
    assert stack.repos.leads.item("demo", zainab_id) is not None

    assert admin(["forget-lead", "--tenant", "demo", "--lead", zainab_id, "--yes"]) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert report["lead_id"] == zainab_id and report["lead"] == 1
    assert stack.repos.leads.item("demo", zainab_id) is None
    assert stack.repos.leads.item("demo", leyla_id) is not None
    assert admin(["forget-lead", "--tenant", "demo", "--lead", zainab_id, "--yes"]) == 2
    assert admin(["export-lead", "--tenant", "demo", "--lead", zainab_id]) == 2
    assert admin(["export-lead", "--tenant", "nope", "--lead", zainab_id]) == 2
