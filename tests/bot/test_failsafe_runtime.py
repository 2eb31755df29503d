"""Run the Rasa process's unit tests (tests/bot/rasa_runtime) under Rasa's Python 3.10 venv."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_rasa_process_unit_tests_pass_under_rasas_runtime():
    result = subprocess.run(
        [
            str(REPO_ROOT / ".venv-rasa" / "bin" / "python"),
            "-m",
            "unittest",
            "-v",
            "tests.bot.rasa_runtime.test_failsafe",
            "tests.bot.rasa_runtime.test_pushes",
            "tests.bot.rasa_runtime.test_action_results",
            "tests.bot.rasa_runtime.test_channels",
            "tests.bot.rasa_runtime.test_chat_limits",
            "tests.bot.rasa_runtime.test_lock_store",
            "tests.bot.rasa_runtime.test_late_messages",
            "tests.bot.rasa_runtime.test_socketio_scale",
            "tests.bot.rasa_runtime.test_rasa_server",
            "tests.bot.rasa_runtime.test_tracker_store",
            "tests.bot.rasa_runtime.test_past_states",
            "tests.bot.rasa_runtime.test_intent_classifier",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONDONTWRITEBYTECODE": "1"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-6000:]
    # Every case ran (unittest reports on stderr), none was skipped.
    assert "Ran 80 tests" in result.stderr and "skipped" not in result.stderr
