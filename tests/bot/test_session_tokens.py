"""Chat session tokens: only what the server signed opens a session."""

from __future__ import annotations

import pytest

from bot.session_tokens import SessionTokens

TOKENS = SessionTokens("the server's secret")


def test_a_token_opens_the_session_it_was_issued_for():
    session_id = TOKENS.new_session()
    assert TOKENS.session_of(TOKENS.token_for(session_id)) == session_id
    assert TOKENS.new_session() != session_id


@pytest.mark.parametrize(
    "token",
    [
        None,
        42,
        ["a" * 32],
        "",
        "a" * 32,
        SessionTokens("another secret").token_for("a" * 32),
        TOKENS.token_for("a" * 32).upper(),
        TOKENS.token_for("a" * 32) + "0",
        TOKENS.token_for("a" * 32).replace(".", ".\ud800", 1),
        "x" * 1_000_000,
    ],
    ids=[
        "none",
        "number",
        "list",
        "empty",
        "bare id",
        "other secret",
        "upper case",
        "longer",
        "lone surrogate",
        "a megabyte",
    ],
)
def test_anything_else_opens_nothing(token: object):
    assert TOKENS.session_of(token) is None


def test_an_empty_secret_is_refused_at_start():
    with pytest.raises(ValueError, match="CHAT_SESSION_SECRET"):
        SessionTokens("")
