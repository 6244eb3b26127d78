"""Pages of a tenant's leads (hottest first) and of a lead's Timeline, resumable by key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from pynamodb.pagination import ResultIterator

from leadbot.domain import TimelineEntry
from leadbot.store.models import Tables
from leadbot.store.repositories import timeline_entry
from leadbot.store.scores import ScoredLead, _scored

T = TypeVar("T")
Key = dict[str, dict[str, Any]]  # a DynamoDB key in its wire format, as LastEvaluatedKey


class Walk(Generic[T]):
    """Items of a query one at a time; stop anywhere and `resume_key` says where to go on from
    (None once the query is exhausted). DynamoDB reads `page_size` items per request."""

    def __init__(self, results: ResultIterator[Any], convert: Callable[[Any], T]) -> None:
        self._results = results
        self._convert = convert
        self._exhausted = False

    def __iter__(self) -> Iterator[T]:
        for item in self._results:
            yield self._convert(item)
        self._exhausted = True

    def resume_key(self) -> Key | None:
        if self._exhausted:
            return None
        key: Key | None = self._results.last_evaluated_key
        return key


class LeadPages:
    def __init__(self, tables: Tables) -> None:
        self._model = tables.leads
        self._timeline = tables.timeline

    def by_score(self, tenant_id: str, start: Key | None, page_size: int) -> Walk[ScoredLead]:
        """The tenant's scored leads, highest score first, newest first within a score."""
        results = self._model.by_score.query(
            tenant_id,
            scan_index_forward=False,
            last_evaluated_key=start,
            page_size=page_size,
        )
        return Walk(results, _scored)

    def timeline(
        self, tenant_id: str, lead_id: str, start: Key | None, page_size: int
    ) -> Walk[TimelineEntry]:
        """A lead's history, newest first."""
        results = self._timeline.query(
            f"{tenant_id}#{lead_id}",
            scan_index_forward=False,
            last_evaluated_key=start,
            page_size=page_size,
        )
        return Walk(results, timeline_entry)
