"""Render deploy/nginx.conf for this stack: its ports and the upstream servers.

Upstreams are the servers `supervision.programs` runs on this host, unless RASA_UPSTREAMS,
ACTION_SERVER_UPSTREAMS or HANDOFF_UPSTREAMS list them (several hosts): space-separated
`host:port`, for Rasa `route=host:port`, where route is the SOCKETIO_ROUTE that instance
runs with (SOCKETIO_ROUTE_PREFIX and its program name on its host: `a-rasa-1`, ...).
"""

from __future__ import annotations

import grp
import os
import pwd
import re
from collections.abc import Mapping
from pathlib import Path
from string import Template

from supervision.programs import PROXY_HEALTH_PATH, action_server_instances, rasa_instances

TEMPLATE = Path(__file__).resolve().parents[1] / "deploy" / "nginx.conf"
# The prefix's own directories nginx writes to (temporary bodies and buffers).
TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
# A server nginx could not reach is left out this long before it is tried again.
FAIL_TIMEOUT_S = 5
ROUTE = re.compile(r"^[a-z0-9-]+$")


class NginxTemplate(Template):
    """Fill ${UPPER_CASE} values; leave nginx's own variables ($arg_sid) as they are."""

    idpattern = r"[A-Z][A-Z_]*"
    flags = re.NOFLAG


def rasa_routes(env: Mapping[str, str]) -> dict[str, str]:
    """Return each Rasa instance's route and address."""
    listed = env.get("RASA_UPSTREAMS", "").split()
    if not listed:
        prefix = env.get("SOCKETIO_ROUTE_PREFIX", "")
        return {
            prefix + instance.name: f"127.0.0.1:{instance.port}" for instance in rasa_instances(env)
        }
    routes = dict(entry.partition("=")[::2] for entry in listed)
    for route, address in routes.items():
        if not ROUTE.match(route) or not address:
            raise ValueError(
                f"RASA_UPSTREAMS: write each as route=host:port, not {route}={address}"
            )
    return routes


def addresses(env: Mapping[str, str], name: str, local: list[str]) -> list[str]:
    return env.get(name, "").split() or local


def upstream(name: str, servers: list[str], balance: str = "least_conn;") -> str:
    lines = (
        [f"    upstream {name} {{", f"        {balance}"]
        if balance
        else [f"    upstream {name} {{"]
    )
    # No `keepalive`: a connection nginx kept open can belong to a worker that has died or
    # is closing it, and nginx does not send a POST again, so the caller would get a 502.
    lines += [
        f"        server {server} max_fails=1 fail_timeout={FAIL_TIMEOUT_S}s;" for server in servers
    ]
    return "\n".join([*lines, "    }"])


def render(env: Mapping[str, str]) -> str:
    """Return nginx's configuration for the stack `env` describes."""
    routes = rasa_routes(env)
    owner = pwd.getpwuid(os.getuid())
    actions = addresses(
        env,
        "ACTION_SERVER_UPSTREAMS",
        [f"127.0.0.1:{instance.port}" for instance in action_server_instances(env)],
    )
    handoff = addresses(env, "HANDOFF_UPSTREAMS", [f"127.0.0.1:{env['HANDOFF_PORT']}"])
    upstreams = [
        upstream("rasa", list(routes.values())),
        upstream("actions", actions),
        upstream("handoff", handoff),
        # One per Rasa instance, for the sockets it holds (no balancing: one server).
        *(upstream(f"socketio-{route}", [address], "") for route, address in routes.items()),
    ]
    socketio_routes = [f'        "~^{re.escape(route)}\\." socketio-{route};' for route in routes]
    rendered = NginxTemplate(TEMPLATE.read_text()).safe_substitute(
        UPSTREAMS="\n\n".join(upstreams),
        SOCKETIO_ROUTES="\n".join(socketio_routes),
        USER=f"{owner.pw_name} {grp.getgrgid(owner.pw_gid).gr_name}",
        PROXY_PORT=env["PROXY_PORT"],
        PROXY_HEALTH_PATH=PROXY_HEALTH_PATH,
        RASA_API_PROXY_LISTEN=f"127.0.0.1:{env['RASA_API_PROXY_PORT']}",
        ACTIONS_PROXY_LISTEN=f"127.0.0.1:{env['ACTIONS_PROXY_PORT']}",
    )
    if unfilled := re.findall(r"\$\{[A-Z_]+\}", rendered):
        raise KeyError(f"{TEMPLATE} names values nothing fills: {unfilled}")
    return rendered


def write(env: Mapping[str, str], prefix: Path) -> Path:
    """Write nginx's configuration and directories under `prefix`; return the file."""
    for directory in TEMP_DIRS:
        (prefix / directory).mkdir(parents=True, exist_ok=True)
    config = prefix / "nginx.conf"
    config.write_text(render(env))
    return config
