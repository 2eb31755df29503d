"""A real SMTP server on loopback (aiosmtpd) that keeps what it is sent, for the tests of
answers by email."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from scripts.stack import free_port


class Inbox:
    """Keep every message; refuse them while `refusing`."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.refusing = False
        self.port = free_port()

    @property
    def url(self) -> str:
        """Return the SMTP_URL that sends here."""
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refusing:
            return "554 5.7.1 Rejected for the test"
        assert isinstance(envelope.content, bytes)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@contextmanager
def running_inbox() -> Iterator[Inbox]:
    """Serve an inbox until the block ends."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
