"""Ingesting a listing's brochure: read the PDF into chunks, keep the PDF, write the chunks to
the Knowledge table and the brochure id onto the listing — all of it, or none of it. A PDF an
admin uploaded (S3 ObjectCreated, or the local stack's upload) is read where it lies."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import unquote_plus

from ulid import ULID

from leadbot import clock
from leadbot.domain import PropertyConflict
from leadbot.domain.knowledge import Chunk, ChunkKind
from leadbot.domain.listings import Property
from leadbot.services.errors import Conflict, Unavailable
from leadbot.services.properties import MAX_BROCHURES, MAX_CONFLICT_RETRIES
from leadbot.services.runtime import Repositories
from leadbot.store.brochures import (
    MAX_BROCHURE_BYTES,
    BrochureMissing,
    BrochureStore,
    brochure_key,
    parse_brochure_key,
)

Progress = Callable[[int, int], None]
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Brochure:
    """A brochure read but not yet stored."""

    tenant_id: str
    property_id: str
    brochure_id: str
    title: str
    pages: int
    chunks: tuple[Chunk, ...]


@dataclass(frozen=True, slots=True)
class IngestReport:
    brochure_id: str
    title: str
    pages: int
    facts: int
    table_rows: int
    text_chunks: int


def ingest_brochure(
    repos: Repositories,
    store: BrochureStore | None,
    tenant_id: str,
    property_id: str,
    pdf: bytes,
    *,
    title: str | None = None,
    progress: Progress | None = None,
    now: Callable[[], datetime] = clock.now,
) -> IngestReport:
    """Read `pdf` as a brochure of the listing and store it (see `save_brochure`).

    PropertyNotFound for a listing the tenant does not have; BrochureUnreadable for a damaged,
    locked or textless PDF, before anything is stored.
    """
    if store is None:
        raise Unavailable("brochure storage is not set up (BROCHURES_BUCKET or BROCHURES_DIR)")
    listing = _room_for_a_brochure(repos.properties.get(tenant_id, property_id))
    brochure = read_brochure(
        listing, pdf, str(ULID.from_datetime(now())), title=title, progress=progress
    )
    return save_brochure(repos, store, brochure, pdf, now=now)


def read_brochure(
    listing: Property,
    pdf: bytes,
    brochure_id: str,
    *,
    title: str | None = None,
    progress: Progress | None = None,
) -> Brochure:
    """The brochure's chunks, titled `title` or after the listing."""
    from leadbot.domain.errors import BrochureUnreadable
    from leadbot.knowledge.ingest import extract

    if len(pdf) > MAX_BROCHURE_BYTES:
        raise BrochureUnreadable("a brochure can be at most 50 MB", reason="too_big")
    pages = 0

    def seen(page: int, total: int) -> None:
        nonlocal pages
        pages = total
        if progress is not None:
            progress(page, total)

    name = " ".join((title or "").split()) or listing.title
    chunks = extract(
        pdf,
        tenant_id=listing.tenant_id,
        brochure_id=brochure_id,
        property_id=listing.property_id,
        title=name,
        progress=seen,
    )
    return Brochure(
        tenant_id=listing.tenant_id,
        property_id=listing.property_id,
        brochure_id=brochure_id,
        title=name,
        pages=pages,
        chunks=tuple(chunks),
    )


def save_brochure(
    repos: Repositories,
    store: BrochureStore,
    brochure: Brochure,
    pdf: bytes,
    *,
    now: Callable[[], datetime] = clock.now,
) -> IngestReport:
    """Keep the PDF under its brochure key, write the chunks, then add the brochure id to the
    listing (optimistic locking, retried on a concurrent change). If any step fails, what the
    earlier ones stored is removed and the error raised: nothing is left half-way."""
    key = brochure_key(brochure.tenant_id, brochure.property_id, brochure.brochure_id)
    version = store.put(key, pdf)
    written = False
    try:
        repos.knowledge.put_brochure(brochure.chunks)  # all or none by itself
        written = True
        _add_to_listing(repos, brochure, now)
    except BaseException as exc:
        if written:
            _undo(
                exc,
                "its chunks",
                repos.knowledge.delete_brochure,
                brochure.tenant_id,
                brochure.brochure_id,
            )
        _undo(exc, f"the PDF at {key}", store.delete, key, version)
        raise
    kinds = [c.kind for c in brochure.chunks]
    return IngestReport(
        brochure_id=brochure.brochure_id,
        title=brochure.title,
        pages=brochure.pages,
        facts=kinds.count(ChunkKind.FACT),
        table_rows=kinds.count(ChunkKind.TABLE),
        text_chunks=kinds.count(ChunkKind.TEXT),
    )


def _undo(exc: BaseException, what: str, step: Callable[..., object], *args: object) -> None:
    """Take back an earlier step; if that fails too, the first error is still the one raised."""
    try:
        step(*args)
    except Exception as undo:
        exc.add_note(f"and removing {what} failed too: {undo!r}")


def _add_to_listing(repos: Repositories, brochure: Brochure, now: Callable[[], datetime]) -> None:
    for _ in range(MAX_CONFLICT_RETRIES):
        listing = _room_for_a_brochure(
            repos.properties.get(brochure.tenant_id, brochure.property_id)
        )
        ids = (*listing.brochure_ids, brochure.brochure_id)
        try:
            repos.properties.save(replace(listing, brochure_ids=ids, updated_at=now()))
        except PropertyConflict:
            continue
        return
    raise PropertyConflict(brochure.property_id)


def _room_for_a_brochure(listing: Property) -> Property:
    if len(listing.brochure_ids) >= MAX_BROCHURES:
        raise Conflict(f"a listing holds at most {MAX_BROCHURES} brochures")
    return listing


# -- an uploaded PDF, read when it arrives (functions/brochure_ingest, the local stack) --------


class UploadOutcome(StrEnum):
    READ = "read"  # its chunks written, in place of any earlier read's
    UNCHANGED = "unchanged"  # read again, the same chunks as stored: nothing written
    UNREADABLE = "unreadable"  # damaged, locked, textless or too big: recorded for the dashboard
    IGNORED = "ignored"  # no brochure key, a listing or brochure id that is gone, or no PDF


@dataclass(frozen=True, slots=True)
class UploadRead:
    key: str
    outcome: UploadOutcome
    pages: int = 0
    chunks: int = 0
    reason: str = ""  # why unreadable or ignored

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "outcome": self.outcome.value,
            "pages": self.pages,
            "chunks": self.chunks,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class UploadedObject:
    bucket: str
    key: str


def uploaded_objects(event: Mapping[str, Any]) -> list[UploadedObject]:
    """The objects an S3 event notification says were created, keys decoded: S3 sends them
    URL-encoded, a space as "+"."""
    found = []
    for record in event.get("Records") or []:
        if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        s3 = record.get("s3") or {}
        key = (s3.get("object") or {}).get("key")
        bucket = (s3.get("bucket") or {}).get("name")
        if isinstance(key, str) and isinstance(bucket, str):
            found.append(UploadedObject(bucket=bucket, key=unquote_plus(key)))
    return found


def ingest_upload(
    repos: Repositories,
    store: BrochureStore | None,
    key: str,
    *,
    now: Callable[[], datetime] = clock.now,
) -> UploadRead:
    """Read the PDF uploaded at `key` (see `brochure_key`) into the chunks of the brochure id
    the listing took when the upload was asked for; again and again alike (S3 may tell twice,
    and an admin may upload to the same URL again): the brochure's chunks are those of the PDF
    there now. An unreadable PDF is recorded (`KnowledgeRepository.mark_unreadable`) and its
    earlier chunks removed; it is not an error, reading it again would fail the same way.

    Raises what the stores raise (the caller's retries, then its dead-letter queue)."""
    from leadbot.domain import PropertyNotFound
    from leadbot.domain.errors import BrochureUnreadable
    from leadbot.store.knowledge import Unreadable

    if store is None:
        raise Unavailable("brochure storage is not set up (BROCHURES_BUCKET or BROCHURES_DIR)")
    parsed = parse_brochure_key(key)
    if parsed is None:
        return _ignored(key, "not a brochure key")
    try:
        listing = repos.properties.get(parsed.tenant_id, parsed.property_id)
    except PropertyNotFound:
        return _ignored(key, "no such listing")
    if parsed.brochure_id not in listing.brochure_ids:
        # Ops' CLI puts the PDF before the listing takes its id, and reads it itself.
        return _ignored(key, "not a brochure of the listing (yet)")
    try:
        pdf = store.get(key)
    except BrochureMissing:
        return _ignored(key, "no PDF there any more")
    before = repos.knowledge.chunks(parsed.tenant_id, [parsed.brochure_id])
    # A brochure read before (ops' CLI, an earlier upload) keeps the title it was read under.
    title = before[0].title if before else None
    try:
        brochure = read_brochure(listing, pdf, parsed.brochure_id, title=title)
    except BrochureUnreadable as exc:
        log.warning(
            "brochure unreadable",
            extra={"key": key, "reason": exc.reason, "detail": str(exc)},
        )
        why = Unreadable(reason=exc.reason, message=str(exc))
        if repos.knowledge.unreadable(parsed.tenant_id, parsed.brochure_id) != why or before:
            repos.knowledge.mark_unreadable(
                parsed.tenant_id, parsed.property_id, parsed.brochure_id, why
            )
            _touch(repos, listing, now)
        return UploadRead(key=key, outcome=UploadOutcome.UNREADABLE, reason=exc.reason)
    chunks = sorted(brochure.chunks, key=lambda c: c.chunk_id)
    marked = repos.knowledge.unreadable(parsed.tenant_id, parsed.brochure_id) is not None
    outcome = UploadOutcome.UNCHANGED
    if chunks != before or marked:
        repos.knowledge.replace_brochure(chunks)
        _touch(repos, listing, now)
        outcome = UploadOutcome.READ
    return UploadRead(key=key, outcome=outcome, pages=brochure.pages, chunks=len(chunks))


def _touch(repos: Repositories, listing: Property, now: Callable[[], datetime]) -> None:
    """A new version of the listing: warm Lambdas rebuild the agency's brochure index when a
    listing's version changes (knowledge.cache.fingerprint), and the brochure id was there
    before its chunks were. A conflict means a newer version already: as good."""
    with suppress(PropertyConflict):
        repos.properties.save(replace(listing, updated_at=now()))


def _ignored(key: str, reason: str) -> UploadRead:
    log.info("upload ignored", extra={"key": key, "reason": reason})
    return UploadRead(key=key, outcome=UploadOutcome.IGNORED, reason=reason)
