"""Rasa's SQL tracker store, asking the database only for the events it has not read yet.

At every turn Rasa reads the conversation's whole session back from the database: each row
as an ORM object, then each event's JSON. In a 100-turn conversation that was 44% of Rasa's
time (py-spy), and a long conversation's turns grew slower and slower. This store keeps the
events it read of the conversations it served lately (and the last row's id) and asks only
for the rows after them: what this process saved since, or what another Rasa instance did
(the scaled-out stack). Rasa only ever adds rows, and a conversation's rows are written one
turn at a time, under its lock, so what is kept never goes stale. Each tracker gets copies
of the kept events: Rasa sets attributes of the events it is given (their metadata). The copies
are shallow, as `copy.copy` makes them, made directly: a quarter of its cost (6 ms a turn in a
90-turn conversation with `copy.copy`).

Saving, Rasa counts the session's rows to know which of the tracker's events are new (6% of
its time on a FAQ turn); the kept session already says how many there are, unless a row was
added since it was read (the last row's id tells).

On SQLite the database file is put in write-ahead-log mode: a commit then writes and syncs
the log once, where the rollback journal wrote and synced the journal and the file, and
Rasa commits at every turn. It stays as durable; readers no longer wait for a writer. And its
connections are kept in a pool: SQLAlchemy 1.4 gives a SQLite file none, so every read and
every save opened the file and closed it again, and closing the last connection of a
write-ahead log checkpoints it into the file and syncs that (all of it on Rasa's event loop).
"""

from __future__ import annotations

import itertools
import json
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rasa.core.tracker_store import (
    FailSafeTrackerStore,
    InMemoryTrackerStore,
    SQLTrackerStore,
    TrackerStore,
)
from rasa.shared.core.events import Event, SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool, QueuePool

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Events kept, of the conversations served last: about 1.6 KiB each in memory (a 100-turn
# conversation holds 1,035 events), so some 80 MiB.
KEPT_EVENTS = 50_000
# Plain SQL: building an ORM query cost more than running it.
EVENTS_TABLE = SQLTrackerStore.SQLEvent.__tablename__
LAST_ID = text(f"SELECT max(id) FROM {EVENTS_TABLE} WHERE sender_id = :sender_id")
ROWS_AFTER = text(
    f"SELECT id, type_name, data FROM {EVENTS_TABLE} "
    "WHERE sender_id = :sender_id AND id > :last_id ORDER BY id"
)


@dataclass
class KeptSession:
    """The events of a conversation's current session read so far, and the last row's id."""

    last_id: int = 0
    events: list[Event] = field(default_factory=list)


class IncrementalSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that reads each row once; configured as SQLTrackerStore is."""

    engine: Engine

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kept: OrderedDict[str, KeptSession] = OrderedDict()
        self._kept_events = 0
        if self.engine.dialect.name == "sqlite":
            self._keep_sqlite_connections()
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA journal_mode = WAL")

    def _keep_sqlite_connections(self) -> None:
        if isinstance(self.engine.pool, NullPool):
            self.engine.dispose()
            self.engine = create_engine(
                self.engine.url,
                poolclass=QueuePool,
                # Rasa runs the store on its event loop, and may hand it to a thread.
                connect_args={"check_same_thread": False},
            )
            self.sessionmaker = sessionmaker(bind=self.engine)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """Return the conversation's current session, as SQLTrackerStore does."""
        kept = self._read(sender_id)
        if not kept.events or self.domain is None:
            return None
        return DialogueStateTracker.from_events(
            sender_id, [shallow_copy(event) for event in kept.events], self.domain.slots
        )

    def _additional_events(self, session: Session, tracker: DialogueStateTracker) -> Iterator:
        """Return the tracker's events not stored yet, as SQLTrackerStore does."""
        kept = self._kept.get(tracker.sender_id)
        if kept is None or kept.last_id != self._last_id(session, tracker.sender_id):
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, len(kept.events), None)

    def _last_id(self, session: Session, sender_id: str) -> int | None:
        return session.execute(LAST_ID, {"sender_id": sender_id}).scalar()

    def _read(self, sender_id: str) -> KeptSession:
        kept = self._forget(sender_id)
        new: Sequence[Any] = []
        if kept is not None:
            with self.engine.connect() as connection:
                new = connection.execute(
                    ROWS_AFTER, {"sender_id": sender_id, "last_id": kept.last_id}
                ).all()
        # A conversation not kept, or a new session: Rasa's own query says which rows are in
        # the session.
        if kept is None or any(kind == SessionStarted.type_name for _, kind, _ in new):
            kept = KeptSession()
            columns = (self.SQLEvent.id, self.SQLEvent.type_name, self.SQLEvent.data)
            with self.session_scope() as session:
                new = (
                    self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
                    .with_entities(*columns)
                    .all()
                )
        if new:
            kept.last_id = new[-1][0]
            kept.events += deserialise_events([json.loads(data) for _, _, data in new])
        if kept.events:
            self._kept[sender_id] = kept
            self._kept_events += len(kept.events)
            while self._kept_events > KEPT_EVENTS:
                self._forget(next(iter(self._kept)))
        return kept

    def _forget(self, sender_id: str) -> KeptSession | None:
        kept = self._kept.pop(sender_id, None)
        if kept is not None:
            self._kept_events -= len(kept.events)
        return kept


def shallow_copy(event: Event) -> Event:
    """Return a copy of `event` sharing its attributes' values, as `copy.copy` does."""
    clone = object.__new__(type(event))
    clone.__dict__.update(event.__dict__)
    return clone


class NoTrackerDatabase(RuntimeError):
    """Rasa would keep the conversations in memory only: lost at its next restart."""


def require_a_database(store: TrackerStore) -> None:
    """Refuse to serve when Rasa's tracker store is its in-memory one.

    Rasa falls back to it, with a mere warning, when the configured store's class cannot be
    imported (`_load_from_module_name_in_endpoint_config`): a typo in `bot/endpoints.yml` or
    a broken import would lose every conversation at the next restart, silently.
    """
    # The agent wraps the configured store; the wrapper names it only privately.
    configured = store._tracker_store if isinstance(store, FailSafeTrackerStore) else store
    if isinstance(configured, InMemoryTrackerStore):
        raise NoTrackerDatabase(
            "Rasa's tracker store is in memory: conversations would be lost at every restart. "
            "Check tracker_store in bot/endpoints.yml and that its class imports."
        )
