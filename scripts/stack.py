"""Run the real stack (Rasa, action server, handoff server) as `make run` does, privately.

Used by the end-to-end tests and the benchmarks.

The processes run exactly as `make run` starts them: honcho with the project's
Procfile, here with an env file of free ports, fresh secrets and databases in a
temporary directory, so a developer's own `make run` is never disturbed.
"""

from __future__ import annotations

import os
import secrets
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import requests

from scripts.ensure_env import SECRETS, parse_line

REPO_ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = REPO_ROOT / ".venv" / "bin"
STARTUP_TIMEOUT_S = 240


class StackFailed(RuntimeError):
    """The stack did not come up; the message ends with the processes' log."""


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Stack:
    """Where the running stack answers, and the secrets it runs with."""

    env: dict[str, str]
    log_path: Path

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.env['RASA_PORT']}"

    @property
    def handoff_url(self) -> str:
        return f"http://127.0.0.1:{self.env['HANDOFF_PORT']}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.env['ACTION_SERVER_PORT']}"

    def log(self) -> str:
        """Return what the processes have printed so far."""
        return self.log_path.read_text(errors="replace")

    def run_module(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """Run `.venv/bin/python -m ARGS` with the stack's environment."""
        return subprocess.run(
            [str(VENV_BIN / "python"), "-m", *args],
            input=stdin,
            text=True,
            capture_output=True,
            cwd=REPO_ROOT,
            env={**os.environ, **self.env},
            check=True,
        )

    def create_agent(self, username: str, *options: str) -> str:
        """Create an agent account through the CLI, as an admin would; return its password."""
        password = secrets.token_urlsafe(12)
        self.run_module(
            "handoff_server", "create-agent", username, "--role", "agent", *options, stdin=password
        )
        return password

    def log_in(self, username: str, password: str) -> str:
        """Log in as an agent and return the bearer token."""
        response = requests.post(
            f"{self.handoff_url}/api/auth/token",
            json={"username": username, "password": password},
            timeout=10,
        )
        response.raise_for_status()
        return str(response.json()["token"])


def stack_env(workdir: Path) -> dict[str, str]:
    """Return a complete environment for a private stack under `workdir`.

    It starts from every default of .env.example, so nothing of a developer's own
    .env reaches the processes under test.
    """
    rasa, actions, handoff = free_port(), free_port(), free_port()
    example = (REPO_ROOT / ".env.example").read_text().splitlines()
    return {
        **dict(filter(None, map(parse_line, example))),
        **{secret: secrets.token_urlsafe(16) for secret in SECRETS},
        "RASA_PORT": str(rasa),
        "ACTION_SERVER_PORT": str(actions),
        "HANDOFF_PORT": str(handoff),
        "ACTION_SERVER_URL": f"http://127.0.0.1:{actions}/webhook",
        "RASA_URL": f"http://127.0.0.1:{rasa}",
        "HANDOFF_URL": f"http://127.0.0.1:{handoff}",
        "PUBLIC_RASA_URL": f"http://127.0.0.1:{rasa}",
        "WIDGET_ORIGINS": f"http://127.0.0.1:{handoff} http://localhost:{handoff}",
        "DATABASE_URL": f"sqlite:///{workdir / 'handoff.db'}",
        "RASA_TRACKER_URL": f"sqlite:///{workdir / 'rasa-tracker.db'}",
        "FAQ_DATA_DIR": str(REPO_ROOT / "data" / "faq"),
        "FAQ_INDEX_DIR": str(REPO_ROOT / "models" / "faq"),
        "RASA_TELEMETRY_ENABLED": "false",
        "HF_HUB_OFFLINE": "1",
    }


def wait_until_healthy(stack: Stack, process: subprocess.Popen[bytes]) -> None:
    """Block until the three health checks answer; fail with the processes' log otherwise."""
    checks = [f"{stack.rasa_url}/", f"{stack.actions_url}/health", f"{stack.handoff_url}/healthz"]
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while checks:
        if process.poll() is not None or time.monotonic() > deadline:
            raise StackFailed(f"the stack did not come up; its log:\n{stack.log()[-6000:]}")
        try:
            if requests.get(checks[0], timeout=2).status_code == 200:
                checks.pop(0)
                continue
        except requests.RequestException:
            pass
        time.sleep(0.5)


@contextmanager
def running_stack(workdir: Path, **settings: str) -> Iterator[Stack]:
    """Start the Procfile's processes with a private environment; stop them all on exit.

    `settings` override variables of that environment (e.g. BUSINESS_HOURS).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**stack_env(workdir), **settings}
    env_file = workdir / "stack.env"
    env_file.write_text("".join(f"{key}={shlex.quote(value)}\n" for key, value in env.items()))
    stack = Stack(env=env, log_path=workdir / "stack.log")
    stack.run_module("handoff_server", "migrate")
    with stack.log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(VENV_BIN / "honcho"), "start", "-f", "Procfile", "-e", str(env_file)],
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_healthy(stack, process)
        yield stack
    finally:
        # The group may be gone already: honcho stops everything when one process dies.
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
