"""The Airtable adapter's pure parts: domain objects as fields (money to the currency's precision,
times ISO UTC, every column present so upserts clear), the schema, chunks of 10, the pacer and
the backoff on an injected clock, and pyairtable left unimported until a request."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from leadbot.domain import (
    Bedrooms,
    Channel,
    Goal,
    Language,
    Lead,
    LeadStatus,
    Money,
    PaymentMethod,
    PropertyType,
    ScoreState,
    Temperature,
    Timeline,
)
from leadbot.domain.deals import Broker, Deal, DealStatus, commissions
from leadbot.integrations.airtable import (
    LEADS_TABLE,
    SCHEMA,
    TIMELINE_LABELS,
    Pacer,
    RetryPolicy,
    activity_fields,
    broker_fields,
    chunks,
    deal_fields,
    iso_utc,
    lead_fields,
    money_number,
)
from tests.support import REPO

AT = datetime(2026, 3, 1, 10, 30, 15, 123456, tzinfo=UTC)


def _lead(**changes: Any) -> Lead:
    values: dict[str, Any] = {
        "tenant_id": "demo",
        "lead_id": "01KJ0000000000000000000001",
        "channel": Channel.TELEGRAM,
        "external_id": "42",
        "created_at": AT - timedelta(days=1),
        "updated_at": AT,
    }
    return Lead(**{**values, **changes})


def test_a_qualified_lead_fills_every_column() -> None:
    lead = _lead(
        name="Sara Ahmed",
        phone="+971501234567",
        email="sara@example.com",
        language=Language.AR,
        source="qr:expo",
        status=LeadStatus.BROKER_REQUESTED,
        goal=Goal.BUY,
        budget=Money(amount=Decimal("2500000.50"), currency="AED"),
        property_type=PropertyType.APARTMENT,
        location="Dubai Marina",
        bedrooms=Bedrooms.TWO,
        timeline=Timeline.MONTHS_3,
        payment_method=PaymentMethod.MORTGAGE,
        qualified_at=AT - timedelta(hours=2),
    )
    score = ScoreState(value=74, temperature=Temperature.BURNING)

    fields = lead_fields(lead, "Omar", "https://dash.example/leads/01KJ", score=score)

    assert fields == {
        "Lead ID": "01KJ0000000000000000000001",
        "Name": "Sara Ahmed",
        "Phone": "+971501234567",
        "Email": "sara@example.com",
        "Language": "ar",
        "Source": "qr:expo",
        "Status": "broker_requested",
        "Temperature": "burning",
        "Score": 74,
        "Goal": "buy",
        "Budget": 2500000.5,
        "Currency": "AED",
        "Property Type": "apartment",
        "Location": "Dubai Marina",
        "Bedrooms": "2",
        "Timeline": "1-3 months",
        "Payment Method": "mortgage",
        "Broker": "Omar",
        "Qualified At": "2026-03-01T08:30:15.123Z",
        "Updated At": "2026-03-01T10:30:15.123Z",
        "Dashboard Link": "https://dash.example/leads/01KJ",
    }
    assert [f.name for f in LEADS_TABLE.fields] == list(fields)


def test_what_a_lead_lacks_is_written_as_null_so_an_upsert_clears_it() -> None:
    fields = lead_fields(_lead(name="  "), None, "")

    assert fields["Lead ID"] == "01KJ0000000000000000000001"
    assert fields["Status"] == "new"
    cleared = {name for name, value in fields.items() if value is None}
    assert cleared == set(fields) - {"Lead ID", "Status", "Updated At"}


@pytest.mark.parametrize(
    ("amount", "currency", "written"),
    [
        (Decimal("2500000"), "AED", 2500000),
        (Decimal("2500000.00"), "AED", 2500000),
        (Decimal("1234567.89"), "AED", 1234567.89),
        (Decimal("0.005"), "USD", 0.01),  # half up, to the cent
        (Decimal("1234.5675"), "KWD", 1234.568),  # three minor units
        (Decimal("98000000.4"), "JPY", 98000000),  # none
        (Decimal("30000000.00"), "INR", 30000000),
    ],
)
def test_money_is_a_json_number_of_the_currencys_precision(
    amount: Decimal, currency: str, written: float
) -> None:
    number = money_number(amount, currency)
    assert number == written and type(number) is type(written)


def test_money_never_comes_from_a_float_nor_loses_digits() -> None:
    with pytest.raises(ValueError, match="Decimal"):
        money_number(2500000.5, "AED")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="JSON number"):
        money_number(Decimal("123456789012345678.25"), "AED")


def test_times_are_iso_utc_with_milliseconds() -> None:
    dubai = timezone(timedelta(hours=4))
    assert iso_utc(datetime(2026, 3, 1, 14, 0, tzinfo=dubai)) == "2026-03-01T10:00:00.000Z"
    assert iso_utc(None) is None
    with pytest.raises(ValueError, match="timezone-aware"):
        iso_utc(datetime(2026, 3, 1, 10, 0))


def test_a_deal_carries_both_commissions_and_their_rates() -> None:
    value = Money(amount=Decimal("2450000.00"), currency="AED")
    rates = (Decimal("0.025"), Decimal("0.3"))
    split = commissions(value, *rates)
    deal = Deal(
        tenant_id="demo",
        deal_id="01KJ00000000000000000000D1",
        lead_id="01KJ0000000000000000000001",
        value=value,
        broker_commission_rate=rates[0],
        platform_commission_rate=rates[1],
        broker_commission=split.broker,
        platform_commission=split.platform,
        created_at=AT,
        broker_id="b1",
        status=DealStatus.WON,
        closed_at=AT + timedelta(days=3),
    )

    assert deal_fields(deal, "Omar") == {
        "Deal ID": "01KJ00000000000000000000D1",
        "Lead ID": "01KJ0000000000000000000001",
        "Broker": "Omar",
        "Value": 2450000,
        "Currency": "AED",
        "Broker Commission Rate": 0.025,
        "Broker Commission": 61250,
        "Platform Commission Rate": 0.3,
        "Platform Commission": 18375,
        "Status": "won",
        "Created At": "2026-03-01T10:30:15.123Z",
        "Closed At": "2026-03-04T10:30:15.123Z",
    }


def test_a_broker_and_an_activity() -> None:
    broker = Broker(
        tenant_id="demo",
        broker_id="b1",
        name="Omar",
        phone="+971500000101",
        email="omar@demo.example",
        created_at=AT,
        telegram_chat_id="900000101",
        away=True,
        max_open_leads=5,
    )
    assert broker_fields(broker) == {
        "Broker ID": "b1",
        "Name": "Omar",
        "Phone": "+971500000101",
        "Email": "omar@demo.example",
        "Telegram Chat": "900000101",
        "Active": True,
        "Away": True,
        "Max Open Leads": 5,
        "Created At": "2026-03-01T10:30:15.123Z",
    }
    assert activity_fields("act-1", AT, "L1", "assigned", "to Omar") == {
        "Activity ID": "act-1",
        "Time": "2026-03-01T10:30:15.123Z",
        "Lead ID": "L1",
        "Kind": "assigned",
        "Detail": "to Omar",
    }


def test_every_table_merges_on_its_primary_field_and_selects_offer_every_value() -> None:
    assert [t.name for t in SCHEMA] == ["Qualified Leads", "Deals", "Brokers", "Activity Log"]
    for table in SCHEMA:
        assert table.fields[0].name == table.merge_key
        assert len({f.name for f in table.fields}) == len(table.fields)
    enums = {
        "Language": Language,
        "Status": LeadStatus,
        "Temperature": Temperature,
        "Goal": Goal,
        "Property Type": PropertyType,
        "Bedrooms": Bedrooms,
        "Payment Method": PaymentMethod,
    }
    for name, enum in enums.items():
        options = LEADS_TABLE.field(name).options or {}
        assert [c["name"] for c in options["choices"]] == [m.value for m in enum], name
    timeline = LEADS_TABLE.field("Timeline").options or {}
    assert [c["name"] for c in timeline["choices"]] == [TIMELINE_LABELS[t] for t in Timeline]


def test_records_go_in_chunks_of_ten_in_order() -> None:
    records = [{"n": i} for i in range(23)]
    assert [len(c) for c in chunks(records)] == [10, 10, 3]
    assert [r["n"] for c in chunks(records) for r in c] == list(range(23))
    assert list(chunks([])) == []


class VirtualClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_the_pacer_lets_five_requests_a_second_through_and_holds_the_sixth() -> None:
    clock = VirtualClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    sent = []
    for _ in range(12):
        pacer.wait()
        sent.append(clock.now)
        clock.now += 0.01  # each request takes 10 ms

    assert clock.slept == [0.95, 0.95]
    for i in range(5, 12):  # no second ever holds more than five
        assert sent[i] - sent[i - 5] >= 1.0


def test_the_pacer_never_waits_for_requests_spaced_out() -> None:
    clock = VirtualClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    for _ in range(20):
        pacer.wait()
        clock.now += 0.2
    assert clock.slept == []


def test_backoff_doubles_up_to_its_cap_and_heeds_retry_after() -> None:
    policy = RetryPolicy(retries=5, base_s=1.0, max_s=8.0)
    assert [policy.delay(n) for n in range(5)] == [1.0, 2.0, 4.0, 8.0, 8.0]
    assert policy.delay(0, "30") == 30.0
    assert policy.delay(2, "1") == 4.0
    assert policy.delay(0, "soon") == 1.0


def test_pyairtable_and_requests_load_only_with_the_first_request() -> None:
    code = (
        "import sys; from leadbot.integrations.airtable import AirtableCrm, lead_fields; "
        "from leadbot.services.runtime import crm; "
        "AirtableCrm('appAbCdEf0123456X', lambda: 'pat'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyairtable', 'requests')))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "layers/shared"), str(REPO)])}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
