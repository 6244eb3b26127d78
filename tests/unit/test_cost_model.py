"""bench/cost.py's arithmetic: DynamoDB's item size, and pricing per 1,000 conversations."""

from __future__ import annotations

import pytest

from bench.cost import PRICES, _size, per_thousand


def test_item_size_counts_names_and_values_as_dynamodb_bills_them() -> None:
    item = {
        "tenant_id": {"S": "demo"},  # 9 + 4
        "name": {"S": "سارا"},  # 4 + 8 (UTF-8)
        "opted_out": {"BOOL": False},  # 9 + 1
        "tags": {"L": [{"S": "a"}, {"S": "bc"}]},  # 4 + 3 + (1 + 1) + (2 + 1)
    }
    assert _size(item) == 13 + 12 + 10 + 12


def test_a_thousand_conversations_price_every_measured_quantity() -> None:
    figures = {
        "messages": 10.0,
        "webhook_gb_s": 0.5,
        "score_invocations": 0.1,
        "score_gb_s": 0.1,
        "write_units": 100.0,
        "read_units": 10.0,
        "stored_bytes": 10_000.0,
        "prompt_tokens": 300.0,
        "completion_tokens": 40.0,
        "log_bytes": 15_000.0,
    }
    rows = {item: usd for item, _, usd in per_thousand(figures)}
    assert rows["DynamoDB writes"] == pytest.approx(100_000 * PRICES["ddb_wru"])
    assert rows["API Gateway"] == pytest.approx(10_000 * PRICES["apigw_request"])
    assert rows["Lambda: webhook"] == pytest.approx(
        10_000 * PRICES["lambda_request"] + 500 * PRICES["lambda_gb_s"]
    )
    assert rows["OpenAI (gpt-4o-mini)"] == pytest.approx(
        300_000 * PRICES["llm_input_token"] + 40_000 * PRICES["llm_output_token"]
    )
    doubled = {k: v * 2 for k, v in figures.items()}
    assert sum(u for *_, u in per_thousand(doubled)) == pytest.approx(2 * sum(rows.values()))
