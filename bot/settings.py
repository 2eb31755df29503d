"""The Rasa process's own settings, read once from the environment (.env, see .env.example)."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class BotSettings:
    """Where the Rasa process reaches the handoff server, and the token of its own API."""

    handoff_url: str
    handoff_service_token: str
    rasa_api_token: str = ""
    request_timeout_s: float = 5.0

    @classmethod
    def from_env(cls) -> BotSettings:
        return cls(
            handoff_url=os.environ.get("HANDOFF_URL", "http://127.0.0.1:8000").rstrip("/"),
            handoff_service_token=os.environ.get("HANDOFF_SERVICE_TOKEN", ""),
            rasa_api_token=os.environ.get("RASA_API_TOKEN", ""),
        )
