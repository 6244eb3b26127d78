"""The fake Airtable answers as Airtable does: tokens per base, records checked against their
columns, upserts on fieldsToMergeOn, the 5-per-second rate limit, and the faults tests ask for."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.fake_airtable import RATE_LIMIT_BODY, FakeAirtable

BASE = "appAbCdEf0123456X"
TOKEN = "patTestToken.0001"


class Clock:
    def __init__(self) -> None:
        self.now = 10.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> FakeAirtable:
    fake = FakeAirtable(clock=clock)
    fake.add_base(BASE, TOKEN)
    status, _ = call(
        fake,
        "POST",
        f"/v0/meta/bases/{BASE}/tables",
        {
            "name": "Leads",
            "fields": [
                {"name": "Lead ID", "type": "singleLineText"},
                {"name": "Score", "type": "number", "options": {"precision": 0}},
                {
                    "name": "Status",
                    "type": "singleSelect",
                    "options": {"choices": [{"name": "new"}, {"name": "won"}]},
                },
                {
                    "name": "At",
                    "type": "dateTime",
                    "options": {
                        "dateFormat": {"name": "iso"},
                        "timeFormat": {"name": "24hour"},
                        "timeZone": "utc",
                    },
                },
                {
                    "name": "Hot",
                    "type": "checkbox",
                    "options": {"icon": "check", "color": "redBright"},
                },
            ],
        },
    )
    assert status == 200
    clock.now += 1  # the setup's requests out of the way of the rate limit
    return fake


def call(
    fake: FakeAirtable,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    token: str | None = TOKEN,
    query: list[tuple[str, str]] | None = None,
) -> tuple[int, dict[str, Any]]:
    raw = json.dumps(body).encode() if body is not None else b""
    authorization = f"Bearer {token}" if token else None
    return fake.handle(method, path.replace(" ", "%20"), query or [], authorization, raw)


def upsert(fake: FakeAirtable, *records: dict[str, Any], typecast: bool = False) -> Any:
    return call(
        fake,
        "PATCH",
        f"/v0/{BASE}/Leads",
        {
            "records": [{"fields": r} for r in records],
            "performUpsert": {"fieldsToMergeOn": ["Lead ID"]},
            "typecast": typecast,
        },
    )


def test_tokens_are_checked_per_base(fake: FakeAirtable) -> None:
    fake.add_base("appOtherBase00001", "patOther.0002")
    assert call(fake, "GET", f"/v0/{BASE}/Leads", token=None) == (
        401,
        {"error": {"type": "AUTHENTICATION_REQUIRED", "message": "Authentication required"}},
    )
    assert call(fake, "GET", f"/v0/{BASE}/Leads", token="patWrong")[0] == 401
    status, body = call(fake, "GET", f"/v0/{BASE}/Leads", token="patOther.0002")
    assert (status, body["error"]["type"]) == (403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND")
    assert call(fake, "GET", f"/v0/{BASE}/Nope")[0] == 403
    assert call(fake, "GET", f"/v0/{BASE}/Leads")[0] == 200


def test_the_table_reads_back_as_airtable_models_it(fake: FakeAirtable) -> None:
    status, body = call(
        fake, "GET", f"/v0/meta/bases/{BASE}/tables", query=[("include", "visibleFieldIds")]
    )
    (table,) = body["tables"]
    assert status == 200 and table["name"] == "Leads"
    assert table["id"].startswith("tbl") and len(table["id"]) == 17
    assert table["primaryFieldId"] == table["fields"][0]["id"]
    by_name = {f["name"]: f for f in table["fields"]}
    assert by_name["At"]["options"] == {
        "dateFormat": {"name": "iso", "format": "YYYY-MM-DD"},
        "timeFormat": {"name": "24hour", "format": "HH:mm"},
        "timeZone": "utc",
    }
    assert [c["name"] for c in by_name["Status"]["options"]["choices"]] == ["new", "won"]
    assert all(c["id"].startswith("sel") for c in by_name["Status"]["options"]["choices"])
    assert "options" not in by_name["Lead ID"]
    assert table["views"][0]["visibleFieldIds"] == [f["id"] for f in table["fields"]]


def test_an_upsert_creates_then_updates_by_the_merge_field(fake: FakeAirtable) -> None:
    status, first = upsert(fake, {"Lead ID": "L1", "Score": 40}, {"Lead ID": "L2", "Score": 10})
    assert status == 200
    assert first["updatedRecords"] == []
    assert first["createdRecords"] == [r["id"] for r in first["records"]]

    status, second = upsert(fake, {"Lead ID": "L2", "Score": 55, "Hot": True}, {"Lead ID": "L3"})
    assert status == 200
    assert second["updatedRecords"] == [first["records"][1]["id"]]
    assert second["createdRecords"] == [second["records"][1]["id"]]
    assert second["records"][0]["fields"] == {"Lead ID": "L2", "Score": 55, "Hot": True}
    assert [r["fields"]["Lead ID"] for r in fake.records(BASE, "Leads")] == ["L1", "L2", "L3"]


def test_null_and_false_clear_a_cell_and_put_clears_what_it_omits(fake: FakeAirtable) -> None:
    upsert(fake, {"Lead ID": "L1", "Score": 40, "Status": "new", "Hot": True})
    _, answer = upsert(fake, {"Lead ID": "L1", "Score": None, "Hot": False})
    assert answer["records"][0]["fields"] == {"Lead ID": "L1", "Status": "new"}
    record_id = answer["records"][0]["id"]
    _, replaced = call(
        fake, "PUT", f"/v0/{BASE}/Leads", {"records": [{"id": record_id, "fields": {"Score": 1}}]}
    )
    assert replaced["records"][0]["fields"] == {"Score": 1}
    assert "createdRecords" not in replaced


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({"Lead ID": "L1", "Nickname": "x"}, "UNKNOWN_FIELD_NAME"),
        ({"Lead ID": "L1", "Score": "high"}, "INVALID_VALUE_FOR_COLUMN"),
        ({"Lead ID": "L1", "Hot": "yes"}, "INVALID_VALUE_FOR_COLUMN"),
        ({"Lead ID": "L1", "At": "yesterday"}, "INVALID_VALUE_FOR_COLUMN"),
        ({"Lead ID": "L1", "Status": "lost"}, "INVALID_MULTIPLE_CHOICE_OPTIONS"),
        ({"Score": 3}, "INVALID_RECORDS"),  # no value to merge on
    ],
)
def test_a_value_the_base_would_refuse_is_422_and_nothing_is_written(
    fake: FakeAirtable, fields: dict[str, Any], kind: str
) -> None:
    status, body = upsert(fake, {"Lead ID": "L0"}, fields)
    assert (status, body["error"]["type"]) == (422, kind)
    assert fake.records(BASE, "Leads") == []


def test_typecast_adds_a_select_option_and_reads_numbers(fake: FakeAirtable) -> None:
    status, body = upsert(fake, {"Lead ID": "L1", "Status": "lost", "Score": "42"}, typecast=True)
    assert status == 200
    assert body["records"][0]["fields"] == {"Lead ID": "L1", "Status": "lost", "Score": 42}
    _, meta = call(fake, "GET", f"/v0/meta/bases/{BASE}/tables")
    status_field = next(f for f in meta["tables"][0]["fields"] if f["name"] == "Status")
    assert [c["name"] for c in status_field["options"]["choices"]] == ["new", "won", "lost"]


def test_more_than_ten_records_is_refused(fake: FakeAirtable) -> None:
    eleven = [{"fields": {"Lead ID": f"L{i}"}} for i in range(11)]
    status, body = call(fake, "POST", f"/v0/{BASE}/Leads", {"records": eleven})
    assert (status, body["error"]["type"]) == (422, "INVALID_RECORDS")
    status, _ = call(fake, "POST", f"/v0/{BASE}/Leads", {"records": eleven[:10]})
    assert status == 200 and len(fake.records(BASE, "Leads")) == 10


def test_a_sixth_request_in_one_second_is_429_the_next_second_passes(
    fake: FakeAirtable, clock: Clock
) -> None:
    statuses = [call(fake, "GET", f"/v0/{BASE}/Leads")[0] for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    assert call(fake, "GET", f"/v0/{BASE}/Leads") == (429, RATE_LIMIT_BODY)
    clock.now += 1.0
    assert call(fake, "GET", f"/v0/{BASE}/Leads")[0] == 200


def test_faults_a_test_asks_for_then_normal_answers(fake: FakeAirtable) -> None:
    fake.fail_next(503, times=2)
    fake.fail_next(429)
    answers = [call(fake, "GET", f"/v0/{BASE}/Leads") for _ in range(4)]
    assert [a[0] for a in answers] == [503, 503, 429, 200]
    assert answers[0][1]["error"]["type"] == "SERVICE_UNAVAILABLE"
    assert answers[2][1] == RATE_LIMIT_BODY
    assert [r["status"] for r in fake.requests()][-4:] == [503, 503, 429, 200]


def test_lists_filter_by_formula_and_page_with_offsets(fake: FakeAirtable, clock: Clock) -> None:
    for batch in range(3):
        call(
            fake,
            "POST",
            f"/v0/{BASE}/Leads",
            {"records": [{"fields": {"Lead ID": f"L{batch}{i}", "Score": i}} for i in range(4)]},
        )
    clock.now += 1
    _, found = call(
        fake, "GET", f"/v0/{BASE}/Leads", query=[("filterByFormula", "{Lead ID}='L12'")]
    )
    assert [r["fields"]["Lead ID"] for r in found["records"]] == ["L12"]
    _, both = call(
        fake,
        "GET",
        f"/v0/{BASE}/Leads",
        query=[("filterByFormula", "AND({Score}=3,{Lead ID}='L23')")],
    )
    assert [r["fields"]["Lead ID"] for r in both["records"]] == ["L23"]
    _, page = call(fake, "GET", f"/v0/{BASE}/Leads", query=[("pageSize", "5")])
    assert len(page["records"]) == 5 and page["offset"]
    _, rest = call(
        fake, "GET", f"/v0/{BASE}/Leads", query=[("pageSize", "10"), ("offset", page["offset"])]
    )
    assert len(rest["records"]) == 7 and "offset" not in rest
    status, body = call(fake, "GET", f"/v0/{BASE}/Leads", query=[("filterByFormula", "{Nope}=1")])
    assert (status, body["error"]["type"]) == (422, "INVALID_FILTER_BY_FORMULA")


def test_tables_and_fields_are_created_as_airtable_allows(fake: FakeAirtable) -> None:
    tables = f"/v0/meta/bases/{BASE}/tables"
    status, body = call(
        fake, "POST", tables, {"name": "leads", "fields": [{"name": "A", "type": "singleLineText"}]}
    )
    assert (status, body["error"]["type"]) == (422, "DUPLICATE_TABLE_NAME")
    status, body = call(
        fake, "POST", tables, {"name": "T", "fields": [{"name": "N", "type": "autoNumber"}]}
    )
    assert (status, body["error"]["type"]) == (422, "UNSUPPORTED_FIELD_TYPE_FOR_CREATE")
    status, body = call(
        fake, "POST", tables, {"name": "T", "fields": [{"name": "N", "type": "number"}]}
    )
    assert (status, body["error"]["type"]) == (422, "INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE")
    fields = f"{tables}/Leads/fields"
    status, body = call(fake, "POST", fields, {"name": "score", "type": "singleLineText"})
    assert (status, body["error"]["type"]) == (422, "DUPLICATE_OR_EMPTY_FIELD_NAME")
    status, body = call(fake, "POST", fields, {"name": "Notes", "type": "multilineText"})
    assert status == 200 and body["id"].startswith("fld") and body["type"] == "multilineText"
    assert fake.tables(BASE)["Leads"][-1] == "Notes"
