"""Measure how the supervised stack recovers from faults: `python -m scripts.recovery_times`.

On a private stack (scripts/stack.py, as `make run` runs it) it times how long a customer
waits for the failsafe's message when the action server hangs, then, for each fault, the
time from the signal until another process answers the server's health check. Each fault
waits for the previous recovery plus a pause, so the supervisor has seen the server healthy.
Figures are wall-clock on a shared machine: read them as orders of magnitude.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import requests

from scripts.stack import Stack, parent_of, running_stack, serving_process
from supervision.health import answers, health_urls

RECOVERY_TIMEOUT_S = 300
# Longer than the health listener's tick, so it has seen the restarted server answer.
SETTLE_S = 12


def wait_until(condition: Callable[[], bool], timeout_s: float = RECOVERY_TIMEOUT_S) -> float:
    """Return the seconds until `condition` holds; raise TimeoutError past `timeout_s`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout_s:
            raise TimeoutError(f"not within {timeout_s} s")
        time.sleep(0.2)
    return time.monotonic() - started


def served_by_another(port: str, url: str, old: set[int]) -> Callable[[], bool]:
    """Return a condition: a process not in `old` serves `port`, and `url` answers."""

    def check() -> bool:
        try:
            return serving_process(port) not in old and answers(url)
        except LookupError:
            return False

    return check


def failsafe_wait(stack: Stack) -> float:
    """Stop the action server's worker; time a REST customer's wait for the reply."""
    worker = serving_process(stack.env["ACTION_SERVER_PORT"])
    os.kill(worker, signal.SIGSTOP)
    started = time.monotonic()
    reply = requests.post(
        f"{stack.rasa_url}/webhooks/rest/webhook",
        json={"sender": uuid.uuid4().hex, "message": "how do I get on the wifi?"},
        timeout=120,
    ).json()
    waited = time.monotonic() - started
    print(f"  reply after {waited:.1f} s: {reply[0]['text'][:70]!r}...")
    return waited


def recovery(stack: Stack, program: str, sig: signal.Signals, target: str) -> float:
    """Send `sig` to the server's serving process or its parent; time until it answers again."""
    url = health_urls(stack.env)[program]
    port = str(urlsplit(url).port)
    wait_until(lambda: answers(url))
    time.sleep(SETTLE_S)
    serving = serving_process(port)
    victim = serving if target == "serving" else parent_of(serving) or serving
    os.kill(victim, sig)
    return wait_until(served_by_another(port, url, {serving, victim}))


def main() -> None:
    faults = [
        ("actions", signal.SIGKILL, "serving"),
        ("actions", signal.SIGSTOP, "serving"),
        ("actions", signal.SIGKILL, "parent"),
        ("rasa", signal.SIGKILL, "serving"),
        ("handoff", signal.SIGKILL, "serving"),
        ("handoff", signal.SIGKILL, "parent"),
    ]
    with tempfile.TemporaryDirectory() as workdir, running_stack(Path(workdir)) as stack:
        print("A hung action server (SIGSTOP of its worker), a customer asks a question:")
        failsafe = failsafe_wait(stack)
        wait_until(stack.healthy)
        rows = [("customer told (action server hung)", failsafe)]
        for program, sig, target in faults:
            seconds = recovery(stack, program, sig, target)
            label = f"{program}: {sig.name} of the {target} process"
            print(f"  {label}: answering again after {seconds:.1f} s")
            rows.append((f"{label} -> answering again", seconds))
    print("\n| what | seconds |\n|---|---|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
