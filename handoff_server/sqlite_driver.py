"""The SQLite driver of the handoff server: its blocking calls off gevent's hub, its waits bounded.

gunicorn's gevent worker serves every request and event stream from one OS thread. sqlite3
waits for another writer's lock (its busy timeout) and for the disk inside C, where gevent
cannot switch: run on that thread, one waiting write would stall the whole worker. This
driver runs each statement and commit in gevent's pool of real threads instead, so the wait
holds up only the request that asked. Outside a gevent worker (the command line, the tests)
it calls sqlite3 directly, as SQLAlchemy's own pysqlite driver does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from gevent import get_hub, monkey
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.exc import OperationalError

T = TypeVar("T")

# The URL driver name: sqlite+pysqlite_offhub:///path/to/handoff.db
DRIVERNAME = "sqlite+pysqlite_offhub"


def _off_hub(call: Callable[..., T], *args: Any) -> T:
    """Run `call` in a real thread when gevent runs this process, so other greenlets go on."""
    if not monkey.is_module_patched("threading"):
        return call(*args)
    value, error = get_hub().threadpool.apply(_outcome, (call, args))
    if error is not None:
        raise error
    return value  # type: ignore[no-any-return]


def _outcome(call: Callable[..., T], args: tuple[Any, ...]) -> tuple[T | None, Exception | None]:
    """Return what `call` returns or raises: gevent would print an exception raised in its
    thread pool as an error of its own, though the caller handles it (a busy database)."""
    try:
        return call(*args), None
    except Exception as error:
        return None, error


class OffHubSQLiteDialect(SQLiteDialect_pysqlite):
    """SQLAlchemy's pysqlite dialect, with every call that can wait made off gevent's hub."""

    supports_statement_cache = True

    def do_execute(self, cursor: Any, statement: Any, parameters: Any, context: Any = None) -> None:
        """Execute one statement (a write waits here for the lock) off the hub."""
        _off_hub(cursor.execute, statement, parameters)

    def do_executemany(
        self, cursor: Any, statement: Any, parameters: Any, context: Any = None
    ) -> None:
        """Execute a statement for many rows off the hub."""
        _off_hub(cursor.executemany, statement, parameters)

    def do_execute_no_params(self, cursor: Any, statement: Any, context: Any = None) -> None:
        """Execute a statement without parameters off the hub."""
        _off_hub(cursor.execute, statement)

    def do_commit(self, dbapi_connection: Any) -> None:
        """Commit (the write to disk, a checkpoint now and then) off the hub."""
        _off_hub(dbapi_connection.commit)


registry.register(DRIVERNAME.replace("+", "."), __name__, OffHubSQLiteDialect.__name__)


def set_lock_wait(dbapi_connection: Any, seconds: float) -> None:
    """Make this connection wait at most `seconds` for another writer's lock."""
    # Setting it touches no file, so it waits for nothing and may run on the hub.
    dbapi_connection.execute(f"PRAGMA busy_timeout = {max(0, round(seconds * 1000))}")


def is_busy(error: OperationalError) -> bool:
    """Tell whether SQLite gave up waiting for another connection's lock."""
    code = getattr(error.orig, "sqlite_errorcode", None)
    # Extended codes (SQLITE_BUSY_SNAPSHOT, ...) keep SQLITE_BUSY in their low byte.
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY
