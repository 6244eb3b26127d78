"""Knowledge gaps end to end: a qualified lead's question that neither the brochures nor the
listings answer, over the webhook, recorded in the same Timeline write as the message, listed by
GET /api/knowledge/gaps for the lead's agency only."""

from __future__ import annotations

from typing import Any

from tests.support import (
    ADMIN,
    AGENT,
    OTHER_TENANT_AGENT,
    InProcessStack,
    Updates,
    api_call,
    dynamodb_requests,
)

SARA, OMID = 730_000_001, 730_000_002


def _gaps(claims: dict[str, str] = AGENT, query: str = "") -> dict[str, Any]:
    status, page = api_call("GET", "/api/knowledge/gaps", claims, query=query)
    assert status == 200, page
    return dict(page)


def test_a_qualified_leads_question_is_listed_for_its_agency(stack: InProcessStack) -> None:
    sara = Updates(SARA, first_name="Sara")
    stack.qualify(sara)
    assert _gaps() == {"items": [], "next_cursor": None}
    stack.post(sara.text("Can I keep a dog in the flat?"))
    stack.post(sara.text("ok thanks"))  # not a question: nothing to record

    [gap] = _gaps()["items"]
    assert (gap["question"], gap["language"]) == ("Can I keep a dog in the flat?", "en")
    status, lead = api_call("GET", f"/api/leads/{gap['lead_id']}", AGENT)
    assert (status, lead["name"]) == (200, "Sara")
    _, history = api_call("GET", f"/api/leads/{gap['lead_id']}/timeline", AGENT)
    asked = [e for e in history["items"] if e["text"] == "Can I keep a dog in the flat?"]
    assert [e["kind"] for e in asked] == ["inbound"]  # the lead's own history is unchanged
    assert asked[0]["at"] == gap["at"]
    assert _gaps(ADMIN) == _gaps(AGENT)
    assert _gaps(OTHER_TENANT_AGENT) == {"items": [], "next_cursor": None}


def test_gaps_come_newest_first_in_pages(stack: InProcessStack) -> None:
    omid = Updates(OMID, first_name="Omid", language_code="fa")
    stack.qualify(omid)
    # pets allowed? bitcoin accepted? a mortgage from you? (the brochure does not say)
    questions = ["آیا حیوان خانگی مجاز است؟", "آیا بیت کوین قبول می‌کنید؟", "آیا وام مسکن می‌دهید؟"]
    for question in questions:
        stack.post(omid.text(question))
    seen, cursor = [], None
    for _ in range(5):
        page = _gaps(query="limit=2" + (f"&cursor={cursor}" if cursor else ""))
        seen += [(g["question"], g["language"]) for g in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [(q, "fa") for q in reversed(questions)]
    _, first = api_call("GET", "/api/knowledge/gaps", AGENT, query="limit=1")
    status, answer = api_call(
        "GET", "/api/knowledge/gaps", OTHER_TENANT_AGENT, query=f"cursor={first['next_cursor']}"
    )
    assert (status, answer["message"]) == (400, "cursor is not valid")


def test_a_question_costs_no_extra_request_once_the_index_is_warm(stack: InProcessStack) -> None:
    """The gap rides in the BatchWriteItem of the message's own Timeline entries; the agency's
    listings and brochure index are read by the first question of a warm Lambda only."""
    sara = Updates(SARA, first_name="Sara")
    stack.qualify(sara)
    with dynamodb_requests() as first:
        stack.post(sara.text("When is the handover?"))  # answered from the brochure
    assert first["Query"] == 1  # the brochure's chunks (the listings were read for the cards)
    with dynamodb_requests() as statement:
        stack.post(sara.text("I will wait for the agent"))
    with dynamodb_requests() as question:
        stack.post(sara.text("Is the building haunted?"))
    assert question == statement
    assert question["BatchWriteItem"] == 1
    assert [g["question"] for g in _gaps()["items"]] == ["Is the building haunted?"]
