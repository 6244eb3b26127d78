"""Ops command line: `python -m leadbot.admin <command>`."""
