"""Run the handoff server alone, as the Procfile does, beside a stand-in for Rasa's push API.

Used by the tests and benchmarks that need the real gunicorn process (its gevent workers,
its access log) but not the rest of the stack: a private SQLite database in a work folder
(or a database the caller names), fresh secrets, a free port.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from handoff_server import accounts
from handoff_server.db import Database, make_engine, migrate, resolve_url
from scripts.stack import REPO_ROOT, free_port

HANDOFF_VENV_BIN = REPO_ROOT / ".venv-handoff" / "bin"
STARTUP_TIMEOUT_S = 60.0


class RasaPushes:
    """Stand in for Rasa's trigger_intent endpoint: record each push, or refuse while down.

    `answer_after_s` makes each push take that long; the first push to `hold_sender` is
    recorded and then not answered (`holding` is set), as if its deliverer died mid-push.
    Servers given RASA_URL `{url}/NAME` are told apart: `held_by` is the NAME that sent it.
    """

    def __init__(self) -> None:
        self.pushes: list[tuple[str, str, dict[str, Any]]] = []
        self.available = True
        self.answer_after_s = 0.0
        self.hold_sender: str | None = None
        self.holding = threading.Event()
        self.held_by = ""
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def intents(self, sender_id: str) -> list[str]:
        """Return the intents pushed to one conversation, in the order Rasa accepted them."""
        with self._lock:
            return [intent for sender, intent, _ in self.pushes if sender == sender_id]

    def _record(self, path: str, body: dict[str, Any]) -> bool:
        with self._lock:
            if not self.available:
                return False
            prefix, _, rest = path.partition("/conversations/")
            sender = rest.split("/")[0]
            self.pushes.append((sender, body["name"], body.get("entities") or {}))
            hold = sender == self.hold_sender and not self.holding.is_set()
            if hold:
                self.held_by = prefix.strip("/")
                self.holding.set()
        if hold:
            self._released.wait()
        time.sleep(self.answer_after_s)
        return True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        rasa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                """Accept a push, or refuse it while Rasa is down."""
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                accepted = rasa._record(self.path.partition("?")[0], body)
                self.send_response(200 if accepted else 503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Keep the test output quiet."""

        return Handler

    def __enter__(self) -> RasaPushes:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()


class EventStream:
    """Read an open server-sent event stream one block (an event or a comment) at a time."""

    def __init__(self, response: requests.Response) -> None:
        response.encoding = "utf-8"
        self._lines: Iterator[str] = response.iter_lines(chunk_size=None, decode_unicode=True)
        # The id of the last event next_event returned, to resume after (Last-Event-ID).
        self.last_id: int | None = None

    def next_block(self) -> list[str]:
        """Return the lines of the next block; the response's read timeout bounds the wait."""
        block: list[str] = []
        for line in self._lines:
            if line:
                block.append(line)
            elif block:
                return block
        raise EOFError("the stream ended")

    def skip_keepalives(self, count: int) -> None:
        """Read until `count` keepalive comments have arrived."""
        while count:
            if self.next_block() == [": keepalive"]:
                count -= 1

    def next_event(self, kind: str) -> dict[str, object]:
        """Return the data of the next event of `kind`, past keepalives and other events."""
        while True:
            block = self.next_block()
            if f"event: {kind}" in block:
                data = "\n".join(line[6:] for line in block if line.startswith("data: "))
                self.last_id = next(int(line[4:]) for line in block if line.startswith("id: "))
                return json.loads(data)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class HandoffProcess:
    """Where the running handoff server answers, its database and its secrets."""

    url: str
    database_url: str
    service_token: str
    log_path: Path
    process: subprocess.Popen[bytes]

    @property
    def database_path(self) -> Path:
        """Return the SQLite file the server uses."""
        return Path(make_url(self.database_url).database or "")

    @property
    def service_headers(self) -> dict[str, str]:
        """Headers of the action server (the service token)."""
        return {"Authorization": f"Bearer {self.service_token}"}

    def kill(self) -> None:
        """Kill gunicorn's master and workers at once, as a host that loses power."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def log(self) -> str:
        """Return what gunicorn has printed so far."""
        return self.log_path.read_text(errors="replace")

    def agent_headers(self, username: str) -> dict[str, str]:
        """Create an agent account, log in through the API and return the bearer headers."""
        password = secrets.token_urlsafe(12)
        engine = make_engine(self.database_url)
        accounts.create_agent(Database(engine), username, password, "agent")
        engine.dispose()
        response = requests.post(
            f"{self.url}/api/auth/token",
            json={"username": username, "password": password},
            timeout=10,
        )
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def hand_off(self, sender_id: str) -> dict[str, Any]:
        """Queue a conversation as the action server does; return it."""
        response = requests.post(
            f"{self.url}/api/handoffs",
            json={
                "sender_id": sender_id,
                "channel": "web",
                "reason": "customer_request",
            },
            headers=self.service_headers,
            timeout=10,
        )
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]


@contextmanager
def postgres_schema(admin_url: str) -> Iterator[str]:
    """Build the handoff schema in a PostgreSQL schema of its own, dropped afterwards; yield
    the DATABASE_URL that works in it (servers given it share one database)."""
    schema = f"handoff_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(resolve_url(admin_url))
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = (
        resolve_url(admin_url)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def running_handoff_server(workdir: Path, **settings: str) -> Iterator[HandoffProcess]:
    """Start gunicorn with the project's config on a migrated database; stop it on exit.

    `settings` are environment variables of the server (e.g. RASA_URL, SSE_KEEPALIVE_S);
    without DATABASE_URL it gets a fresh SQLite file, without secrets fresh ones. Servers
    given the same DATABASE_URL and secrets are several hosts of one deployment.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'handoff.db'}",
        "HANDOFF_PORT": url.rsplit(":", 1)[1],
        "SECRET_KEY": secrets.token_urlsafe(16),
        "HANDOFF_SERVICE_TOKEN": secrets.token_urlsafe(16),
        **settings,
    }
    engine = make_engine(env["DATABASE_URL"])
    migrate(engine)
    engine.dispose()
    log_path = workdir / "handoff.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(HANDOFF_VENV_BIN / "gunicorn"),
                "--config",
                "handoff_server/gunicorn.conf.py",
                "handoff_server:create_app()",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            # A group of its own, which kill() ends whole.
            start_new_session=True,
        )
    server = HandoffProcess(
        url=url,
        database_url=env["DATABASE_URL"],
        service_token=env["HANDOFF_SERVICE_TOKEN"],
        log_path=log_path,
        process=process,
    )
    try:
        _wait_until_healthy(server, process)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_healthy(server: HandoffProcess, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        try:
            # The master listens before the worker has booted: allow for a slow boot.
            if requests.get(f"{server.url}/healthz", timeout=15).ok:
                return
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"gunicorn did not start; its log:\n{server.log()[-4000:]}")
        time.sleep(0.1)
