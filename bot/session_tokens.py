"""Signed chat session tokens: only the server names a socket.io session.

A conversation id is not a secret (agents read it in the console, it is in logs and
in the handoff server's database), so it must not be what lets a socket join a
conversation. The server issues every session id at random and hands the client a
token, `<session id>.<HMAC-SHA256 of it>`, signed with CHAT_SESSION_SECRET; a client
resumes its session (a page reload) by presenting that token, and anything else gets
a new session. The token does not expire: the conversation it opens is the customer's
own, and Rasa's session expiry already decides when a conversation starts afresh.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

_SESSION_ID_BYTES = 16
# A session id is 32 hex characters; its token adds a dot and the 64 of the signature.
_TOKEN = re.compile(r"([0-9a-f]{32})\.([0-9a-f]{64})")
_PURPOSE = b"lumen chat session\n"


class SessionTokens:
    """Issue session ids with their tokens, and tell which session a token opens."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("CHAT_SESSION_SECRET is empty: run `make setup` to generate it")
        self._key = secret.encode()

    def new_session(self) -> str:
        """Return a fresh session id nobody can guess."""
        return secrets.token_hex(_SESSION_ID_BYTES)

    def token_for(self, session_id: str) -> str:
        """Return the token that resumes `session_id`."""
        return f"{session_id}.{self._signature(session_id)}"

    def session_of(self, token: object) -> str | None:
        """Return the session `token` opens, or None for anything the server did not sign."""
        match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
        if match is None:
            return None
        session_id, signature = match.groups()
        return session_id if hmac.compare_digest(signature, self._signature(session_id)) else None

    def _signature(self, session_id: str) -> str:
        return hmac.new(self._key, _PURPOSE + session_id.encode(), hashlib.sha256).hexdigest()
