"""One-time `/set_admin` codes over the webhook: who becomes an admin chat; the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadbot.admin.__main__ import main
from leadbot.domain import Channel, Language
from leadbot.i18n import t
from leadbot.services.admin import issue_admin_code
from leadbot.store import ADMIN_STREAM
from local.seed import DEMO_ADMIN_CHAT
from tests.support import InProcessStack, Updates

NEW_ADMIN = 910_000_001
OTHER_CHAT = 910_000_002
REGISTERED = t("admin.registered", Language.EN, agency="Demo Realty")
REFUSED = t("admin.refused", Language.EN)


def _set_admin(stack: InProcessStack, chat_id: int, code: str) -> None:
    command = f"/set_admin {code}".strip()
    assert stack.post(Updates(chat_id, first_name="Omid").text(command))["statusCode"] == 200


def _admin_chats(stack: InProcessStack) -> tuple[str, ...]:
    return stack.repos.tenants.get("demo").admin_chats


def _admin_log(stack: InProcessStack) -> list[tuple[str, str]]:
    """(outcome, chat_id) of every /set_admin attempt; sorted, as attempts within a second tie."""
    history = stack.repos.timeline.history("demo", ADMIN_STREAM)
    return sorted((e.text, e.detail["chat_id"]) for e in history)


def _has_lead(stack: InProcessStack, chat_id: int) -> bool:
    key = stack.repos.identities.key("demo", Channel.TELEGRAM, str(chat_id))
    return stack.repos.identities.lead_id(key) is not None


def test_given_a_fresh_code_when_a_chat_sends_it_then_that_chat_gets_hot_lead_alerts(
    stack: InProcessStack,
) -> None:
    code, _ = issue_admin_code(stack.repos, "demo")
    _set_admin(stack, NEW_ADMIN, code)

    assert str(NEW_ADMIN) in _admin_chats(stack)
    assert stack.last_text(NEW_ADMIN) == REGISTERED
    assert _admin_log(stack) == [("admin_registered", str(NEW_ADMIN))]
    assert not _has_lead(stack, NEW_ADMIN)

    stack.qualify(Updates(700_000_201))
    for admin in (DEMO_ADMIN_CHAT, NEW_ADMIN):
        assert "+971501234567" in stack.last_text(admin)


def test_a_code_works_once_only(stack: InProcessStack) -> None:
    code, _ = issue_admin_code(stack.repos, "demo")
    _set_admin(stack, NEW_ADMIN, code)
    _set_admin(stack, OTHER_CHAT, code)

    assert stack.last_text(OTHER_CHAT) == REFUSED
    assert str(OTHER_CHAT) not in _admin_chats(stack)
    assert _admin_log(stack) == sorted(
        [("admin_registered", str(NEW_ADMIN)), ("admin_refused", str(OTHER_CHAT))]
    )
    assert not _has_lead(stack, OTHER_CHAT)


@pytest.mark.parametrize(
    ("code", "reply_key"),
    [("not-a-real-code", "admin.refused"), ("", "admin.usage")],
    ids=["wrong code", "no code"],
)
def test_a_wrong_or_missing_code_is_refused(
    stack: InProcessStack, code: str, reply_key: str
) -> None:
    issue_admin_code(stack.repos, "demo")
    _set_admin(stack, OTHER_CHAT, code)

    assert stack.last_text(OTHER_CHAT) == t(reply_key, Language.EN)
    assert _admin_chats(stack) == (DEMO_ADMIN_CHAT,)
    assert _admin_log(stack) == [("admin_refused", str(OTHER_CHAT))]
    assert not _has_lead(stack, OTHER_CHAT)


def test_a_code_issued_25_hours_ago_has_expired(stack: InProcessStack) -> None:
    code, expires = issue_admin_code(
        stack.repos, "demo", now=datetime.now(UTC) - timedelta(hours=25)
    )
    assert expires < datetime.now(UTC)
    _set_admin(stack, NEW_ADMIN, code)

    assert stack.last_text(NEW_ADMIN) == REFUSED
    assert _admin_chats(stack) == (DEMO_ADMIN_CHAT,)
    assert _admin_log(stack) == [("admin_refused", str(NEW_ADMIN))]


def test_the_cli_prints_a_set_admin_line_that_works(
    stack: InProcessStack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["issue-admin-code", "--tenant", "demo"]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith("/set_admin ")

    assert stack.post(Updates(NEW_ADMIN).text(line))["statusCode"] == 200
    assert stack.last_text(NEW_ADMIN) == REGISTERED
    assert str(NEW_ADMIN) in _admin_chats(stack)


def test_the_cli_refuses_an_unknown_tenant(
    stack: InProcessStack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["issue-admin-code", "--tenant", "nope"]) == 2
    out, err = capsys.readouterr()
    assert "nope" in err and out == ""
