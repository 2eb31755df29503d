"""Settings of the action server, read from the environment in one place.

The environment only: `python -m actions` (the process entry point) loads `.env` into it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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

    @classmethod
    def from_env(cls) -> ActionSettings:
        """Read the settings from the environment."""
        return cls(
            handoff_url=os.environ.get("HANDOFF_URL", "http://127.0.0.1:8000").rstrip("/"),
            handoff_service_token=os.environ.get("HANDOFF_SERVICE_TOKEN", ""),
            action_timeout_s=float(os.environ.get("ACTION_SERVER_TIMEOUT_S") or 5.0),
            faq_sync_interval_s=float(os.environ.get("FAQ_SYNC_INTERVAL_S") or 3.0),
            # Relative paths are the repository's.
            faq_index_dir=REPO_ROOT / os.environ.get("FAQ_INDEX_DIR", "models/faq"),
            faq_data_dir=REPO_ROOT / os.environ.get("FAQ_DATA_DIR", "data/faq"),
        )
