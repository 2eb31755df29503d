"""The health listener: when it restarts a server, and what a dead server leaves behind."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from supervision.health import (
    FAILURES_TO_RESTART,
    HealthWatch,
    Verdict,
    clear_leftovers,
    group_cpu_s,
    health_urls,
)

STARTED = 1_000.0
STARTUP_GRACE_S = 60.0
TICK_S = 5
# What an idle server's processes use between two ticks (Sanic's manager, gunicorn's master).
IDLE_CPU_S = 0.02
# A server saturated by customers: most of a core.
BUSY_CPU_S = 3.0


def new_watch() -> HealthWatch:
    return HealthWatch({"actions": STARTUP_GRACE_S})


def checks(
    watch: HealthWatch,
    results: list[bool],
    started: float = STARTED,
    cpu_per_tick_s: float = IDLE_CPU_S,
) -> list[Verdict]:
    """Feed one check result per five-second tick, as TICK_5 would, and the CPU time used."""
    return [
        watch.observe(
            "actions",
            started,
            healthy,
            now=started + TICK_S * (tick + 1),
            cpu_s=cpu_per_tick_s * (tick + 1),
        )
        for tick, healthy in enumerate(results)
    ]


def test_an_idle_server_that_stops_answering_is_restarted_after_three_failed_checks():
    verdicts = checks(new_watch(), [True] + [False] * FAILURES_TO_RESTART)

    assert [verdict.restart for verdict in verdicts] == [False, False, False, True]
    assert verdicts[1].message == "!!! actions failed its health check, idle (1)."
    assert verdicts[-1].message is not None and "restarting it" in verdicts[-1].message


def test_one_slow_answer_is_forgiven():
    verdicts = checks(new_watch(), [True, False, False, True, False, False])

    assert not any(verdict.restart for verdict in verdicts)
    assert verdicts[3].message == "=== actions answers its health check again."


def test_a_server_still_loading_is_left_alone_until_the_grace_period_is_over():
    watch = new_watch()
    loading = checks(watch, [False] * 10)  # 50 s
    assert loading == [Verdict()] * 10

    late = STARTED + STARTUP_GRACE_S
    verdicts = [
        watch.observe("actions", STARTED, False, now=late + tick, cpu_s=IDLE_CPU_S)
        for tick in range(3)
    ]
    assert verdicts[-1].restart
    assert verdicts[-1].message is not None and "has not answered" in verdicts[-1].message


def test_a_restarted_process_starts_with_a_clean_slate():
    watch = new_watch()
    checks(watch, [True, False, False])

    # The new process is still loading: its predecessor's failures do not count.
    assert checks(watch, [False, False], started=STARTED + 60) == [Verdict(), Verdict()]


def test_a_busy_server_that_answers_late_is_never_restarted():
    watch = new_watch()
    checks(watch, [True])

    # Saturated by customers, it misses every check for a minute: it is working, not hung.
    busy = [
        watch.observe("actions", STARTED, False, STARTED + TICK_S * tick, BUSY_CPU_S * tick)
        for tick in range(2, 14)
    ]

    assert not any(verdict.restart for verdict in busy)
    assert busy[0].message is not None and "busy" in busy[0].message


def test_a_hung_server_is_restarted_though_it_was_busy_before():
    watch = new_watch()
    checks(watch, [True])
    cpu_s = 0.0
    verdicts = []
    for tick in range(2, 4):  # busy: forgiven
        cpu_s += BUSY_CPU_S
        verdicts.append(watch.observe("actions", STARTED, False, STARTED + TICK_S * tick, cpu_s))
    for tick in range(4, 4 + FAILURES_TO_RESTART):  # then stopped (SIGSTOP) or deadlocked
        cpu_s += IDLE_CPU_S
        verdicts.append(watch.observe("actions", STARTED, False, STARTED + TICK_S * tick, cpu_s))

    assert [verdict.restart for verdict in verdicts] == [False] * 4 + [True]


def test_a_group_whose_worker_ended_does_not_look_busy():
    # The reading falls when a worker exits and nobody in the group collects its time.
    watch = new_watch()
    checks(watch, [True], cpu_per_tick_s=BUSY_CPU_S)
    verdicts = [
        watch.observe("actions", STARTED, False, STARTED + TICK_S * tick, cpu_s=0.5)
        for tick in range(2, 2 + FAILURES_TO_RESTART)
    ]

    assert verdicts[-1].restart


def test_the_cpu_time_of_a_process_group_counts_its_children():
    spinner = subprocess.Popen(
        ["sh", "-c", "sh -c 'while :; do :; done' & wait"], start_new_session=True
    )
    try:
        before = group_cpu_s(spinner.pid)
        deadline = time.monotonic() + 10
        while group_cpu_s(spinner.pid) < before + 0.2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert group_cpu_s(spinner.pid) >= before + 0.2
    finally:
        os.killpg(spinner.pid, 9)
        spinner.wait(timeout=10)


def test_the_urls_are_the_servers_health_routes_on_their_ports():
    urls = health_urls({"RASA_PORT": "1", "ACTION_SERVER_PORT": "2", "HANDOFF_PORT": "3"})
    assert urls == {
        "rasa": "http://127.0.0.1:1/",
        "actions": "http://127.0.0.1:2/health",
        "handoff": "http://127.0.0.1:3/healthz",
    }


def test_the_workers_a_dead_server_left_on_its_port_are_killed(capsys: pytest.CaptureFixture):
    # A group leader that exits at once, leaving a "worker" behind in its process group.
    leader = subprocess.Popen(
        ["sh", "-c", "sleep 60 & echo $!; exec true"],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert leader.stdout is not None
    worker = int(leader.stdout.readline())
    leader.wait(timeout=10)

    clear_leftovers({"processname": "actions", "pid": str(leader.pid)})

    deadline = time.monotonic() + 10
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(worker)
    assert f"left processes [{worker}] behind" in capsys.readouterr().err
    # Once they are gone, nothing more is said.
    clear_leftovers({"processname": "actions", "pid": str(leader.pid)})
    assert capsys.readouterr().err == ""


def test_a_server_that_left_nothing_behind_is_not_mentioned(capsys: pytest.CaptureFixture):
    alone = subprocess.Popen(["true"], start_new_session=True)
    alone.wait(timeout=10)

    clear_leftovers({"processname": "rasa", "pid": str(alone.pid)})

    assert capsys.readouterr().err == ""


def alive(pid: int) -> bool:
    """Tell whether `pid` runs (a zombie has no command line left)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        return bool(cmdline.read())
