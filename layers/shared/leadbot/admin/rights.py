"""`python -m leadbot.admin export-lead|forget-lead`: a lead's data as JSON, or forgotten."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from leadbot.domain import LeadNotFound

if TYPE_CHECKING:
    from typing import TextIO

BY = "ops (python -m leadbot.admin)"


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = commands.add_parser(
        "export-lead",
        help="everything stored about one lead as JSON (item, identities, Timeline, knowledge "
        "gaps, deals, CRM records): a data access request",
    )
    export.add_argument("--tenant", required=True, help="tenant id, e.g. demo")
    export.add_argument("--lead", required=True, help="the lead's id (ULID)")
    export.add_argument("--output", type=Path, help="write to this file (default: stdout)")
    forget = commands.add_parser(
        "forget-lead",
        help="remove one lead's personal data from every table and the agency's CRM, keeping "
        "an anonymous lead_forgotten event; asks to type the lead id unless --yes",
    )
    forget.add_argument("--tenant", required=True, help="tenant id, e.g. demo")
    forget.add_argument("--lead", required=True, help="the lead's id (ULID)")
    forget.add_argument("--yes", action="store_true", help="do not ask (scripts)")


def run(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO | None = None) -> int:
    from leadbot.services import rights
    from leadbot.services.runtime import crm, repositories

    repos = repositories()
    try:
        repos.tenants.get(args.tenant)
    except Exception:
        print(f"error: no tenant {args.tenant!r}", file=err)
        return 2
    if args.command == "export-lead":
        try:
            data = rights.export_lead(repos, args.tenant, args.lead, crm)
        except LeadNotFound:
            print(f"error: {args.tenant} has no lead {args.lead!r}", file=err)
            return 2
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        if args.output is None:
            out.write(text)
        else:
            args.output.write_text(text, encoding="utf-8")
            args.output.chmod(0o600)  # personal data
            print(
                f"{args.lead}: {len(data['timeline'])} Timeline entries written to {args.output}",
                file=err,
            )
        return 0
    if not args.yes:
        stdin = stdin or sys.stdin
        if not stdin.isatty():
            print("error: forget-lead cannot be undone: add --yes to run it unattended", file=err)
            return 2
        print(f"Forgetting {args.lead} of {args.tenant} cannot be undone.", file=err)
        print("Type the lead id to confirm: ", end="", file=err, flush=True)
        if stdin.readline().strip() != args.lead:
            print("not confirmed: nothing was removed", file=err)
            return 1
    try:
        done = rights.forget_lead(repos, args.tenant, args.lead, crm, by=BY)
    except LeadNotFound:
        print(f"error: {args.tenant} has no lead {args.lead!r} (nothing of it is stored)", file=err)
        return 2
    print(
        f"{args.lead}: forgotten ({done.timeline} Timeline entries, {done.identities} "
        f"identities; CRM: {done.crm})",
        file=err,
    )
    print(json.dumps(done.as_dict()), file=out)
    return 0
