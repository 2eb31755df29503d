"""Put every program's output on the terminal, prefixed with its name; shout on a failure.

A supervisord event listener (PROCESS_LOG and PROCESS_STATE events). supervisord itself
writes a program's output unprefixed, or to files; this listener prints each line as
`rasa    | ...`, and a line starting with `!!!` when a program exits unexpectedly, fails
while starting, or is given up on, then says when it runs again. Its stdout carries
supervisord's event protocol, so it prints to stderr, which supervisord passes to the
terminal.
"""

from __future__ import annotations

import sys
from collections import defaultdict

from supervisor import childutils

NAME_WIDTH = 8


class Terminal:
    """Turn supervisord's events into the lines to print."""

    def __init__(self) -> None:
        self.partial: defaultdict[str, str] = defaultdict(str)
        self.failed: set[str] = set()

    def lines(self, event: str, payload: str) -> list[str]:
        """Return the lines that `event` (a name like PROCESS_LOG_STDOUT) puts on the terminal."""
        if event.startswith("PROCESS_LOG"):
            headers, data = childutils.eventdata(payload)
            return self.output(headers["processname"], data)
        if event.startswith("PROCESS_STATE"):
            return self.state(event.removeprefix("PROCESS_STATE_"), childutils.get_headers(payload))
        return []

    def output(self, name: str, data: str) -> list[str]:
        """Prefix every complete line; keep a line's start until its end arrives."""
        *complete, self.partial[name] = (self.partial[name] + data).split("\n")
        return [self.prefixed(name, line) for line in complete]

    def state(self, state: str, headers: dict[str, str]) -> list[str]:
        """Say loudly what went wrong, and when a program that failed runs again."""
        name = headers["processname"]
        said = [self.prefixed(name, rest) for rest in [self.partial.pop(name, "")] if rest]
        if state == "EXITED" and headers.get("expected") == "0":
            self.failed.add(name)
            said.append(
                f"!!! {name} exited unexpectedly (pid {headers.get('pid')}): supervisord "
                "restarts it. Its last lines above say why."
            )
        elif state == "BACKOFF":
            self.failed.add(name)
            said.append(
                f"!!! {name} stopped while starting (attempt {headers.get('tries')}): "
                "trying again after a pause."
            )
        elif state == "FATAL":
            said.append(
                f"!!! {name} failed to start too many times in a row: it stays down until "
                "`make run` is restarted. Its last lines above say why."
            )
        elif state == "RUNNING" and name in self.failed:
            self.failed.discard(name)
            said.append(f"=== {name} runs again (pid {headers.get('pid')}).")
        return said

    @staticmethod
    def prefixed(name: str, line: str) -> str:
        return f"{name:<{NAME_WIDTH}}| {line}"


def main() -> None:
    """Serve supervisord's events forever."""
    terminal = Terminal()
    while True:
        headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
        for line in terminal.lines(headers["eventname"], payload):
            print(line, file=sys.stderr, flush=True)
        childutils.listener.ok(sys.stdout)


if __name__ == "__main__":
    main()
