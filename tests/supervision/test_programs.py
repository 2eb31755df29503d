"""The programs supervisord runs for the counts asked for, and nginx's configuration for them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from supervision.health import health_urls
from supervision.nginx import write
from supervision.programs import programs

NGINX = "/usr/sbin/nginx"
EMBEDDED = {"RASA_PORT": "5005", "ACTION_SERVER_PORT": "5055", "HANDOFF_PORT": "8000"}
SCALED = {
    **EMBEDDED,
    "RASA_INSTANCES": "2",
    "ACTION_SERVER_INSTANCES": "3",
    "PROXY_PORT": "8080",
    "RASA_API_PROXY_PORT": "8081",
    "ACTIONS_PROXY_PORT": "8082",
}


def test_make_run_supervises_one_of_each_under_its_own_name():
    assert [program.name for program in programs(EMBEDDED)] == ["rasa", "actions", "handoff"]
    assert health_urls(EMBEDDED) == {
        "rasa": "http://127.0.0.1:5005/",
        "actions": "http://127.0.0.1:5055/health",
        "handoff": "http://127.0.0.1:8000/healthz",
    }


def test_scaled_out_each_instance_has_its_port_and_nginx_runs_in_front():
    urls = health_urls(SCALED)
    assert list(urls) == [
        "rasa-1",
        "rasa-2",
        "actions-1",
        "actions-2",
        "actions-3",
        "handoff",
        "nginx",
    ]
    assert urls["rasa-2"] == "http://127.0.0.1:5006/"
    assert urls["actions-3"] == "http://127.0.0.1:5057/health"
    routes = {program.name: program.environment for program in programs(SCALED)}
    assert routes["rasa-2"] == {"SOCKETIO_ROUTE": "rasa-2"}


def test_a_count_that_is_no_number_is_refused_by_name():
    with pytest.raises(ValueError, match="RASA_INSTANCES"):
        programs({**SCALED, "RASA_INSTANCES": "two"})


def test_nginx_accepts_the_configuration_with_each_socket_routed_to_its_instance(tmp_path: Path):
    if not Path(NGINX).exists():
        pytest.fail(f"{NGINX} is missing: run `make nginx`")
    config = write(SCALED, tmp_path)
    text = config.read_text()
    assert "server 127.0.0.1:5006" in text
    assert '"~^rasa\\-2\\." socketio-rasa-2;' in text
    checked = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", "nginx.conf", "-e", "stderr"],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
