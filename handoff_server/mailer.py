"""Send an agent's answer to a message left while nobody was on duty, by email.

SMTP_URL names the server: `smtp://host:port` (plain, STARTTLS when the server offers it),
`smtps://host:port` (TLS from the start), with `user:password@` before the host if it wants
a login. SMTP_FROM is the sender. Without SMTP_URL, answering by email is refused with a
clear error and nothing is recorded; the team can still call a customer who left a number.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from typing import Any
from urllib.parse import unquote, urlsplit

from handoff_server.assistant_config import AssistantConfig

TIMEOUT_S = 10.0
SCHEMES = {"smtp": 25, "smtps": 465}


class MailUnavailable(RuntimeError):
    """The email could not be sent: no server configured, or the server refused it."""


def is_email(contact: str) -> bool:
    """Tell an email address from a phone number, as the customer left it."""
    name, address = parseaddr(contact)
    return "@" in address and not name


@dataclass(frozen=True)
class Mailer:
    """Where answers by email go out from."""

    url: str
    sender: str

    @classmethod
    def check(cls, url: str, sender: str) -> Mailer:
        """Return a mailer; raise ValueError naming the setting that cannot work."""
        if url:
            parts = urlsplit(url)
            if parts.scheme not in SCHEMES or not parts.hostname:
                raise ValueError(
                    f"SMTP_URL: expected smtp://host:port or smtps://host:port, got {url!r}"
                )
            if not is_email(sender):
                raise ValueError(f"SMTP_FROM: an email address is needed, got {sender!r}")
        return cls(url, sender)

    @property
    def configured(self) -> bool:
        return bool(self.url)

    def send(self, to: str, subject: str, body: str) -> str:
        """Send a plain-text email; return its Message-ID. Raise MailUnavailable on failure."""
        if not self.configured:
            raise MailUnavailable("answering by email needs SMTP_URL and SMTP_FROM in settings")
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2])
        message.set_content(body)
        parts = urlsplit(self.url)
        port = parts.port or SCHEMES[parts.scheme]
        try:
            if parts.scheme == "smtps":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    parts.hostname or "",
                    port,
                    timeout=TIMEOUT_S,
                    context=ssl.create_default_context(),
                )
            else:
                client = smtplib.SMTP(parts.hostname or "", port, timeout=TIMEOUT_S)
            with client:
                client.ehlo()
                if parts.scheme == "smtp" and client.has_extn("starttls"):
                    client.starttls(context=ssl.create_default_context())
                if parts.username:
                    client.login(unquote(parts.username), unquote(parts.password or ""))
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise MailUnavailable(f"the email to {to} could not be sent: {error}") from None
        return str(message["Message-ID"])


def answer_email(
    business: AssistantConfig, conversation: dict[str, Any], text: str, agent: dict[str, Any]
) -> tuple[str, str]:
    """Return the subject and body of the email that answers a message left."""
    name = conversation.get("customer_name")
    body = "\n\n".join(
        [
            f"Hello {name}," if name else "Hello,",
            text,
            f"{agent['display_name']}\n{business.business_name}",
        ]
    )
    return f"Your message to {business.business_name}", body + "\n"
