"""The Rasa process's own settings, read once from the environment (.env, see .env.example)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

from lumen.handoff_api import service_endpoint


@dataclass(frozen=True)
class BotSettings:
    """Where the Rasa process reaches the handoff server, and the secrets it checks clients by.

    `chat_session_secret` signs the chat session tokens (`bot.session_tokens`);
    `widget_origins` are the pages allowed to open Rasa's socket.io from a browser;
    a turn with no reply after `busy_notice_after_s` tells the customer the bot is busy;
    past `max_turns_in_flight` conversations with a turn in hand, another's message is
    refused (`bot.overload`);
    the chat limits and their storage are `bot.chat_limits`'s; the socket.io settings are
    `bot.socketio_scale`'s.
    """

    handoff_url: str
    handoff_service_token: str
    rasa_api_token: str = ""
    chat_session_secret: str = ""
    widget_origins: tuple[str, ...] = ()
    request_timeout_s: float = 5.0
    busy_notice_after_s: float = 3.0
    max_turns_in_flight: int = 50
    chat_limit_per_session: str = "40 per minute"
    chat_limit_per_address: str = "1800 per minute"
    rate_limit_storage_uri: str = "memory://"
    socketio_message_queue: str = ""
    socketio_channel: str = "lumen-socketio"
    socketio_route: str = ""

    @classmethod
    def from_env(cls) -> BotSettings:
        handoff_url, handoff_service_token = service_endpoint()
        return cls(
            handoff_url=handoff_url,
            handoff_service_token=handoff_service_token,
            rasa_api_token=os.environ.get("RASA_API_TOKEN", ""),
            chat_session_secret=os.environ.get("CHAT_SESSION_SECRET", ""),
            widget_origins=tuple(os.environ.get("WIDGET_ORIGINS", "").split()),
            busy_notice_after_s=float(
                os.environ.get("BUSY_NOTICE_AFTER_S") or cls.busy_notice_after_s
            ),
            max_turns_in_flight=_at_least_one(
                "MAX_TURNS_IN_FLIGHT",
                os.environ.get("MAX_TURNS_IN_FLIGHT"),
                cls.max_turns_in_flight,
            ),
            chat_limit_per_session=os.environ.get(
                "CHAT_LIMIT_PER_SESSION", cls.chat_limit_per_session
            ),
            chat_limit_per_address=os.environ.get(
                "CHAT_LIMIT_PER_ADDRESS", cls.chat_limit_per_address
            ),
            rate_limit_storage_uri=os.environ.get(
                "RATE_LIMIT_STORAGE_URI", cls.rate_limit_storage_uri
            ),
            socketio_message_queue=os.environ.get("SOCKETIO_MESSAGE_QUEUE", ""),
            socketio_channel=os.environ.get("SOCKETIO_CHANNEL") or cls.socketio_channel,
            socketio_route=os.environ.get("SOCKETIO_ROUTE", ""),
        )


def _at_least_one(name: str, value: str | None, default: int) -> int:
    """Read a count of at least one; a ValueError names the variable otherwise."""
    try:
        count = int(value) if value else default
    except ValueError:
        raise ValueError(f"{name}: expected a whole number, got {value!r}") from None
    if count < 1:
        raise ValueError(f"{name}: at least 1, got {count}")
    return count


@cache
def bot_settings() -> BotSettings:
    """The Rasa process's settings: read from the environment once, shared by its channels."""
    return BotSettings.from_env()
