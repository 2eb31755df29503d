"""`make run` starts the handoff server with gunicorn and its config, from its lean venv."""

from __future__ import annotations

import requests

from scripts.handoff_process import running_handoff_server


def test_gunicorn_config_serves_healthz_and_the_api(tmp_path):
    with running_handoff_server(tmp_path) as server:
        health = requests.get(f"{server.url}/healthz", timeout=2)
        unauthorized = requests.get(f"{server.url}/api/stream?token=secret", timeout=2)
        polled = requests.get(
            f"{server.url}/api/faq-paraphrases",
            headers=server.service_headers,
            timeout=2,
        )
        refused_poll = requests.get(f"{server.url}/api/faq-paraphrases", timeout=2)
    log = server.log()

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
