"""Listings on the running local stack: the seeded ones, a brochure uploaded through the URL the
API hands out, and a lead's question showing up as a knowledge gap."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from leadbot.domain import Language
from leadbot.i18n import t
from local.sample_brochure import SAMPLE_TITLE
from local.seed import DEMO_LISTINGS, DEMO_TELEGRAM_SECRET
from tests import web
from tests.support import Updates

pytestmark = pytest.mark.e2e

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _api(base: str, token: str, method: str, path: str, **kw: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return web.request(method, f"{base}{path}", headers=headers, **kw)


def test_an_admin_uploads_a_brochure_to_a_new_listing(local_stack: str, stack_dir: Path) -> None:
    tokens = web.get(f"{local_stack}/_local/tokens").json()
    seeded = _api(local_stack, tokens["agent"], "GET", "/api/properties").json()["items"]
    assert {p.property_id for p in DEMO_LISTINGS} <= {p["property_id"] for p in seeded}
    # demo2 sees none of them (it may have listings of its own: the contract test fuzzes as it).
    others = _api(local_stack, tokens["demo2_agent"], "GET", "/api/properties").json()["items"]
    assert not {p.property_id for p in DEMO_LISTINGS} & {p["property_id"] for p in others}

    new = {
        "title": "JVC townhouse",
        "location": "Jumeirah Village Circle",
        "property_type": "townhouse",
        "transaction": "sale",
        "bedrooms": "3",
        "price": {"amount": "3100000", "currency": "AED"},
        "units_available": 4,
    }
    created = _api(local_stack, tokens["admin"], "POST", "/api/properties", json=new)
    assert created.status_code == 201, created.text
    listing = created.json()
    path = f"/api/properties/{listing['property_id']}"

    ask = {"filename": "jvc.pdf", "content_type": "application/pdf", "size": len(PDF)}
    asked = _api(local_stack, tokens["admin"], "POST", f"{path}/brochures", json=ask)
    assert asked.status_code == 201, asked.text
    upload = asked.json()
    assert upload["upload_url"].startswith(f"{local_stack}/_local/uploads/")
    # The browser's side, as with a presigned S3 URL: no token, just the URL and its headers.
    put = web.request(
        upload["method"], upload["upload_url"], headers=upload["headers"], content=PDF
    )
    assert put.status_code == 200 and put.headers["ETag"]
    key = f"brochures/demo/{listing['property_id']}/{upload['brochure_id']}.pdf"
    assert (stack_dir / "brochures" / key).read_bytes() == PDF
    shown = _api(local_stack, tokens["agent"], "GET", path).json()
    assert shown["brochure_ids"] == [upload["brochure_id"]]

    wrong = web.put(upload["upload_url"], headers={"Content-Type": "image/png"}, content=PDF)
    assert wrong.status_code == 403
    assert _api(local_stack, tokens["demo2_agent"], "GET", path).status_code == 404


def test_a_leads_question_is_a_knowledge_gap_for_the_agency(local_stack: str) -> None:
    tokens = web.get(f"{local_stack}/_local/tokens").json()
    lead = Updates(800_000_300, first_name="Gap Asker")
    headers = {"X-Telegram-Bot-Api-Secret-Token": DEMO_TELEGRAM_SECRET}
    for update in [
        *lead.qualification(phone="+971 50 300 0300"),
        lead.text("Can I keep a dog in the flat?"),
    ]:
        response = web.post(f"{local_stack}/telegram/demo", json=update, headers=headers)
        assert response.status_code == 200
    gaps = _api(local_stack, tokens["agent"], "GET", "/api/knowledge/gaps").json()["items"]
    assert ("Can I keep a dog in the flat?", "en") in {(g["question"], g["language"]) for g in gaps}
    others = _api(local_stack, tokens["demo2_agent"], "GET", "/api/knowledge/gaps").json()
    assert "Can I keep a dog in the flat?" not in {g["question"] for g in others["items"]}


def test_a_leads_question_is_answered_from_the_seeded_brochure_with_its_page(
    local_stack: str,
) -> None:
    lead = Updates(800_000_301, first_name="Freehold Asker")
    headers = {"X-Telegram-Bot-Api-Secret-Token": DEMO_TELEGRAM_SECRET}
    for update in [*lead.qualification(phone="+971 50 300 0301"), lead.text("Is it freehold?")]:
        response = web.post(f"{local_stack}/telegram/demo", json=update, headers=headers)
        assert response.status_code == 200
    outbox = web.get(f"{local_stack}/_local/outbox").json()
    said = [c["payload"].get("text", "") for c in outbox if c.get("chat_id") == str(lead.chat_id)]
    assert "freehold" in said[-1].lower()
    assert t("answer.source.page", Language.EN, title=SAMPLE_TITLE, page=12) in said[-1]
