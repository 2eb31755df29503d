"""Take SQLite's write lock without stalling gevent's hub, and give up on it in time.

gunicorn's gevent worker serves every request and event stream from one OS thread. sqlite3
waits for another connection's write lock (its busy timeout) inside C, where gevent cannot
switch: on that thread, one waiting write would stall the whole worker. So a write
transaction takes the lock first, with BEGIN IMMEDIATE: at once when it is free, else in
gevent's pool of real threads, where the wait holds up only the greenlet that asked. Once a
transaction holds the lock, its statements and its commit wait for nobody (in WAL mode
readers never block a writer) and run on the hub as before, in one go. Outside a gevent
worker (the command line, the tests) the wait simply blocks the caller.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from gevent import get_hub, monkey

T = TypeVar("T")


def set_lock_wait(dbapi_connection: Any, seconds: float) -> None:
    """Make this connection wait at most `seconds` for another connection's lock."""
    # Setting it touches no file, so it waits for nothing.
    dbapi_connection.execute(f"PRAGMA busy_timeout = {max(0, round(seconds * 1000))}")


def begin_immediate(dbapi_connection: Any, wait_s: float) -> None:
    """Begin a transaction that holds the write lock, waiting at most `wait_s` for it.

    Raise sqlite3's "database is locked" (see is_busy) when the wait is in vain.
    """
    set_lock_wait(dbapi_connection, 0)
    try:
        dbapi_connection.execute("BEGIN IMMEDIATE")
        return
    except sqlite3.OperationalError as error:
        if not is_busy(error):
            raise
    set_lock_wait(dbapi_connection, wait_s)
    _off_hub(dbapi_connection.execute, "BEGIN IMMEDIATE")


def is_busy(error: BaseException) -> bool:
    """Tell whether SQLite gave up waiting for another connection's lock (SQLAlchemy's
    wrapper of the error included)."""
    code = getattr(getattr(error, "orig", error), "sqlite_errorcode", None)
    # Extended codes (SQLITE_BUSY_SNAPSHOT, ...) keep SQLITE_BUSY in their low byte.
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


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
