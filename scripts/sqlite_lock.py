"""Hold an SQLite database locked from another process, as a backup or a stuck writer would.

The holder runs `BEGIN EXCLUSIVE` in a process of its own and keeps the transaction open
until told to let go, or until its time is up even if nobody tells it (a crashed test).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_HOLDER = """
import select, sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
select.select([sys.stdin], [], [], float(sys.argv[2]))
connection.execute("ROLLBACK")
"""


@contextmanager
def held_lock(database: Path, max_s: float = 30.0) -> Iterator[None]:
    """Keep `database` locked against every other writer inside the block (at most `max_s`)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(database), str(max_s)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        # BEGIN EXCLUSIVE itself waits for writes in flight (sqlite3's default 5 s).
        if holder.stdout.readline() != "locked\n":
            raise RuntimeError(f"could not lock {database}")
        yield
    finally:
        holder.stdin.close()
        try:
            holder.wait(timeout=10)
        except subprocess.TimeoutExpired:
            holder.kill()
            holder.wait()
