"""Run the real stack (Rasa, action server, handoff server) as `make run` does, privately.

Used by the end-to-end tests and the benchmarks.

The processes run exactly as `make run` starts them: supervisord with the project's
supervision/supervisord.conf (restarts, health checks and all), here with an env file of
free ports, fresh secrets and databases in a temporary directory, so a developer's own
`make run` is never disturbed.
"""

from __future__ import annotations

import os
import random
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
from dotenv import dotenv_values

from scripts.ensure_env import SECRETS, new_secret, parse_line
from supervision.__main__ import SCALED_ENV, prepare_storage
from supervision.databases import drop_database
from supervision.health import answers, health_urls
from supervision.programs import action_server_instances, rasa_instances

REPO_ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = REPO_ROOT / ".venv" / "bin"
STARTUP_TIMEOUT_S = 240
# supervisord gives each program its stopwaitsecs (10 s at most), then kills its group.
STOP_TIMEOUT_S = 30
# Where consecutive ports for several instances are looked for (up to the ephemeral range).
FIRST_FIXED_PORT = 20000


class StackFailed(RuntimeError):
    """The stack did not come up; the message ends with the processes' log."""


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def free_ports(count: int) -> int:
    """Return the first of `count` consecutive TCP ports nobody listens on right now.

    Below the kernel's range of ephemeral ports: a port in it that is free now may be the
    local end of another process's outgoing connection by the time a server binds it.
    """
    ephemeral_start = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    while True:
        first = random.randrange(FIRST_FIXED_PORT, ephemeral_start - count)
        if all(_free(first + step) for step in range(count)):
            return first


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass(frozen=True)
class Stack:
    """Where the running stack answers, and the secrets it runs with."""

    env: dict[str, str]
    log_path: Path

    @property
    def rasa_url(self) -> str:
        """Rasa's channels: the first Rasa instance's own port, where a test can pin a socket."""
        return f"http://127.0.0.1:{self.env['RASA_PORT']}"

    @property
    def handoff_url(self) -> str:
        """The pages and the API: nginx's one origin when it runs, else the handoff server."""
        return f"http://127.0.0.1:{self.env.get('PROXY_PORT') or self.env['HANDOFF_PORT']}"

    @property
    def public_url(self) -> str:
        """Where a customer's browser reaches Rasa's channels (PUBLIC_RASA_URL)."""
        return self.env["PUBLIC_RASA_URL"]

    @property
    def rasa_ports(self) -> list[int]:
        return [instance.port for instance in rasa_instances(self.env)]

    @property
    def action_server_ports(self) -> list[int]:
        return [instance.port for instance in action_server_instances(self.env)]

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.env['ACTION_SERVER_PORT']}"

    @property
    def health_urls(self) -> list[str]:
        return list(health_urls(self.env).values())

    def healthy(self) -> bool:
        """Tell whether every server answers its health check right now."""
        return all(map(answers, self.health_urls))

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
        **{secret: new_secret() for secret in SECRETS},
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
        "SUPERVISOR_DIR": str(workdir),
    }


POSTGRES = "root@127.0.0.1:5432"


def scaled_env(workdir: Path, pushes_through: int | None = None) -> dict[str, str]:
    """Return deploy/scaled.env's settings with free ports and databases of this stack's own.

    The handoff server reaches Rasa's API through nginx, or straight at Rasa instance
    `pushes_through` (1, 2, ...): a test then knows an agent's message is pushed through
    another instance than the one its socket is on (`rasa_url` is instance 1).
    """
    scaled = {key: value or "" for key, value in dotenv_values(SCALED_ENV).items()}
    rasa = free_ports(int(scaled["RASA_INSTANCES"]))
    actions = free_ports(int(scaled["ACTION_SERVER_INSTANCES"]))
    proxy, rasa_api, actions_api, handoff = (free_ports(1) for _ in range(4))
    tag = workdir.name.lower().replace("-", "_")[-20:] + "_" + secrets.token_hex(3)
    public = f"http://127.0.0.1:{proxy}"
    rasa_api_port = rasa_api if pushes_through is None else rasa + pushes_through - 1
    return {
        **scaled,
        "RASA_PORT": str(rasa),
        "ACTION_SERVER_PORT": str(actions),
        "HANDOFF_PORT": str(handoff),
        "PROXY_PORT": str(proxy),
        "RASA_API_PROXY_PORT": str(rasa_api),
        "ACTIONS_PROXY_PORT": str(actions_api),
        "RASA_URL": f"http://127.0.0.1:{rasa_api_port}",
        "ACTION_SERVER_URL": f"http://127.0.0.1:{actions_api}/webhook",
        "HANDOFF_URL": public,
        "PUBLIC_RASA_URL": public,
        "WIDGET_ORIGINS": f"{public} http://localhost:{proxy}",
        "DATABASE_URL": f"postgresql+psycopg://{POSTGRES}/lumen_e2e_handoff_{tag}",
        "RASA_TRACKER_URL": f"postgresql://{POSTGRES}/lumen_e2e_rasa_{tag}",
        "SOCKETIO_CHANNEL": f"lumen-socketio-{tag}",
        "SUPERVISOR_DIR": str(workdir),
    }


def wait_until_healthy(stack: Stack, process: subprocess.Popen[bytes]) -> None:
    """Block until the three health checks answer; fail with the processes' log otherwise."""
    checks = list(stack.health_urls)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while checks:
        if process.poll() is not None or time.monotonic() > deadline:
            raise StackFailed(f"the stack did not come up; its log:\n{stack.log()[-6000:]}")
        if answers(checks[0]):
            checks.pop(0)
            continue
        time.sleep(0.5)


def serving_process(port: int | str) -> int:
    """Return the pid of the process that accepts connections on `port`.

    Where a server forks workers that share its listening socket (rasa-sdk's Sanic,
    gunicorn), that is the worker: the holder of the socket whose parent holds it too.
    """
    serving = serving_processes(port)
    if len(serving) != 1:
        raise LookupError(f"port {port}: no single serving process among {serving}")
    return serving[0]


def serving_processes(port: int | str) -> list[int]:
    """Return the pids of the processes that accept connections on `port`: its workers, if
    the holders of the socket fork them, else the holders."""
    sockets = {f"socket:[{inode}]" for inode in listening_inodes(int(port))}
    holders = set()
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        with suppress(OSError):
            if any(os.readlink(fd) in sockets for fd in fd_dir.iterdir()):
                holders.add(int(fd_dir.parent.name))
    workers = [pid for pid in holders if parent_of(pid) in holders]
    return sorted(workers or holders)


def listening_inodes(port: int) -> set[str]:
    """Return the inodes of the sockets listening on TCP `port` (IPv4 and IPv6)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port, state, inode = int(fields[1].rsplit(":", 1)[1], 16), fields[3], fields[9]
            if local_port == port and state == "0A":  # 0A: LISTEN
                inodes.add(inode)
    return inodes


def parent_of(pid: int) -> int | None:
    """Return the parent pid of a process, None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


@contextmanager
def running_stack(workdir: Path, **settings: str) -> Iterator[Stack]:
    """Start the supervised processes with a private environment; stop them all on exit.

    `settings` override variables of that environment (e.g. BUSINESS_HOURS).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    stack = _stack(workdir, {**stack_env(workdir), **settings})
    stack.run_module("handoff_server", "migrate")
    yield from _supervised(stack)


@contextmanager
def running_scaled_stack(
    workdir: Path, pushes_through: int | None = None, **settings: str
) -> Iterator[Stack]:
    """Start the scaled-out stack (`make run-scaled`) privately, on databases of its own that
    are dropped on exit; `pushes_through` is `scaled_env`'s, `settings` as running_stack's."""
    workdir.mkdir(parents=True, exist_ok=True)
    stack = _stack(
        workdir, {**stack_env(workdir), **scaled_env(workdir, pushes_through), **settings}
    )
    try:
        prepare_storage(stack.env)
        yield from _supervised(stack)
    finally:
        for database in (stack.env["DATABASE_URL"], stack.env["RASA_TRACKER_URL"]):
            drop_database(database)


def _stack(workdir: Path, env: dict[str, str]) -> Stack:
    """Describe the stack `env` configures, and write its env file."""
    env_file = workdir / "stack.env"
    env_file.write_text("".join(f"{key}={shlex.quote(value)}\n" for key, value in env.items()))
    return Stack(env=env, log_path=workdir / "stack.log")


def _supervised(stack: Stack) -> Iterator[Stack]:
    env_file = stack.log_path.with_name("stack.env")
    # Appended to, never overwritten: supervisord writes its listeners' lines to the same file
    # through another open file (its /dev/stdout).
    with stack.log_path.open("ab") as log:
        process = subprocess.Popen(
            [str(VENV_BIN / "python"), "-m", "supervision", "--env-file", str(env_file)],
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_healthy(stack, process)
        yield stack
    finally:
        # supervisord stops every program's process group, as on Ctrl-C.
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
