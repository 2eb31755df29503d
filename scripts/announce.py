"""Wait until the three servers answer their health checks, then say where to go.

Runs beside the servers under honcho, so it stays up: honcho stops every process
as soon as one exits, which is also how a crash of one server is made loud.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import urllib.request

TIMEOUT_S = 300


def healthy(url: str) -> bool:
    """Return whether the URL answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def main() -> int:
    rasa = os.environ.get("RASA_PORT", "5005")
    actions = os.environ.get("ACTION_SERVER_PORT", "5055")
    handoff = os.environ.get("HANDOFF_PORT", "8000")
    checks = {
        "Rasa server": f"http://127.0.0.1:{rasa}/",
        "action server": f"http://127.0.0.1:{actions}/health",
        "handoff server": f"http://127.0.0.1:{handoff}/healthz",
    }
    started = time.monotonic()
    waiting = dict(checks)
    while waiting:
        if time.monotonic() - started > TIMEOUT_S:
            print(f"NOT READY after {TIMEOUT_S} s: {', '.join(waiting)}", flush=True)
            return 1
        waiting = {name: url for name, url in waiting.items() if not healthy(url)}
        time.sleep(0.5)
    base = f"http://localhost:{handoff}"
    print(
        f"""
  All three servers answer ({time.monotonic() - started:.0f} s).

  Website demo with the chat widget   {base}/
  Kiosk                               {base}/kiosk
  Agent console                       {base}/console

  First agent account (asks for a password):
    .venv/bin/python -m handoff_server create-agent alice --role admin

  Ctrl-C stops everything.
""",
        flush=True,
    )
    signal.pause()
    return 0


if __name__ == "__main__":
    sys.exit(main())
