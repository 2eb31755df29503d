"""The Rasa bot's data and dialogue, checked with Rasa's own tools."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]


def rasa(*args: str) -> subprocess.CompletedProcess[str]:
    """Run Rasa's command line from the project root."""
    return subprocess.run(
        [str(REPO_ROOT / ".venv-rasa" / "bin" / "rasa"), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
    )


def customer_intents() -> set[str]:
    """Return every intent of the domain a customer can send (not the EXTERNAL_ ones)."""
    domain = yaml.safe_load((REPO_ROOT / "bot" / "domain.yml").read_text())
    names = {
        intent if isinstance(intent, str) else next(iter(intent)) for intent in domain["intents"]
    }
    # `restart` and `session_end` end the conversation, handoff or not.
    ended = {"restart", "session_end"}
    return {name for name in names if not name.startswith("EXTERNAL_") and name not in ended}


def test_every_customer_intent_goes_to_the_agent_during_a_handoff():
    rules = yaml.safe_load((REPO_ROOT / "data" / "rules" / "silent_during_handoff.yml").read_text())
    forwarded = {
        step["intent"]
        for rule in rules["rules"]
        for step in rule["steps"]
        if "intent" in step and {"action": "action_forward_to_agent"} in rule["steps"]
    }
    assert forwarded == customer_intents() | {"nlu_fallback"}


@pytest.mark.slow
def test_training_data_is_valid():
    result = rasa(
        "data", "validate", "--config", "config.yml", "--domain", "bot/domain.yml",
        "--data", "data/nlu", "data/stories", "data/rules",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.mark.slow
def test_every_escalation_path_is_predicted(tmp_path):
    result = rasa(
        "test", "core", "--stories", "tests/bot/test_stories.yml", "--model", "models/rasa",
        "--fail-on-prediction-errors", "--out", str(tmp_path),
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[output.find("WrongPrediction") :][-4000:]
