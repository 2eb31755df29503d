"""Settings of the action server, read from the environment in one place.

The environment only: `python -m actions` (the process entry point) loads `.env` into it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from lumen.handoff_api import service_endpoint

REPO_ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = REPO_ROOT / ".env"


@dataclass(frozen=True)
class ActionSettings:
    """Where the action server finds the handoff server and the FAQ; how often it syncs teaching."""

    handoff_url: str
    handoff_service_token: str
    request_timeout_s: float = 5.0
    # How long Rasa waits for an action (its endpoint's timeout): retries end before it.
    action_timeout_s: float = 5.0
    faq_sync_interval_s: float = 3.0
    faq_index_dir: Path = REPO_ROOT / "models" / "faq"
    faq_data_dir: Path = REPO_ROOT / "data" / "faq"
    venue_dir: Path = REPO_ROOT / "data" / "venue"
    # A fixed "now" for the schedule, for tests only (VENUE_NOW, ISO 8601); None: the clock.
    venue_now: datetime | None = None

    @classmethod
    def from_env(cls) -> ActionSettings:
        """Read the settings from the environment."""
        handoff_url, handoff_service_token = service_endpoint()
        return cls(
            handoff_url=handoff_url,
            handoff_service_token=handoff_service_token,
            action_timeout_s=float(os.environ.get("ACTION_SERVER_TIMEOUT_S") or 5.0),
            faq_sync_interval_s=float(os.environ.get("FAQ_SYNC_INTERVAL_S") or 3.0),
            # Relative paths are the repository's.
            faq_index_dir=REPO_ROOT / os.environ.get("FAQ_INDEX_DIR", "models/faq"),
            faq_data_dir=REPO_ROOT / os.environ.get("FAQ_DATA_DIR", "data/faq"),
            venue_dir=REPO_ROOT / os.environ.get("VENUE_DIR", "data/venue"),
            venue_now=datetime.fromisoformat(os.environ["VENUE_NOW"])
            if os.environ.get("VENUE_NOW")
            else None,
        )
