"""Define the handoff database's tables, open it, and run its migrations."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL, Connection, Engine, make_url

from handoff_server import sqlite_writes
from handoff_server.domain_errors import Busy
from handoff_server.settings import DEFAULT_DB_LOCK_TIMEOUT_S, REPO_ROOT

T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
OPEN_STATES = ("queued", "assigned")
# An unanswered question is open until taught to an FAQ or dismissed as no gap.
QUESTION_STATUSES = ("open", "taught", "dismissed")

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Times are Unix seconds (Double) so SQLite and PostgreSQL store and compare them alike.

agents = sa.Table(
    "agents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(120), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("team", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("last_seen_at", sa.Double),
    # A deactivated account cannot sign in, and its tokens stop working at once.
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    # Tokens signed before this time (a password reset) no longer work.
    sa.Column("tokens_valid_after", sa.Double),
)

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # Rasa's conversation (sender) id; the API calls it conversation_id.
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("page_url", sa.Text),
    sa.Column("kiosk_id", sa.String(255)),
    sa.Column("kiosk_location", sa.String(255)),
    sa.Column("locale", sa.String(35)),
    sa.Column("customer_name", sa.String(255)),
    sa.Column("customer_email", sa.String(255)),
    sa.Column("customer_phone", sa.String(64)),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("sentiment", sa.Double),
    sa.Column("summary", sa.Text),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("team", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("assignee_id", sa.Integer, sa.ForeignKey("agents.id")),
    sa.Column("last_seq", sa.Integer, nullable=False),
    # The queue position the customer was last told, so only real moves are pushed.
    sa.Column("notified_position", sa.Integer),
    sa.Column("offline_contact", sa.String(255)),
    sa.Column("rating", sa.Integer),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("assigned_at", sa.Double),
    sa.Column("closed_at", sa.Double),
    sa.Index("ix_conversations_queue", "state", "priority", "created_at"),
    # The median wait reads the most recently claimed conversations.
    sa.Index("ix_conversations_assigned_at", "assigned_at"),
    # Reports read conversations by day; the customer card finds a customer's earlier ones.
    sa.Index("ix_conversations_created_at", "created_at"),
    sa.Index("ix_conversations_sender_id", "sender_id"),
    # At most one open handoff per Rasa conversation: repeated POSTs return it.
    sa.Index(
        "uq_conversations_open_sender",
        "sender_id",
        unique=True,
        sqlite_where=sa.text("state IN ('queued', 'assigned')"),
        postgresql_where=sa.text("state IN ('queued', 'assigned')"),
    ),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id")),
    sa.Column("idempotency_key", sa.String(255)),
    sa.Column("intent", sa.String(255)),
    sa.Column("confidence", sa.Double),
    sa.Column("sentiment", sa.Double),
    sa.Column("faq_hits", sa.JSON),
    # A customer message that reached the conversation after an agent resolved it.
    sa.Column("late", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.UniqueConstraint("conversation_id", "seq"),
    sa.UniqueConstraint("conversation_id", "idempotency_key"),
)

notes = sa.Table(
    "notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id"), nullable=False),
    sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Index("ix_notes_conversation_id", "conversation_id"),
)

transitions = sa.Table(
    "transitions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id"), nullable=False),
    sa.Column("from_state", sa.String(16), nullable=False),
    sa.Column("to_state", sa.String(16), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    # What the step did beyond its states, such as "transferred to Bob Baker".
    sa.Column("detail", sa.String(255)),
    sa.Index("ix_transitions_conversation_id", "conversation_id"),
)

# Questions the bot could not answer (no FAQ fit, or the customer rejected every
# suggestion): the raw material of the FAQ gaps report.
unanswered_questions = sa.Table(
    "unanswered_questions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("suggestions", sa.JSON, nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="open"),
    # The FAQ engine's embedding of the text (int8 steps), to group alike questions.
    sa.Column("embedding", sa.JSON),
    sa.Index("ix_unanswered_questions_created_at", "created_at"),
    sa.Index("ix_unanswered_questions_status", "status"),
)

# Every FAQ decision of the bot (answer, suggest, none): what reports count the conversations
# the bot served, and its answer/suggest/don't-know shares, from. No customer text.
faq_decisions = sa.Table(
    "faq_decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("faq_id", sa.String(255)),
    sa.Column("created_at", sa.Double, nullable=False),
    # Covers the reports' queries: they read these three columns over a range of days.
    sa.Index("ix_faq_decisions_reports", "created_at", "kind", "sender_id"),
    sa.Index("ix_faq_decisions_sender_id", "sender_id"),
)

# Paraphrases supervisors taught to FAQs: the one record every action server learns from.
# Writers are serialized (Database.write), so ids commit in order and serve as a cursor.
taught_paraphrases = sa.Table(
    "taught_paraphrases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("faq_id", sa.String(255), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("question_id", sa.Integer, sa.ForeignKey("unanswered_questions.id")),
    sa.Column("taught_by", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
)

# Replies agents insert by typing `/` and a shortcut; supervisors keep them.
canned_responses = sa.Table(
    "canned_responses",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shortcut", sa.String(32), nullable=False, unique=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),
)

# The agents' event stream, replayed from here after a reconnect or a restart.
events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
)

# One row: the last event id. Every write transaction locks it first (see Database.write).
event_sequence = sa.Table(
    "event_sequence",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("last_event_id", sa.Integer, nullable=False),
)

# Pushes to the customer through Rasa, kept until Rasa has accepted them.
outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id"), nullable=False),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("intent", sa.String(64), nullable=False),
    sa.Column("entities", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("lease_until", sa.Double),
    sa.Column("next_attempt_at", sa.Double, nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("delivered_at", sa.Double),
    sa.Index("ix_outbox_status", "status"),
)


def resolve_url(database_url: str) -> URL:
    """Read a DATABASE_URL: relative SQLite paths are relative to the repository root."""
    url = make_url(database_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        url = url.set(database=str(path if path.is_absolute() else REPO_ROOT / path))
    return url


def make_engine(database_url: str, lock_timeout_s: float = DEFAULT_DB_LOCK_TIMEOUT_S) -> Engine:
    """Open the database named by `database_url`, creating a SQLite file's folder.

    On SQLite a connection waits at most `lock_timeout_s` for another one's lock.
    """
    url = resolve_url(database_url)
    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url)

    @sa.event.listens_for(engine, "connect")
    def configure(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        # WAL lets requests and event streams read while another connection writes.
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()
        sqlite_writes.set_lock_wait(dbapi_connection, lock_timeout_s)

    return engine


def migrate(engine: Engine) -> str:
    """Upgrade the schema to the newest migration and return its revision."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        return str(connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar())


class ChangeSignal:
    """Wake event streams when a write transaction commits."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self.generation = 0
        # Tells other processes (event_bus.py) of this one's commits; None: one process.
        self.relay: Callable[[], None] | None = None

    def notify(self) -> None:
        """Tell every waiting stream of this process that something changed."""
        with self._condition:
            self.generation += 1
            self._condition.notify_all()

    def announce(self) -> None:
        """Tell every waiting stream, of this process and through the relay of all others."""
        self.notify()
        if self.relay is not None:
            self.relay()

    def wait(self, seen_generation: int, timeout: float) -> None:
        """Wait until a change after `seen_generation`, or `timeout` seconds."""
        with self._condition:
            self._condition.wait_for(lambda: self.generation != seen_generation, timeout)


class CommittedCache:
    """Reuse what is computed from committed rows until a write records a newer event."""

    def __init__(self) -> None:
        self._event_id = -1
        self._entries: dict[tuple[Callable[..., Any], tuple[Hashable, ...]], Any] = {}

    def get(self, conn: Connection, compute: Callable[..., T], *args: Hashable) -> T:
        """Return compute(conn, *args), from memory while no write has committed since it ran."""
        # Every write of what readers see records an event in its transaction, so the last
        # event id names the committed state, other processes' writes included. It is read
        # first, so a value computed after it is never older than its key.
        event_id = conn.execute(sa.select(event_sequence.c.last_event_id)).scalar_one()
        if event_id > self._event_id:
            self._event_id = event_id
            self._entries.clear()
        key = (compute, args)
        if event_id == self._event_id and key in self._entries:
            return self._entries[key]  # type: ignore[no-any-return]
        value = compute(conn, *args)
        if event_id == self._event_id:
            self._entries[key] = value
        return value


class Database:
    """The engine plus the write discipline every store function follows."""

    def __init__(self, engine: Engine, lock_timeout_s: float = DEFAULT_DB_LOCK_TIMEOUT_S) -> None:
        self.engine = engine
        self.lock_timeout_s = lock_timeout_s
        self.changed = ChangeSignal()
        self.committed = CommittedCache()
        # This process's writers queue here, holding no connection or thread, rather than
        # all waiting at SQLite's lock (gevent makes this lock a greenlet's).
        self._writer = threading.Lock()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """Open a connection for reading."""
        with self.engine.connect() as connection:
            yield connection

    @contextmanager
    def transaction(self, wait_s: float | None = None) -> Iterator[Connection]:
        """Run one write transaction that waits at most `wait_s` (default: the configured
        wait) for the database; raise Busy, with nothing stored, when it waits in vain."""
        wait_s = self.lock_timeout_s if wait_s is None else wait_s
        deadline = time.monotonic() + wait_s
        if not self._writer.acquire(timeout=wait_s):
            raise self._busy()
        try:
            with self.engine.connect() as connection, connection.begin():
                if connection.dialect.name == "sqlite":
                    self._take_sqlite_lock(connection, deadline - time.monotonic())
                yield connection
        except Exception as error:
            if sqlite_writes.is_busy(error):
                raise self._busy() from error
            raise
        finally:
            self._writer.release()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """Run one write transaction, serialized with every other writer."""
        with self.transaction() as connection:
            # Locking the event counter first serializes writers on PostgreSQL as SQLite does
            # anyway: event ids then commit in order (a stream never skips a late id) and queue
            # positions are computed on a queue nobody else is changing.
            connection.execute(
                sa.update(event_sequence)
                .where(event_sequence.c.id == 1)
                .values(last_event_id=event_sequence.c.last_event_id)
            )
            yield connection
        self.changed.announce()

    def _take_sqlite_lock(self, connection: Connection, wait_s: float) -> None:
        """Hold SQLite's write lock for the transaction, waiting off gevent's hub if need be."""
        raw = connection.connection.driver_connection
        try:
            sqlite_writes.begin_immediate(raw, wait_s)
        finally:
            # Readers and migrations wait as configured.
            sqlite_writes.set_lock_wait(raw, self.lock_timeout_s)

    def _busy(self) -> Busy:
        return Busy(retry_after_s=max(1, math.ceil(self.lock_timeout_s)))
