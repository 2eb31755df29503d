"""Keep each server answering: a supervisord event listener.

supervisord restarts a process that exits. It cannot see one that hangs, or whose worker
died while the parent keeps the port (rasa-sdk's Sanic and gunicorn serve from worker
processes): connections then wait in the port's backlog and nobody answers. On every
TICK_5 event this listener asks each server's health route, with a short timeout, and
after FAILURES_TO_RESTART failed checks restarts that program through supervisord (which
stops its whole process group); a program that has not answered once since it started is
restarted when its startup grace is over. A busy server answers late and a hung one never,
and both fail the check: a failed check counts only when the program's process group also
used (next to) no CPU since the check before, so a server saturated by customers is left
to work, and a stopped or deadlocked one is restarted.

The other way round, a parent that dies leaves its workers holding the port, and the
restarted server could never bind it: on PROCESS_STATE_EXITED and PROCESS_STATE_STOPPED
this listener kills what is left of the process's group. It also says, once, when all
servers first answer and where to go.
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

from supervision.programs import programs

# A healthy idle server answers at once. A busy one may not (Rasa under 200 customers
# answered late), but a late answer from a program that is using the CPU does not count.
CHECK_TIMEOUT_S = 3.0
# Three idle failed checks, with no answer between: a server stalled for 15 s or more.
FAILURES_TO_RESTART = 3
# The share of one core below which a program that does not answer is idle, not busy: an
# idle server's processes use under 1% (Sanic's manager and gunicorn's master keep
# ticking, also while the worker that should answer is stopped); a saturated one most of
# a core, or whatever the machine leaves it.
BUSY_CPU_SHARE = 0.05
RUNNING = "RUNNING"


class Check(NamedTuple):
    """A program's health route, and how long it may take to answer after it starts."""

    url: str
    startup_grace_s: float


def health_checks(env: Mapping[str, str]) -> dict[str, Check]:
    """Return each program's check, by its name in the supervisord configuration."""
    return {
        program.name: Check(program.health_url, program.startup_grace_s)
        for program in programs(env)
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
    # The group's CPU time at the last check, and when that was: at the start, none.
    cpu_s: float = 0.0
    checked_at: float | None = None

    def busy(self, now: float, cpu_s: float) -> float | None:
        """Record a check's CPU reading; return the CPU time used since the last one if busy."""
        since = self.started_at if self.checked_at is None else self.checked_at
        # A worker that ended and that no one in the group collected takes its time along.
        used_s = max(0.0, cpu_s - self.cpu_s)
        self.cpu_s, self.checked_at = cpu_s, now
        busy = used_s > 0 and used_s >= BUSY_CPU_SHARE * (now - since)
        return used_s if busy else None


class Verdict(NamedTuple):
    """What one check leads to: a line to print, if any, and whether to restart."""

    message: str | None = None
    restart: bool = False


class HealthWatch:
    """Decide from check results, tick by tick, which programs to restart."""

    def __init__(self, startup_grace_s: Mapping[str, float]) -> None:
        self.startup_grace_s = startup_grace_s
        self.watches: dict[str, Watch] = {}

    def observe(
        self, name: str, started_at: float, healthy: bool, now: float, cpu_s: float
    ) -> Verdict:
        """Record one check of the process `name` started at `started_at`.

        `cpu_s` is the CPU time its process group has used so far, read after the check.
        """
        watch = self.watches.get(name)
        if watch is None or watch.started_at != started_at:
            watch = self.watches[name] = Watch(started_at)
        busy_s = watch.busy(now, cpu_s)
        if healthy:
            recovered = watch.failures > 0
            watch.answered, watch.failures = True, 0
            return Verdict(f"=== {name} answers its health check again." if recovered else None)
        grace_s = self.startup_grace_s[name]
        if not watch.answered and now - started_at < grace_s:
            return Verdict()
        if busy_s is not None:
            return Verdict(
                f"!!! {name} did not answer its health check in {CHECK_TIMEOUT_S:.0f} s but is"
                f" busy ({busy_s:.1f} s of CPU since the last check): left to work."
            )
        watch.failures += 1
        if watch.failures < FAILURES_TO_RESTART:
            return Verdict(f"!!! {name} failed its health check, idle ({watch.failures}).")
        del self.watches[name]
        why = (
            f"failed its health check {FAILURES_TO_RESTART} times, idle"
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


class ProcessStat(NamedTuple):
    """What /proc/PID/stat says of one process."""

    pid: int
    state: str
    group: int
    # Clock ticks of user and system time, its own and its collected children's.
    cpu_ticks: int


def process_stats() -> list[ProcessStat]:
    """Read /proc/PID/stat of every process."""
    stats = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # After the command's closing parenthesis: state, ppid, process group, ...
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # it ended while we looked
            continue
        # utime, stime, cutime, cstime (proc(5): fields 14 to 17).
        ticks = sum(int(field) for field in fields[11:15])
        stats.append(ProcessStat(int(stat.parent.name), fields[0], int(fields[2]), ticks))
    return stats


def group_members(group: int) -> list[int]:
    """Return the live processes of a process group (zombies are dead already)."""
    return sorted(stat.pid for stat in process_stats() if stat.group == group and stat.state != "Z")


def group_cpu_s(group: int) -> float:
    """Return the CPU time a process group's processes and their collected children used."""
    ticks = sum(stat.cpu_ticks for stat in process_stats() if stat.group == group)
    return ticks / os.sysconf("SC_CLK_TCK")


def announcement(env: Mapping[str, str], after_s: float) -> str:
    """Return the message that says the servers are up and where to go."""
    base = f"http://localhost:{env.get('PROXY_PORT') or env['HANDOFF_PORT']}"
    return f"""
  All {len(health_checks(env))} servers answer ({after_s:.0f} s).

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
    cpu_of_group: Callable[[int], float] = group_cpu_s,
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
        # supervisord starts each program as the leader of its own process group.
        cpu_s = cpu_of_group(int(info["pid"]))
        verdict = watch.observe(name, float(info["start"]), healthy, float(info["now"]), cpu_s)
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
