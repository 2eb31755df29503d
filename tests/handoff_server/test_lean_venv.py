"""The handoff server runs from its lean venv: nothing of the action server's stack.

(That lumen and bot/ import under Rasa's Python 3.10 is checked by the failsafe's
unit tests, which run there: tests/bot/rasa_runtime.)
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
HEAVY = ["actions", "torch", "numpy", "spacy", "faiss", "transformers", "onnxruntime"]


def test_the_handoff_server_runs_without_the_action_servers_stack():
    # Run from the repository root with the handoff venv's interpreter, as `make run` does.
    code = (
        "import importlib.util, json, sys\n"
        "import handoff_server, handoff_server.teaching, knowledge_base.faqs\n"
        "app = handoff_server.create_app({'SECRET_KEY': 'k', 'HANDOFF_SERVICE_TOKEN': 't',"
        " 'DATABASE_URL': 'sqlite://', 'TESTING': True})\n"
        f"heavy = {HEAVY!r}\n"
        "print(json.dumps({'imported': [m for m in heavy if m in sys.modules],"
        " 'installed': [m for m in heavy if importlib.util.find_spec(m) is not None]}))"
    )
    result = subprocess.run(
        [str(REPO_ROOT / ".venv-handoff" / "bin" / "python"), "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    # `actions` is in the repository, so it can be found; it must not be imported.
    assert json.loads(result.stdout) == {"imported": [], "installed": ["actions"]}
