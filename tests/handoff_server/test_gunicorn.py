"""`make run` starts the handoff server with gunicorn and its config, from its lean venv."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

from handoff_server.db import make_engine, migrate

REPO_ROOT = Path(__file__).resolve().parents[2]
# As `make run` runs it: from the venv of requirements/handoff.txt, without the ML stack.
HANDOFF_VENV_BIN = REPO_ROOT / ".venv-handoff" / "bin"


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_gunicorn_config_serves_healthz_and_the_api(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'handoff.db'}"
    migrate(make_engine(database_url))
    port = _free_port()
    server = subprocess.Popen(
        [
            str(HANDOFF_VENV_BIN / "gunicorn"),
            "--config",
            "handoff_server/gunicorn.conf.py",
            "handoff_server:create_app()",
        ],
        cwd=REPO_ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "HANDOFF_PORT": str(port),
            "SECRET_KEY": "gunicorn-test",
            "HANDOFF_SERVICE_TOKEN": "gunicorn-test",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                # The master listens before the worker has booted: allow for a slow boot.
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=15)
                break
            except requests.ConnectionError:
                assert server.poll() is None and time.monotonic() < deadline, (
                    "gunicorn did not start"
                )
                time.sleep(0.1)
        unauthorized = requests.get(f"http://127.0.0.1:{port}/api/stream?token=secret", timeout=2)
        polled = requests.get(
            f"http://127.0.0.1:{port}/api/faq-paraphrases",
            headers={"Authorization": "Bearer gunicorn-test"},
            timeout=2,
        )
        refused_poll = requests.get(f"http://127.0.0.1:{port}/api/faq-paraphrases", timeout=2)
    finally:
        server.send_signal(signal.SIGTERM)
        log, _ = server.communicate(timeout=15)

    assert health.json() == {"status": "ok"}
    assert unauthorized.status_code == 401
    assert "Using worker: gevent" in log
    # The access log leaves out query strings, where stream tokens travel.
    assert '"GET /api/stream" 401' in log
    assert "secret" not in log
    # Action servers' polls every few seconds stay out of the log, unless they fail.
    assert (polled.status_code, refused_poll.status_code) == (200, 401)
    assert log.count('"GET /api/faq-paraphrases"') == 1
    assert '"GET /api/faq-paraphrases" 401' in log
