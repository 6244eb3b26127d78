"""`python -m leadbot.admin tenant|export-lead|forget-lead|issue-admin-code|rescore|
reindex-followups|import-leads|ingest|listings|airtable-init|crm-replay …`: ops commands over
the deployed tables."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from leadbot.config import MissingSettings, settings
from leadbot.domain import Bedrooms, PropertyType, TenantNotFound
from leadbot.services.admin import issue_admin_code
from leadbot.services.runtime import repositories

if TYPE_CHECKING:
    from typing import TextIO


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leadbot.admin", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    issue = commands.add_parser(
        "issue-admin-code", help="print a one-time code for /set_admin (valid 24 h)"
    )
    issue.add_argument("--tenant", required=True, help="tenant id, e.g. demo")
    rescore = commands.add_parser(
        "rescore", help="score existing leads now (safe to run again: unchanged leads are skipped)"
    )
    which = rescore.add_mutually_exclusive_group(required=True)
    which.add_argument("--tenant", help="tenant id, e.g. demo")
    which.add_argument("--all", action="store_true", help="every tenant")
    reindex = commands.add_parser(
        "reindex-followups",
        help="place existing leads in the follow-up schedule (leads stored before it existed, or "
        "after changing follow-up settings); safe to run again",
    )
    which = reindex.add_mutually_exclusive_group(required=True)
    which.add_argument("--tenant", help="tenant id, e.g. demo")
    which.add_argument("--all", action="store_true", help="every tenant")
    sheet = commands.add_parser(
        "import-leads",
        help="import a CSV of people (expo sheet, LinkedIn export) as leads, merging duplicates; "
        "exits 1 if any row failed",
    )
    sheet.add_argument("--tenant", required=True, help="tenant id, e.g. demo")
    sheet.add_argument("--source", help="source of rows without one (default: import)")
    sheet.add_argument("file", type=Path, help="the CSV file (UTF-8)")
    ingest = commands.add_parser(
        "ingest",
        help="read a PDF brochure of a listing into what the bot answers from (facts, table rows "
        "and text, by page) and keep the PDF; exits 1 if the PDF cannot be read",
    )
    ingest.add_argument("--tenant", required=True, help="tenant id, e.g. demo")
    ingest.add_argument("--property", required=True, help="the listing's property id")
    ingest.add_argument("--title", help="the brochure's title as leads see it (default: listing's)")
    ingest.add_argument("file", type=Path, help="the brochure (PDF)")
    _listings_commands(commands)
    airtable = commands.add_parser(
        "airtable-init",
        help="create LeadBot's tables and fields in the agency's Airtable base where missing "
        "(never deletes or renames anything; safe to run again); --base and --token-param "
        "connect the base first",
    )
    airtable.add_argument("--tenant", required=True, help="tenant id, e.g. demo")
    airtable.add_argument("--base", help="the Airtable base id to connect (appXXXXXXXXXXXXXX)")
    airtable.add_argument(
        "--token-param",
        help="the name of the SSM SecureString holding the base's access token (never the token)",
    )
    replay = commands.add_parser(
        "crm-replay",
        help="drain the Airtable CRM sync's DLQ: write each message's lead or deal as it is now "
        "(deleted once written; kept, and counted, when it cannot be); exits 1 if any is kept",
    )
    replay.add_argument("--limit", type=int, help="at most this many messages")
    replay.add_argument("--queue-url", help="the DLQ's URL (default: CRM_SYNC_DLQ_URL)")
    _tenant_commands(commands)
    _rights_commands(commands)
    args = parser.parse_args(argv)

    try:
        settings()
    except MissingSettings as exc:
        print(
            f"error: {', '.join(exc.names)} not set: run this with the function's environment "
            "(on the local stack: make admin-code)",
            file=sys.stderr,
        )
        return 2
    if args.command == "issue-admin-code":
        try:
            code, expires = issue_admin_code(repositories(), args.tenant)
        except TenantNotFound:
            print(f"error: no tenant {args.tenant!r}", file=sys.stderr)
            return 2
        print(f"/set_admin {code}")
        print(
            f"One-time code for tenant {args.tenant!r}, valid until {expires:%Y-%m-%d %H:%M} UTC."
        )
        print("Send the line above to the bot from the admin's Telegram chat.")
    if args.command == "rescore":
        return _rescore(args.tenant, sys.stderr)
    if args.command == "reindex-followups":
        return _reindex_followups(args.tenant, sys.stderr)
    if args.command == "import-leads":
        return _import_leads(args.tenant, args.file, args.source, sys.stderr)
    if args.command == "ingest":
        return _ingest(args.tenant, args.property, args.file, args.title, sys.stderr)
    if args.command == "listings" and args.action == "add":
        return _add_listing(args, sys.stderr)
    if args.command == "listings":
        return _import_listings(args.tenant, args.file, sys.stderr)
    if args.command == "airtable-init":
        return _airtable_init(args.tenant, args.base, args.token_param, sys.stderr)
    if args.command == "crm-replay":
        return _crm_replay(args.limit, args.queue_url, sys.stderr)
    if args.command == "tenant":
        from leadbot.admin.tenants import run

        return run(args, sys.stdout, sys.stderr)
    if args.command in ("export-lead", "forget-lead"):
        from leadbot.admin.rights import run as rights

        return rights(args, sys.stdout, sys.stderr)
    return 0


def _tenant_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from leadbot.admin.tenants import add_commands

    add_commands(commands)


def _rights_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from leadbot.admin.rights import add_commands

    add_commands(commands)


def _crm_replay(limit: int | None, queue_url: str | None, out: TextIO) -> int:
    from leadbot.services.crm_sync import ReplayReport, replay_dlq

    if limit is not None and limit < 1:
        print("error: --limit must be at least 1", file=out)
        return 2

    def progress(report: ReplayReport) -> None:
        done = report.replayed + report.failed + report.unreplayable
        print(
            f"{done} message(s): {report.replayed} replayed, {report.failed} failed, "
            f"{report.unreplayable} unreplayable",
            file=out,
            flush=True,
        )

    try:
        report = replay_dlq(limit, progress, queue_url)
    except LookupError as exc:
        print(f"error: {exc}", file=out)
        return 2
    print(json.dumps(report.as_dict()))
    return 1 if report.failed or report.unreplayable else 0


def _airtable_init(
    tenant_id: str, base_id: str | None, token_param: str | None, out: TextIO
) -> int:
    from leadbot.integrations.crm import CrmRejected, CrmUnauthorized, CrmUnavailable
    from leadbot.services.airtable import AirtableNotConfigured, connect, init_base

    repos = repositories()
    try:
        if base_id is not None or token_param is not None:
            connect(repos, tenant_id, base_id=base_id, token_param=token_param)
        report = init_base(repos, tenant_id)
    except TenantNotFound:
        print(f"error: no tenant {tenant_id!r}", file=out)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=out)
        return 2
    except AirtableNotConfigured as exc:
        print(
            f"error: {exc}: give --base appXXXXXXXXXXXXXX and --token-param <SSM parameter name>",
            file=out,
        )
        return 2
    except CrmUnauthorized as exc:
        print(
            f"error: Airtable refused the token for the base: {exc}. Check the token in its "
            "parameter, its scopes (data.records:read/write, schema.bases:read/write) and that "
            "the base is in its access list",
            file=out,
        )
        return 2
    except CrmRejected as exc:
        print(f"error: Airtable refused: {exc}", file=out)
        return 2
    except CrmUnavailable as exc:
        print(f"error: Airtable cannot be reached now ({exc}); try again", file=out)
        return 1
    changes = report.changes
    for table in changes.tables_created:
        print(f"created table {table}")
    for table, field in changes.fields_created:
        print(f"created field {table}.{field}")
    for table, field, theirs, ours in changes.type_mismatches:
        print(
            f"warning: {table}.{field} is a {theirs} field in the base, LeadBot writes a {ours}:"
            " left as it is",
            file=out,
        )
    if changes.nothing_created:
        print(f"base {report.base_id} of {tenant_id} already has every table and field")
    summary = {
        "base_id": report.base_id,
        "tables_created": list(changes.tables_created),
        "fields_created": [f"{t}.{f}" for t, f in changes.fields_created],
        "type_mismatches": [f"{t}.{f}" for t, f, _, _ in changes.type_mismatches],
    }
    print(json.dumps(summary))
    return 0


def _ingest(tenant_id: str, property_id: str, path: Path, title: str | None, out: TextIO) -> int:
    from leadbot.domain import PropertyNotFound
    from leadbot.domain.errors import BrochureUnreadable
    from leadbot.services.brochures import ingest_brochure
    from leadbot.services.errors import Conflict, Unavailable
    from leadbot.services.runtime import brochure_store

    try:
        pdf = path.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {path} ({exc.strerror})", file=out)
        return 2

    tty = out.isatty()

    def progress(page: int, pages: int) -> None:
        # One line rewritten on a terminal; a line a page in a log.
        line = f"{path.name}: page {page}/{pages}"
        out.write(f"\r{line}" + ("\n" if page == pages else "") if tty else line + "\n")
        out.flush()

    try:
        report = ingest_brochure(
            repositories(),
            brochure_store(),
            tenant_id,
            property_id,
            pdf,
            title=title,
            progress=progress,
        )
    except PropertyNotFound:
        print(f"error: tenant {tenant_id!r} has no listing {property_id!r}", file=out)
        return 2
    except Unavailable as exc:
        print(f"error: {exc}", file=out)
        return 2
    except (BrochureUnreadable, Conflict) as exc:
        print(f"error: {path.name}: {exc}; nothing was stored", file=out)
        return 1
    print(
        f"{path.name}: {report.pages} pages, {report.facts} facts, {report.table_rows} table rows,"
        f" {report.text_chunks} text passages; brochure {report.brochure_id} of {property_id}",
        file=out,
    )
    print(json.dumps(asdict(report)))
    return 0


def _listings_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listings = commands.add_parser("listings", help="add listings, or import them from a CSV file")
    actions = listings.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add one active listing")
    add.add_argument("--tenant", required=True, help="tenant id, e.g. demo")
    add.add_argument("--title", required=True)
    add.add_argument("--location", required=True, help="area or community, e.g. Dubai Marina")
    add.add_argument("--type", required=True, choices=[k.value for k in PropertyType])
    add.add_argument("--transaction", required=True, choices=["sale", "rent"])
    add.add_argument("--price", required=True, type=_decimal, help="e.g. 2450000 (rent: a year)")
    add.add_argument("--currency", help="ISO code, e.g. AED (default: the agency's)")
    add.add_argument("--bedrooms", choices=[b.value for b in Bedrooms])
    add.add_argument("--size-sqft", type=_decimal)
    add.add_argument(
        "--units", required=True, type=int, help="units available: scarcity is worded from it"
    )
    add.add_argument("--description", default="")
    add.add_argument(
        "--image-url", help="the listing's photo: an absolute https URL, sent with its cards"
    )
    imported = actions.add_parser(
        "import",
        help="add or update listings from a CSV file (header: title, location, type, "
        "transaction, price, currency, bedrooms, size_sqft, units, description, image_url, "
        "property_id); "
        "importing it again adds nothing; exits 1 if any row failed",
    )
    imported.add_argument("--tenant", required=True, help="tenant id, e.g. demo")
    imported.add_argument("file", type=Path, help="the CSV file (UTF-8)")


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _add_listing(args: argparse.Namespace, out: TextIO) -> int:
    from leadbot.domain.listings import Transaction
    from leadbot.services.errors import BadRequest
    from leadbot.services.properties import Price, create_property

    repos = repositories()
    try:
        repos.tenants.get(args.tenant)
        listing = create_property(
            repos,
            args.tenant,
            title=args.title,
            location=args.location,
            property_type=PropertyType(args.type),
            transaction=Transaction(args.transaction),
            price=Price(amount=args.price, currency=args.currency),
            units_available=args.units,
            bedrooms=Bedrooms(args.bedrooms) if args.bedrooms else None,
            size_sqft=args.size_sqft,
            description=args.description,
            image_url=args.image_url,
        )
    except TenantNotFound:
        print(f"error: no tenant {args.tenant!r}", file=out)
        return 2
    except BadRequest as exc:
        print(f"error: {exc}", file=out)
        return 2
    price = f"{listing.price.amount:,.0f} {listing.price.currency}"
    print(
        f"added {listing.property_id} to {args.tenant}: {listing.title}, {listing.location}, "
        f"{listing.property_type.value} for {listing.transaction.value} at {price}, "
        f"{listing.units_available} units{', with a photo' if listing.image_url else ''}"
    )
    return 0


def _import_listings(tenant_id: str, path: Path, out: TextIO) -> int:
    from leadbot.services.errors import BadRequest
    from leadbot.services.properties import import_listings

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {path} as UTF-8 text ({exc}); save it as CSV UTF-8", file=out)
        return 2
    try:
        report = import_listings(repositories(), tenant_id, text)
    except TenantNotFound:
        print(f"error: no tenant {tenant_id!r}", file=out)
        return 2
    except BadRequest as exc:
        print(f"error: {exc}", file=out)
        return 2
    for row in report.rows:
        if row.status == "failed":
            print(f"line {row.line}: {row.title or '(no title)'}: {row.message}", file=out)
        else:
            print(f"line {row.line}: {row.status} {row.property_id} {row.title}")
    summary = {s: report.count(s) for s in ("created", "updated", "unchanged", "failed")}
    print(json.dumps({**summary, "ignored_columns": report.ignored_columns}))
    return 1 if summary["failed"] else 0


def _import_leads(tenant_id: str, path: Path, source: str | None, out: TextIO) -> int:
    from leadbot.services.errors import BadRequest
    from leadbot.services.intake import MAX_IMPORT_BYTES, import_sheet

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {path} as UTF-8 text ({exc}); save it as CSV UTF-8", file=out)
        return 2
    if len(text) > MAX_IMPORT_BYTES:
        print(f"error: {path} is over {MAX_IMPORT_BYTES:,} characters: split it", file=out)
        return 2
    bar = _ProgressBar(out)
    try:
        report = import_sheet(
            repositories(),
            tenant_id,
            text,
            by="ops (python -m leadbot.admin)",
            source=source,
            progress=lambda done, total: bar(tenant_id, done, total),
        )
    except TenantNotFound:
        print(f"error: no tenant {tenant_id!r}", file=out)
        return 2
    except BadRequest as exc:
        print(f"error: {exc}", file=out)
        return 2
    for row in report.rows:
        if row.status == "failed":
            print(f"line {row.line}: {row.name or '(no name)'}: {row.message}", file=out)
    summary = {s: report.count(s) for s in ("created", "merged", "failed")}
    print(json.dumps({**summary, "ignored_columns": report.ignored_columns}))
    return 1 if summary["failed"] else 0


def _rescore(tenant_id: str | None, out: TextIO) -> int:
    from leadbot.services.scores import backfill
    from leadbot.services.telegram import telegram_client

    tenant_ids = _tenant_ids(tenant_id, out)
    if tenant_ids is None:
        return 2
    report = backfill(tenant_ids, repositories(), telegram_client, progress=_ProgressBar(out))
    print(json.dumps(report.as_dict()))
    return 0


def _reindex_followups(tenant_id: str | None, out: TextIO) -> int:
    from leadbot.services.followups import reindex

    tenant_ids = _tenant_ids(tenant_id, out)
    if tenant_ids is None:
        return 2
    report = reindex(tenant_ids, repositories(), progress=_ProgressBar(out))
    print(json.dumps(report.as_dict()))
    return 0


def _tenant_ids(tenant_id: str | None, out: TextIO) -> list[str] | None:
    """The one tenant named (None, said on `out`, if there is none such), else every tenant."""
    repos = repositories()
    if tenant_id is None:
        return list(repos.tenants.ids())
    try:
        repos.tenants.get(tenant_id)
    except TenantNotFound:
        print(f"error: no tenant {tenant_id!r}", file=out)
        return None
    return [tenant_id]


class _ProgressBar:
    """`demo  [#######.....]  1,234/2,000  62%` on one line of a terminal; a line a second else."""

    WIDTH = 30

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._tty = out.isatty()
        self._shown = 0.0

    def __call__(self, tenant_id: str, done: int, total: int) -> None:
        finished = done >= total
        now = time.monotonic()
        if not finished and now - self._shown < (0.1 if self._tty else 1.0):
            return
        self._shown = now
        share = done / total if total else 1.0
        filled = round(share * self.WIDTH)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        line = f"{tenant_id}  [{bar}]  {done:,}/{total:,}  {share:4.0%}"
        if self._tty:
            self._out.write("\r" + line + ("\n" if finished else ""))
        else:
            self._out.write(line + "\n")
        self._out.flush()


if __name__ == "__main__":
    sys.exit(main())
