"""The programs supervisord runs, from one definition parameterized by counts.

`make run` runs one of each: Rasa, the action server, the handoff server. Scaled out
(`make run-scaled`, deploy/scaled.env) the same definition gives RASA_INSTANCES Rasa
servers on consecutive ports from RASA_PORT, ACTION_SERVER_INSTANCES action servers from
ACTION_SERVER_PORT, the handoff server with HANDOFF_WORKERS gunicorn workers, and nginx in
front of them all when PROXY_PORT is set (deploy/nginx.conf, `supervision.nginx`).

Commands name settings as supervisord's %(ENV_X)s, so the generated configuration holds no
secret; supervisord expands them from the environment `python -m supervision` loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# Rasa loads its model for a minute or more on a busy machine.
RASA_STARTUP_GRACE_S = 300.0
SERVER_STARTUP_GRACE_S = 60.0
# nginx answers this path itself (deploy/nginx.conf).
PROXY_HEALTH_PATH = "/proxy-health"


@dataclass(frozen=True)
class Scale:
    """How many of each server this host runs."""

    rasa: int = 1
    actions: int = 1
    proxy: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Scale:
        return cls(
            rasa=_count(env, "RASA_INSTANCES"),
            actions=_count(env, "ACTION_SERVER_INSTANCES"),
            proxy=bool(env.get("PROXY_PORT")),
        )


def _count(env: Mapping[str, str], name: str) -> int:
    value = env.get(name) or "1"
    if not value.isdigit():
        raise ValueError(
            f"{name} must be a whole number (0 on a host that runs none), not {value!r}"
        )
    return int(value)


@dataclass(frozen=True)
class Instance:
    """One server of a kind: its program name and port."""

    name: str
    port: int


def instances(kind: str, first_port: str | int, count: int) -> list[Instance]:
    """Name `count` servers of `kind` and give them consecutive ports from `first_port`.

    One server keeps the kind's own name (`rasa`), as `make run` has always called it.
    """
    if count == 1:
        return [Instance(kind, int(first_port))]
    return [
        Instance(f"{kind}-{number}", int(first_port) + number - 1) for number in range(1, count + 1)
    ]


def rasa_instances(env: Mapping[str, str]) -> list[Instance]:
    return instances("rasa", env["RASA_PORT"], Scale.from_env(env).rasa)


def action_server_instances(env: Mapping[str, str]) -> list[Instance]:
    return instances("actions", env["ACTION_SERVER_PORT"], Scale.from_env(env).actions)


@dataclass(frozen=True)
class Program:
    """A [program:NAME] section: what it runs, how it starts and stops, how it is checked."""

    name: str
    command: str
    health_url: str
    startup_grace_s: float = SERVER_STARTUP_GRACE_S
    startsecs: int = 5
    stopwaitsecs: int = 10
    environment: dict[str, str] = field(default_factory=dict)


def programs(env: Mapping[str, str]) -> list[Program]:
    """Return every program this host runs, for the counts `env` asks for."""
    scale = Scale.from_env(env)
    # Hosts' instances need distinct routes when nginx runs elsewhere (RASA_UPSTREAMS).
    route_prefix = env.get("SOCKETIO_ROUTE_PREFIX", "")
    routed = scale.proxy or bool(route_prefix)
    rasa = [
        Program(
            name=instance.name,
            command=(
                ".venv-rasa/bin/rasa run --enable-api --auth-token=%(ENV_RASA_API_TOKEN)s"
                f" --port {instance.port} --cors %(ENV_WIDGET_ORIGINS)s"
                " --credentials bot/credentials.yml --endpoints bot/endpoints.yml"
                " --model models/rasa"
            ),
            health_url=f"http://127.0.0.1:{instance.port}/",
            startup_grace_s=RASA_STARTUP_GRACE_S,
            startsecs=10,
            # Which instance a socket is on, for nginx to route its later requests there.
            environment={"SOCKETIO_ROUTE": route_prefix + instance.name} if routed else {},
        )
        for instance in rasa_instances(env)
    ]
    actions = [
        Program(
            name=instance.name,
            command=f".venv/bin/python -m actions --actions actions --port {instance.port}",
            health_url=f"http://127.0.0.1:{instance.port}/health",
            stopwaitsecs=5,
        )
        for instance in action_server_instances(env)
    ]
    handoff = Program(
        name="handoff",
        command=".venv-handoff/bin/gunicorn --config handoff_server/gunicorn.conf.py"
        " handoff_server:create_app()",
        health_url=f"http://127.0.0.1:{env['HANDOFF_PORT']}/healthz",
    )
    proxy = (
        [
            Program(
                name="nginx",
                # In the foreground, its own prefix, configuration and error log (to supervisord).
                command="/usr/sbin/nginx -p %(ENV_SUPERVISOR_DIR)s/nginx -c nginx.conf -e stderr"
                " -g 'daemon off;'",
                health_url=f"http://127.0.0.1:{env['PROXY_PORT']}{PROXY_HEALTH_PATH}",
                stopwaitsecs=5,
            )
        ]
        if scale.proxy
        else []
    )
    return [*rasa, *actions, handoff, *proxy]


def program_sections(env: Mapping[str, str]) -> str:
    """Render the [program:...] sections of supervisord's configuration."""
    return "\n".join(_section(program) for program in programs(env))


def _section(program: Program) -> str:
    lines = [
        f"[program:{program.name}]",
        f"command = {program.command}",
        f"startsecs = {program.startsecs}",
        "startretries = 10",
        # Whatever the exit status: Rasa exits with 0 when it cannot bind its port.
        "autorestart = true",
        f"stopwaitsecs = {program.stopwaitsecs}",
        "killasgroup = true",
        "redirect_stderr = true",
        "stdout_logfile = NONE",
        "stdout_events_enabled = true",
    ]
    if program.environment:
        pairs = ",".join(f'{key}="{value}"' for key, value in program.environment.items())
        lines.append(f"environment = {pairs}")
    return "\n".join(lines) + "\n"
