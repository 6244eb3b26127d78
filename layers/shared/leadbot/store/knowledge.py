"""Brochure chunks (the Knowledge table): a brochure is one partition, written and removed whole.

A brochure whose PDF could not be read holds one marker item instead (chunk id UNREADABLE_ID),
so the dashboard can say why; it is never a chunk, and a successful read removes it.

Not exported by `leadbot.store`: the webhooks import it only when they first answer a question.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from leadbot.domain.knowledge import Chunk, ChunkKind
from leadbot.store.models import KnowledgeModel, Tables

# "~" sorts after every chunk id ("p008-fact-03"); the marker's kind is no ChunkKind.
UNREADABLE_ID = "~unreadable"
_UNREADABLE_KIND = "unreadable"


def brochure_pk(tenant_id: str, brochure_id: str) -> str:
    return f"{tenant_id}#{brochure_id}"


@dataclass(frozen=True)
class Unreadable:
    """Why a brochure's PDF could not be read: BrochureUnreadable's reason and message."""

    reason: str
    message: str


class KnowledgeRepository:
    def __init__(self, tables: Tables) -> None:
        self._model = tables.knowledge

    def put_brochure(self, chunks: Sequence[Chunk]) -> None:
        """Write a brochure's chunks, all or none: if any write fails, what was written is
        deleted again and the error raised."""
        if not chunks:
            raise ValueError("a brochure without chunks")
        keys = {(c.tenant_id, c.brochure_id) for c in chunks}
        if len(keys) != 1:
            raise ValueError("put one brochure's chunks at a time")
        if len({c.chunk_id for c in chunks}) != len(chunks):
            raise ValueError("chunk ids must be unique within a brochure")
        ((tenant_id, brochure_id),) = keys
        try:
            with self._model.batch_write() as batch:  # 25 a request; unprocessed ones retried
                for chunk in chunks:
                    batch.save(self._model(**_item(chunk)))
        except BaseException as exc:
            try:
                self._delete(brochure_pk(tenant_id, brochure_id), (c.chunk_id for c in chunks))
            except Exception as undo:  # the first error is the one to see
                exc.add_note(f"and removing the chunks written failed too: {undo!r}")
            raise

    def replace_brochure(self, chunks: Sequence[Chunk]) -> int:
        """Make these the brochure's chunks: write them (all or none, as `put_brochure`), then
        remove what else its partition held (an older read's chunks, the unreadable marker).
        How many items were removed."""
        if not chunks:
            raise ValueError("a brochure without chunks")
        pk = brochure_pk(chunks[0].tenant_id, chunks[0].brochure_id)
        before = self._chunk_ids(pk)
        self.put_brochure(chunks)
        return self._delete(pk, sorted(before - {c.chunk_id for c in chunks}))

    def mark_unreadable(
        self, tenant_id: str, property_id: str, brochure_id: str, why: Unreadable
    ) -> None:
        """Record why the brochure's PDF could not be read, in place of any chunks it had: the
        bot answers from the PDF that is there now, or from nothing."""
        pk = brochure_pk(tenant_id, brochure_id)
        marker = self._model(
            pk=pk,
            chunk_id=UNREADABLE_ID,
            tenant_id=tenant_id,
            brochure_id=brochure_id,
            property_id=property_id,
            title="",
            kind=_UNREADABLE_KIND,
            page=0,
            text=why.message,
            fact=why.reason,
        )
        marker.save()
        self._delete(pk, sorted(self._chunk_ids(pk) - {UNREADABLE_ID}))

    def unreadable(self, tenant_id: str, brochure_id: str) -> Unreadable | None:
        """Why the brochure could not be read, if its last read failed."""
        # A Query, not a GetItem: those who read chunks may Query the table, and only that.
        query = self._model.query(
            brochure_pk(tenant_id, brochure_id),
            self._model.chunk_id == UNREADABLE_ID,
            consistent_read=True,
        )
        for item in query:
            return Unreadable(reason=item.fact or "", message=item.text)
        return None

    def chunks(self, tenant_id: str, brochure_ids: Iterable[str]) -> list[Chunk]:
        """Every chunk of these brochures of the tenant, each brochure's in chunk id order."""
        found: list[Chunk] = []
        for brochure_id in dict.fromkeys(brochure_ids):
            query = self._model.query(
                brochure_pk(tenant_id, brochure_id),
                self._model.chunk_id < UNREADABLE_ID,  # never the marker
                consistent_read=True,
            )
            found += [_chunk(item) for item in query]
        return found

    def delete_brochure(self, tenant_id: str, brochure_id: str) -> int:
        """Remove a brochure's chunks; how many there were."""
        pk = brochure_pk(tenant_id, brochure_id)
        return self._delete(pk, sorted(self._chunk_ids(pk)))

    def _chunk_ids(self, pk: str) -> set[str]:
        query = self._model.query(pk, consistent_read=True, attributes_to_get=["pk", "chunk_id"])
        return {item.chunk_id for item in query}

    def _delete(self, pk: str, chunk_ids: Iterable[str]) -> int:
        count = 0
        with self._model.batch_write() as batch:
            for chunk_id in chunk_ids:
                batch.delete(self._model(pk, chunk_id))
                count += 1
        return count


def _item(chunk: Chunk) -> dict[str, Any]:
    return {
        "pk": brochure_pk(chunk.tenant_id, chunk.brochure_id),
        "chunk_id": chunk.chunk_id,
        "tenant_id": chunk.tenant_id,
        "brochure_id": chunk.brochure_id,
        "property_id": chunk.property_id,
        "title": chunk.title,
        "kind": chunk.kind.value,
        "page": chunk.page,
        "text": chunk.text,
        "fact": chunk.fact,
        "value": chunk.value,
    }


def _chunk(item: KnowledgeModel) -> Chunk:
    return Chunk(
        tenant_id=item.tenant_id,
        brochure_id=item.brochure_id,
        chunk_id=item.chunk_id,
        property_id=item.property_id,
        title=item.title,
        kind=ChunkKind(item.kind),
        page=int(item.page),
        text=item.text,
        fact=item.fact,
        value=item.value,
    )
