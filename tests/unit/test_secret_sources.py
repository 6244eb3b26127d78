"""Where `tenant create` and `rotate-secret` read secrets from: never the command line itself."""

from __future__ import annotations

import io

import pytest

from leadbot.admin.tenants import SecretSources, SourceError


def test_stdin_and_the_environment_are_read_and_stripped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", " 123:abc \n")
    sources = SecretSources(io.StringIO("s3cret\nignored\n"))

    assert sources.read("--telegram-token", "env:BOT_TOKEN") == "123:abc"
    assert sources.read("--whatsapp-app-secret", "-") == "s3cret"
    assert sources.read("--whatsapp-access-token", None) is None


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ("123456:AAE-the-token-itself", "never the secret itself"),
        ("env:NOT_SET_ANYWHERE", "NOT_SET_ANYWHERE is not set"),
        ("file:/nonexistent/secret", "cannot read /nonexistent/secret"),
    ],
)
def test_a_value_on_the_command_line_or_a_missing_source_is_refused_without_echoing_it(
    source: str, says: str
) -> None:
    with pytest.raises(SourceError, match=says) as refused:
        SecretSources(io.StringIO("")).read("--telegram-token", source)
    assert "AAE-the-token-itself" not in str(refused.value)


def test_standard_input_serves_one_option_only() -> None:
    sources = SecretSources(io.StringIO("one\ntwo\n"))
    sources.read("--whatsapp-app-secret", "-")

    with pytest.raises(SourceError, match="both read standard input"):
        sources.read("--whatsapp-access-token", "-")


def test_an_empty_value_is_refused() -> None:
    with pytest.raises(SourceError, match="empty"):
        SecretSources(io.StringIO("\n")).read("--whatsapp-app-secret", "-")
