"""`python -m leadbot.admin issue-admin-code --tenant T`: ops commands over the deployed tables."""

from __future__ import annotations

import argparse
import sys

from leadbot.config import MissingSettings, settings
from leadbot.domain import TenantNotFound
from leadbot.services.admin import issue_admin_code
from leadbot.services.runtime import repositories


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leadbot.admin", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    issue = commands.add_parser(
        "issue-admin-code", help="print a one-time code for /set_admin (valid 24 h)"
    )
    issue.add_argument("--tenant", required=True, help="tenant id, e.g. demo")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
