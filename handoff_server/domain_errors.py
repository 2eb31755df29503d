"""What the data layer refuses, named in its own words; errors.py maps them to HTTP.

The store and its helpers know nothing of HTTP (no werkzeug here): the web layer answers
each of these with one status, and the command line prints them.
"""

from __future__ import annotations


class HandoffError(Exception):
    """A request the handoff data layer refuses; the message says why, for a person."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class NotFound(HandoffError):
    """What the request names does not exist (a conversation, a question)."""


class Conflict(HandoffError):
    """The request does not fit the current state (claimed already, resolved, taken)."""


class Forbidden(HandoffError):
    """The agent may not do this (someone else's conversation)."""


class Invalid(HandoffError):
    """The request names something that cannot be (an unknown agent, a short password)."""


class Unprocessable(HandoffError):
    """The request is well formed but cannot be carried out (nothing to teach)."""


class Busy(HandoffError):
    """The database stayed locked by another writer: nothing was stored, the request may be
    sent again after `retry_after_s` seconds."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            f"the database is busy and nothing was stored: try again in {retry_after_s} s"
        )
        self.retry_after_s = retry_after_s
