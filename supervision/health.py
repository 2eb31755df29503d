"""Keep each server answering: a supervisord event listener.

supervisord restarts a process that exits. It cannot see one that hangs, or whose worker
died while the parent keeps the port (rasa-sdk's Sanic and gunicorn serve from worker
processes): connections then wait in the port's backlog and nobody answers. On every
TICK_5 event this listener asks each server's health route, with a short timeout, and
after FAILURES_TO_RESTART failed checks in a row restarts that program through
supervisord (which stops its whole process group); a program that has not answered once
since it started is restarted when its startup grace is over.

The other way round, a parent that dies leaves its workers holding the port, and the
restarted server could never bind it: on PROCESS_STATE_EXITED and PROCESS_STATE_STOPPED
this listener kills what is left of the process's group. It also says, once, when all
three servers first answer and where to go.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import urllib.request
import xmlrpc.client
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from supervisor import childutils

# Long enough for a busy server: Rasa under 200 customers answered its health route late
# (bot replies p95 6 s), and a 2 s limit had it restarted mid-load, dropping every socket.
# A hung or dead server never answers, so it is found all the same, a little later.
CHECK_TIMEOUT_S = 10.0
# Three checks in a row: a server stalled for half a minute, not one slow answer.
FAILURES_TO_RESTART = 3
RUNNING = "RUNNING"


class Check(NamedTuple):
    """A program's health route, and how long it may take to answer after it starts."""

    url: str
    startup_grace_s: float


def health_checks(env: Mapping[str, str]) -> dict[str, Check]:
    """Return each program's check (supervisord.conf's program names)."""
    return {
        # Rasa loads its model for a minute or more on a busy machine.
        "rasa": Check(f"http://127.0.0.1:{env['RASA_PORT']}/", 300.0),
        "actions": Check(f"http://127.0.0.1:{env['ACTION_SERVER_PORT']}/health", 60.0),
        "handoff": Check(f"http://127.0.0.1:{env['HANDOFF_PORT']}/healthz", 60.0),
    }


def health_urls(env: Mapping[str, str]) -> dict[str, str]:
    """Return each program's health check URL."""
    return {name: check.url for name, check in health_checks(env).items()}


def answers(url: str, timeout_s: float = CHECK_TIMEOUT_S) -> bool:
    """Tell whether `url` answers 200 within the timeout."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@dataclass
class Watch:
    """What the listener knows of one program since its current process started."""

    started_at: float
    answered: bool = False
    failures: int = 0


class Verdict(NamedTuple):
    """What one check leads to: a line to print, if any, and whether to restart."""

    message: str | None = None
    restart: bool = False


class HealthWatch:
    """Decide from check results, tick by tick, which programs to restart."""

    def __init__(self, startup_grace_s: Mapping[str, float]) -> None:
        self.startup_grace_s = startup_grace_s
        self.watches: dict[str, Watch] = {}

    def observe(self, name: str, started_at: float, healthy: bool, now: float) -> Verdict:
        """Record one check of the process `name` started at `started_at`."""
        watch = self.watches.get(name)
        if watch is None or watch.started_at != started_at:
            watch = self.watches[name] = Watch(started_at)
        if healthy:
            recovered = watch.failures > 0
            watch.answered, watch.failures = True, 0
            return Verdict(f"=== {name} answers its health check again." if recovered else None)
        grace_s = self.startup_grace_s[name]
        if not watch.answered and now - started_at < grace_s:
            return Verdict()
        watch.failures += 1
        if watch.failures < FAILURES_TO_RESTART:
            return Verdict(f"!!! {name} failed its health check ({watch.failures} in a row).")
        del self.watches[name]
        why = (
            f"failed its health check {FAILURES_TO_RESTART} times in a row"
            if watch.answered
            else f"has not answered its health check in {grace_s:.0f} s since it started"
        )
        return Verdict(f"!!! {name} {why}: restarting it (its whole process group).", True)

    def all_answered(self, names: list[str]) -> bool:
        return all(name in self.watches and self.watches[name].answered for name in names)


def restart(rpc: xmlrpc.client.ServerProxy, name: str) -> None:
    """Stop the program (SIGTERM, then SIGKILL to its group after stopwaitsecs), start it."""
    try:
        rpc.supervisor.stopProcess(name, True)
        rpc.supervisor.startProcess(name, False)
    except xmlrpc.client.Fault as fault:  # it exited meanwhile, or supervisord shuts down
        print(f"!!! {name}: {fault.faultString}", file=sys.stderr, flush=True)


def clear_leftovers(ended: Mapping[str, str]) -> None:
    """Kill what is left of an ended program's process group (its pid was the group's id)."""
    group = int(ended["pid"])
    left = group_members(group)
    if not left:
        return
    with suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)
    print(
        f"!!! {ended['processname']} (pid {group}) left processes {left} behind; killed them "
        "so that its restart gets the port.",
        file=sys.stderr,
        flush=True,
    )


def group_members(group: int) -> list[int]:
    """Return the live processes of a process group (zombies are dead already)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # After the command's closing parenthesis: state, ppid, process group, ...
            state, _, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except OSError:  # it ended while we looked
            continue
        if int(pgrp) == group and state != "Z":
            members.append(int(stat.parent.name))
    return sorted(members)


def announcement(env: Mapping[str, str], after_s: float) -> str:
    """Return the message that says the servers are up and where to go."""
    base = f"http://localhost:{env['HANDOFF_PORT']}"
    return f"""
  All three servers answer ({after_s:.0f} s).

  Website demo with the chat widget   {base}/
  Kiosk                               {base}/kiosk
  Agent console                       {base}/console

  First agent account (asks for a password):
    .venv/bin/python -m handoff_server create-agent alice --role admin

  A server that exits or stops answering is restarted on its own. Ctrl-C stops everything.
"""


def tick(
    watch: HealthWatch,
    rpc: xmlrpc.client.ServerProxy,
    urls: Mapping[str, str],
    check: Callable[[str], bool],
    pool: ThreadPoolExecutor,
) -> None:
    """Check every running program at once; say what changed; restart what must be."""
    try:
        all_info: list[dict[str, Any]] = rpc.supervisor.getAllProcessInfo()  # type: ignore[assignment]
    except xmlrpc.client.Fault:  # supervisord is shutting down
        return
    infos = {info["name"]: info for info in all_info}
    running = [name for name in urls if infos.get(name, {}).get("statename") == RUNNING]
    results = dict(zip(running, pool.map(check, [urls[name] for name in running]), strict=True))
    for name, healthy in results.items():
        info = infos[name]
        verdict = watch.observe(name, float(info["start"]), healthy, float(info["now"]))
        if verdict.message:
            print(verdict.message, file=sys.stderr, flush=True)
        if verdict.restart:
            restart(rpc, name)


def main() -> None:
    """Serve TICK, EXITED and STOPPED events forever."""
    checks = health_checks(os.environ)
    urls = health_urls(os.environ)
    rpc = childutils.getRPCInterface(os.environ)
    watch = HealthWatch({name: check.startup_grace_s for name, check in checks.items()})
    started = time.monotonic()
    announced = False
    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        while True:
            headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
            if headers["eventname"] in ("PROCESS_STATE_EXITED", "PROCESS_STATE_STOPPED"):
                clear_leftovers(childutils.get_headers(payload))
            else:
                tick(watch, rpc, urls, answers, pool)
            if not announced and watch.all_answered(list(urls)):
                announced = True
                print(announcement(os.environ, time.monotonic() - started), file=sys.stderr)
            childutils.listener.ok(sys.stdout)


if __name__ == "__main__":
    main()
