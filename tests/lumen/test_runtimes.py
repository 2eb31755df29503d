"""Every process imports what it needs, and nothing it must not, in its own venv."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_python(venv: str, code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` with a venv's interpreter from the repository root, as the Procfile does."""
    return subprocess.run(
        [str(REPO_ROOT / venv / "bin" / "python"), "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_shared_package_imports_under_rasas_python_3_10():
    result = run_python(
        ".venv-rasa",
        "import sys, json\n"
        "from lumen import context_packet, handoff_api, vocabulary\n"
        "from bot import failsafe\n"
        "print(json.dumps([sys.version_info[:2], str(vocabulary.HandoffReason.BOT_FAILURE)]))",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '[[3, 10], "bot_failure"]'


@pytest.mark.parametrize("heavy", ["actions", "torch", "numpy", "spacy", "faiss", "transformers"])
def test_the_handoff_server_runs_without_the_action_servers_stack(heavy):
    # The handoff venv does not have them at all; the import must not reach for them either.
    result = run_python(
        ".venv-handoff",
        "import sys\n"
        "import handoff_server, handoff_server.teaching, knowledge_base.faqs\n"
        f"assert {heavy!r} not in sys.modules\n"
        "import importlib.util\n"
        f"print(importlib.util.find_spec({heavy!r}) is None)",
    )
    assert result.returncode == 0, result.stderr
    # `actions` is in the repository, so only the installed packages can be absent.
    assert result.stdout.strip() == ("False" if heavy == "actions" else "True")
