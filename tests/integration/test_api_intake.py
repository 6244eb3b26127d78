"""Leads from elsewhere (by hand, CSV imports) and broker assignment, through the API function.

A person is one lead per tenant however they arrive: typed in, imported twice, or already
talking to the bot. Runs on moto and on DynamoDB Local.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from leadbot.domain import Channel
from tests.support import (
    ADMIN,
    AGENT,
    OTHER_TENANT_AGENT,
    InProcessStack,
    LeadsStream,
    Updates,
    api_call,
)

HANA_CHAT = 710_200_001
EXPO_SHEET = (
    "Full name;Mobile;E-mail;Interested in;Notes\n"
    "Omar Khalid;050 555 0111;omar@example.com;villa;wants a sea view\n"
    "  ;050 555 0112;nameless@example.com;;\n"
    "Li Wei;not a number;li@example.com;;\n"
    "\n"
    "Omar K.;+971 50 555 0111;;;came back to the stand\n"
    "Hana Saleh;+971505550101;hana@example.com;;\n"
)


def _leads(claims: dict[str, str] = AGENT, query: str = "limit=100") -> list[dict[str, Any]]:
    status, page = api_call("GET", "/api/leads", claims, query=query)
    assert status == 200, page
    return list(page["items"])


def _unscored(claims: dict[str, str] = AGENT) -> dict[str, dict[str, Any]]:
    """Leads by name, read one by one (the board lists only scored leads)."""
    return {lead["name"]: lead for lead in _all_details(claims)}


def _all_details(claims: dict[str, str]) -> list[dict[str, Any]]:
    from leadbot.services.runtime import repositories

    tenant = claims["custom:tenant_id"]
    items = repositories().leads._model.query(tenant)
    return [api_call("GET", f"/api/leads/{item.lead_id}", claims)[1] for item in items]


def _add(body: dict[str, Any], claims: dict[str, str] = AGENT) -> tuple[int, dict[str, Any]]:
    status, answer = api_call("POST", "/api/leads", claims, body=body)
    return status, answer


def _import(text: str, claims: dict[str, str] = AGENT, **extra: Any) -> dict[str, Any]:
    status, report = api_call("POST", "/api/leads/import", claims, body={"csv": text, **extra})
    assert status == 200, report
    return dict(report)


def _timeline(lead_id: str) -> list[tuple[str, dict[str, str]]]:
    _, page = api_call("GET", f"/api/leads/{lead_id}/timeline", AGENT)
    return [(item["text"], item["detail"]) for item in reversed(page["items"])]


@pytest.fixture
def hana(stack: InProcessStack) -> str:
    """A lead who qualified herself over Telegram and shared +971 50 555 0101."""
    for update in Updates(HANA_CHAT, first_name="Hana").qualification(phone="+971 50 555 0101"):
        stack.post(update)
    key = stack.repos.identities.key("demo", Channel.TELEGRAM, str(HANA_CHAT))
    lead_id = stack.repos.identities.lead_id(key)
    assert lead_id is not None
    return lead_id


def test_an_agent_adds_a_lead_by_hand(stack: InProcessStack) -> None:
    status, added = _add(
        {
            "name": "  Omar   Khalid ",
            "phone": "050 555 0111",  # local to the agency's region (AE)
            "email": "Omar@Example.com",
            "linkedin_url": "https://ae.linkedin.com/in/Omar-Khalid/?trk=x",
            "language": "ar",
            "note": "met at the Cityscape stand",
        }
    )
    assert status == 201, added
    assert (added["outcome"], added["matched_on"], added["added"]) == ("created", None, [])
    lead = added["lead"]
    assert (lead["name"], lead["phone"], lead["email"]) == (
        "Omar Khalid",
        "+971505550111",
        "omar@example.com",
    )
    assert lead["linkedin_url"] == "linkedin.com/in/omar-khalid"
    assert (lead["channel"], lead["source"], lead["language"], lead["status"]) == (
        "manual",
        "manual",
        "ar",
        "new",
    )
    events = _timeline(lead["lead_id"])
    assert events == [
        ("lead_created", {"by": "agent@demo.example", "how": "manual", "source": "manual"}),
        ("note", {"by": "agent@demo.example", "note": "met at the Cityscape stand"}),
    ]


def test_the_same_person_again_is_merged_never_duplicated(stack: InProcessStack) -> None:
    _, first = _add({"name": "Omar Khalid", "phone": "+971 50 555 0111"})
    status, again = _add({"name": "Omar", "phone": "0505550111", "email": "omar@example.com"})
    assert status == 200, again
    assert (again["outcome"], again["matched_on"], again["added"]) == (
        "merged",
        "phone",
        ["email"],
    )
    lead = again["lead"]
    assert lead["lead_id"] == first["lead"]["lead_id"]
    assert (lead["name"], lead["email"]) == ("Omar Khalid", "omar@example.com")  # kept, filled
    # Now the email alone finds him too.
    _, by_email = _add({"name": "O. Khalid", "email": "OMAR@example.com"})
    assert (by_email["outcome"], by_email["matched_on"], by_email["added"]) == (
        "merged",
        "email",
        [],
    )
    assert len(_all_details(AGENT)) == 1
    merged = [d for text, d in _timeline(lead["lead_id"]) if text == "lead_merged"]
    assert merged[0] == {
        "by": "agent@demo.example",
        "how": "manual",
        "matched_on": "phone",
        "added": "email",
    }


def test_a_person_already_talking_to_the_bot_is_that_lead(stack: InProcessStack, hana: str) -> None:
    status, added = _add({"name": "Hana S.", "phone": "+971 50 555 0101", "email": "h@ex.com"})
    assert (status, added["outcome"], added["matched_on"]) == (200, "merged", "phone")
    assert added["lead"]["lead_id"] == hana
    assert (added["lead"]["channel"], added["lead"]["name"]) == ("telegram", "Hana")
    _, by_chat = _add({"name": "Hana", "telegram_id": str(HANA_CHAT)})
    assert (by_chat["matched_on"], by_chat["lead"]["lead_id"]) == ("telegram", hana)


def test_a_typed_in_lead_with_a_chat_id_is_the_lead_that_chat_becomes(
    stack: InProcessStack,
) -> None:
    chat = 710_200_009
    _, added = _add({"name": "Yusuf", "telegram_id": str(chat), "source": "referral"})
    lead_id = added["lead"]["lead_id"]
    assert (added["lead"]["channel"], added["lead"]["source"]) == ("telegram", "referral")
    stack.post(Updates(chat, first_name="Yusuf").text("/start"))
    assert stack.last_text(chat)  # the bot answered him
    assert len(_all_details(AGENT)) == 1
    assert api_call("GET", f"/api/leads/{lead_id}", AGENT)[1]["engagement"]["messages"] == 1


def test_a_lead_without_a_chat_cannot_be_messaged(stack: InProcessStack) -> None:
    _, added = _add({"name": "Omar", "email": "omar@example.com"})
    path = f"/api/leads/{added['lead']['lead_id']}/messages"
    status, answer = api_call("POST", path, AGENT, body={"text": "Hello Omar"})
    assert (status, answer["message"]) == (
        409,
        "the lead has no chat with the bot yet: call or email them",
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "   ", "phone": "+971505550111"}, "a name is required"),
        ({"name": "Omar"}, "give a way to reach them: phone, email, LinkedIn URL or chat id"),
        ({"name": "Omar", "phone": "12"}, "phone '12' is not a valid phone number"),
        ({"name": "Omar", "email": "omar@"}, "email 'omar@' is not an email address"),
        (
            {"name": "Omar", "linkedin_url": "https://example.com/in/omar"},
            "'https://example.com/in/omar' is not a LinkedIn profile URL",
        ),
        (
            {"name": "Omar", "telegram_id": "@omar"},
            "telegram id '@omar' is not a Telegram chat id (digits)",
        ),
    ],
)
def test_bad_people_are_400_with_what_to_fix(
    stack: InProcessStack, body: dict[str, Any], message: str
) -> None:
    status, answer = _add(body)
    assert (status, answer["message"]) == (400, message)
    assert _all_details(AGENT) == []


def test_adding_and_importing_need_a_verified_caller(stack: InProcessStack) -> None:
    assert _add({"name": "Omar", "email": "omar@example.com"}, None)[0] == 401  # type: ignore[arg-type]
    status, _ = api_call("POST", "/api/leads/import", None, body={"csv": EXPO_SHEET})
    assert status == 401
    assert _all_details(AGENT) == []


def test_an_expo_sheet_imports_with_a_report_per_row(stack: InProcessStack, hana: str) -> None:
    report = _import(EXPO_SHEET, source="cityscape-2026")
    assert (report["created"], report["merged"], report["failed"]) == (1, 2, 2)
    assert report["ignored_columns"] == ["Interested in"]
    rows = {row["line"]: row for row in report["rows"]}
    assert sorted(rows) == [2, 3, 4, 6, 7]  # lines of the file; the blank line is skipped
    assert (rows[2]["status"], rows[2]["name"]) == ("created", "Omar Khalid")
    assert (rows[3]["status"], rows[3]["message"]) == ("failed", "a name is required")
    assert (rows[4]["status"], rows[4]["message"]) == (
        "failed",
        "phone 'not a number' is not a valid phone number",
    )
    # The same man twice in one sheet, and Hana who already talks to the bot.
    assert (rows[6]["status"], rows[6]["lead_id"], rows[6]["matched_on"]) == (
        "merged",
        rows[2]["lead_id"],
        "phone",
    )
    assert (rows[7]["status"], rows[7]["lead_id"], rows[7]["added"]) == (
        "merged",
        hana,
        ["email"],
    )
    people = _unscored()
    assert sorted(people) == ["Hana", "Omar Khalid"]
    omar = people["Omar Khalid"]
    assert (omar["phone"], omar["email"], omar["source"]) == (
        "+971505550111",
        "omar@example.com",
        "cityscape-2026",
    )
    notes = [d["note"] for text, d in _timeline(omar["lead_id"]) if text == "note"]
    assert notes == ["wants a sea view", "came back to the stand"]

    again = _import(EXPO_SHEET, source="cityscape-2026")
    assert (again["created"], again["merged"], again["failed"]) == (0, 3, 2)
    assert all(row["added"] == [] for row in again["rows"])
    assert len(_all_details(AGENT)) == 2


def test_a_linkedin_export_with_its_notes_before_the_header(stack: InProcessStack) -> None:
    export = (
        "Notes:\n"
        '"When exporting your connection data, you may notice that some of the email '
        'addresses are missing."\n'
        "\n"
        "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
        "Nadia,Petrova,https://www.linkedin.com/in/nadia-petrova,,Emaar,CFO,12 Mar 2026\n"
        "Sam,Lee,https://www.linkedin.com/in/samlee/,sam@lee.io,,,01 Jan 2026\n"
    )
    report = _import(export)
    assert (report["created"], report["failed"]) == (2, 0)
    assert report["ignored_columns"] == ["Company", "Position", "Connected On"]
    people = _unscored()
    nadia = people["Nadia Petrova"]
    assert (nadia["linkedin_url"], nadia["email"], nadia["source"]) == (
        "linkedin.com/in/nadia-petrova",
        None,
        "import",
    )
    # Her email arrives later on another sheet: the profile finds her, the email is added.
    later = _import("name,linkedin,email\nNadia P.,linkedin.com/in/Nadia-Petrova,n@emaar.ae\n")
    (row,) = later["rows"]
    assert (row["status"], row["lead_id"], row["matched_on"], row["added"]) == (
        "merged",
        nadia["lead_id"],
        "linkedin",
        ["email"],
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("phone,email\n+971505550111,a@b.co\n", "no header with a name column"),
        ("name,phone\n", "the file has a header but no rows"),
        ("name\n" + "Omar\n" * 1001, "more than 1000 rows: split the file and import each part"),
    ],
)
def test_sheets_that_cannot_be_read_are_400_and_import_nothing(
    stack: InProcessStack, text: str, message: str
) -> None:
    status, answer = api_call("POST", "/api/leads/import", AGENT, body={"csv": text})
    assert status == 400 and answer["message"].startswith(message), answer
    assert _all_details(AGENT) == []


def test_tenants_never_match_each_other(stack: InProcessStack, hana: str) -> None:
    report = _import(EXPO_SHEET, OTHER_TENANT_AGENT)
    assert (report["created"], report["merged"]) == (2, 1)  # Hana is new to demo2
    assert hana not in {row["lead_id"] for row in report["rows"]}
    assert sorted(_unscored(OTHER_TENANT_AGENT)) == ["Hana Saleh", "Omar Khalid"]
    assert sorted(_unscored(AGENT)) == ["Hana"]
    demo2_lead = report["rows"][0]["lead_id"]
    assert api_call("GET", f"/api/leads/{demo2_lead}", AGENT)[0] == 404


def test_an_export_imported_back_changes_nothing(stack: InProcessStack, hana: str) -> None:
    stream = LeadsStream()
    _import(EXPO_SHEET)
    stream.score_changes()  # the export lists scored leads
    status, exported = api_call("GET", "/api/leads/export", AGENT, query="format=csv")
    assert status == 200
    # Phones are exported as '+971… so spreadsheets do not read them as formulas.
    rows = list(csv.reader(io.StringIO(exported)))
    assert len(rows) == 3  # the header, Omar and Hana
    report = _import(exported)
    assert (report["created"], report["failed"]) == (0, 0), report
    assert all(row["added"] == [] for row in report["rows"])


def test_two_agents_adding_the_same_person_at_once_make_one_lead(
    ddblocal_stack: InProcessStack,
) -> None:
    answers: list[tuple[int, dict[str, Any]]] = []
    start = threading.Barrier(4)

    def add(i: int) -> None:
        start.wait()
        answers.append(_add({"name": f"Omar {i}", "phone": "+971505550111"}))

    threads = [threading.Thread(target=add, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in answers) == [200, 200, 200, 201]
    assert len({answer["lead"]["lead_id"] for _, answer in answers}) == 1
    assert len(_all_details(AGENT)) == 1


@pytest.fixture
def broker(stack: InProcessStack) -> dict[str, Any]:
    body = {"name": "Rana Haddad", "phone": "+971505550199", "email": "rana@demo.example"}
    status, created = api_call("POST", "/api/brokers", ADMIN, body=body)
    assert status == 201, created
    return dict(created)


def test_assigning_a_broker_moves_the_lead_on_and_is_on_its_timeline(
    stack: InProcessStack, hana: str, broker: dict[str, Any]
) -> None:
    path = f"/api/leads/{hana}"
    status, lead = api_call("PATCH", path, AGENT, body={"broker_id": broker["broker_id"]})
    assert status == 200, lead
    assert (lead["broker_id"], lead["status"]) == (broker["broker_id"], "assigned")
    assert _timeline(hana)[-2:] == [
        (
            "broker_assigned",
            {"broker_id": broker["broker_id"], "broker": "Rana Haddad", "by": "agent@demo.example"},
        ),
        ("status_changed", {"from": "qualified", "to": "assigned", "by": "agent@demo.example"}),
    ]
    assert [lead["lead_id"] for lead in _unscored().values() if lead["broker_id"]] == [hana]

    status, lead = api_call("PATCH", path, AGENT, body={"status": "contacted"})
    status, lead = api_call("PATCH", path, AGENT, body={"broker_id": None})
    assert (status, lead["broker_id"], lead["status"]) == (200, None, "contacted")
    assert _timeline(hana)[-1] == (
        "broker_unassigned",
        {"broker_id": broker["broker_id"], "by": "agent@demo.example"},
    )
    # Reassigning a lead further along keeps its status.
    status, lead = api_call("PATCH", path, AGENT, body={"broker_id": broker["broker_id"]})
    assert (lead["broker_id"], lead["status"]) == (broker["broker_id"], "contacted")


def test_the_board_filters_by_broker(stack: InProcessStack, broker: dict[str, Any]) -> None:
    from tests.support import LeadsStream

    stream = LeadsStream()
    _, omar = _add({"name": "Omar", "phone": "+971505550111"})
    _add({"name": "Li", "email": "li@example.com"})
    api_call(
        "PATCH",
        f"/api/leads/{omar['lead']['lead_id']}",
        AGENT,
        body={"broker_id": broker["broker_id"]},
    )
    stream.score_changes()
    assert {lead["name"] for lead in _leads()} == {"Omar", "Li"}
    mine = _leads(query=f"broker_id={broker['broker_id']}")
    assert [lead["name"] for lead in mine] == ["Omar"]
    assert api_call("GET", "/api/leads", AGENT, query="broker_id=rana")[0] == 400


@pytest.mark.parametrize(
    ("broker_id", "message"),
    [
        ("01BX5ZZKBKACTAV9WEVGEMMVRZ", "no broker 01BX5ZZKBKACTAV9WEVGEMMVRZ in this agency"),
        ("deactivated", "broker Rana Haddad is deactivated; assign an active broker"),
        ("other tenant's", "no broker {id} in this agency"),
    ],
)
def test_assigning_a_broker_that_cannot_take_leads_is_400(
    stack: InProcessStack, hana: str, broker: dict[str, Any], broker_id: str, message: str
) -> None:
    if broker_id == "deactivated":
        api_call("DELETE", f"/api/brokers/{broker['broker_id']}", ADMIN)
        broker_id = broker["broker_id"]
    elif broker_id == "other tenant's":
        admin2 = {**OTHER_TENANT_AGENT, "custom:role": "admin"}
        body = {"name": "Bo", "phone": "+971505550198", "email": "bo@demo2.example"}
        broker_id = api_call("POST", "/api/brokers", admin2, body=body)[1]["broker_id"]
    status, answer = api_call("PATCH", f"/api/leads/{hana}", AGENT, body={"broker_id": broker_id})
    assert (status, answer["message"]) == (400, message.format(id=broker_id))
    lead = api_call("GET", f"/api/leads/{hana}", AGENT)[1]
    assert (lead["broker_id"], lead["status"]) == (None, "qualified")


def test_ops_import_a_sheet_from_the_command_line_with_progress(
    stack: InProcessStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from leadbot.admin.__main__ import main as admin

    sheet = tmp_path / "expo.csv"
    sheet.write_text("\ufeff" + EXPO_SHEET, encoding="utf-8")
    assert admin(["import-leads", "--tenant", "demo", "--source", "expo", str(sheet)]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out) == {
        "created": 2,
        "merged": 1,
        "failed": 2,
        "ignored_columns": ["Interested in"],
    }
    assert "demo  [" in err and "5/5  100%" in err  # the progress bar, finished
    assert "line 3: (no name): a name is required" in err
    assert sorted(_unscored()) == ["Hana Saleh", "Omar Khalid"]
    assert _unscored()["Omar Khalid"]["source"] == "expo"

    assert admin(["import-leads", "--tenant", "nope", str(sheet)]) == 2
    assert "no tenant 'nope'" in capsys.readouterr().err
    sheet.write_bytes("Name\nJosé\n".encode("latin-1"))
    assert admin(["import-leads", "--tenant", "demo", str(sheet)]) == 2
    assert "save it as CSV UTF-8" in capsys.readouterr().err
