"""Knowledge gaps for the dashboard: questions leads asked that the bot could not answer."""

from __future__ import annotations

from dataclasses import dataclass

from leadbot.domain.knowledge import RecordedGap
from leadbot.services.cursors import decode_cursor, take_page
from leadbot.services.errors import BadRequest
from leadbot.services.runtime import Repositories
from leadbot.store import GAPS_STREAM

MAX_PAGE = 100


@dataclass(frozen=True)
class GapPage:
    items: list[RecordedGap]
    next_cursor: str | None


def knowledge_gaps(repos: Repositories, tenant_id: str, cursor: str | None, limit: int) -> GapPage:
    """One page of the tenant's knowledge gaps, newest first."""
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(f"limit must be between 1 and {MAX_PAGE}")
    start = decode_cursor(cursor, tenant_id, pk=f"{tenant_id}#{GAPS_STREAM}")
    walk = repos.pages.timeline(tenant_id, GAPS_STREAM, start, page_size=limit)
    entries, next_cursor = take_page(walk, limit)
    return GapPage(items=[RecordedGap.from_entry(e) for e in entries], next_cursor=next_cursor)
