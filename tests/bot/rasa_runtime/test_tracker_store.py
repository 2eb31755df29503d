"""bot/tracker_store.py under Rasa's own runtime: conversations read back as Rasa's store
reads them, on a SQLite file of the test's own."""

from __future__ import annotations

import asyncio
import copy
import tempfile
import unittest
from pathlib import Path
from unittest import mock

import sqlalchemy as sa
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore, SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import (
    IncrementalSQLTrackerStore,
    NoTrackerDatabase,
    require_a_database,
    shallow_copy,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
DOMAIN = Domain.load(str(REPO_ROOT / "bot" / "domain.yml"))
SENDER = "customer-1"


def turn(number: int) -> list[Event]:
    return [
        UserUttered(f"question {number}", {"name": "nlu_fallback"}),
        ActionExecuted("action_answer_faq"),
        BotUttered(f"answer {number}"),
        ActionExecuted(ACTION_LISTEN_NAME),
    ]


def new_session() -> list[Event]:
    return [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted()]


class IncrementalSQLTrackerStoreTest(unittest.TestCase):
    def setUp(self) -> None:
        self.folder = tempfile.TemporaryDirectory()
        self.url = f"sqlite:///{self.folder.name}/rasa.db"
        self.store = self.instance()

    def tearDown(self) -> None:
        self.folder.cleanup()

    def instance(self) -> IncrementalSQLTrackerStore:
        """A store as one Rasa instance has it, on the test's database."""
        return IncrementalSQLTrackerStore(domain=DOMAIN, host=self.url)

    def add(self, store: SQLTrackerStore, events: list[Event], sender: str = SENDER) -> None:
        """Add events to a conversation through `store`, as a turn of Rasa does."""
        tracker = asyncio.run(store.retrieve(sender)) or DialogueStateTracker(sender, DOMAIN.slots)
        for event in events:
            tracker.update(event)
        asyncio.run(store.save(tracker))

    def read(self, store: SQLTrackerStore, sender: str = SENDER) -> list[dict]:
        tracker = asyncio.run(store.retrieve(sender))
        assert tracker is not None
        return [event.as_dict() for event in tracker.events]

    def rasas_own_read(self, sender: str = SENDER) -> list[dict]:
        return self.read(SQLTrackerStore(domain=DOMAIN, host=self.url), sender)

    def test_a_conversation_reads_back_as_rasas_store_reads_it_turn_after_turn(self) -> None:
        self.add(self.store, new_session())
        for number in range(20):
            self.add(self.store, turn(number))
            self.assertEqual(self.read(self.store), self.rasas_own_read())
        said = [event["text"] for event in self.read(self.store) if event["event"] == "user"]
        self.assertEqual(said, [f"question {number}" for number in range(20)])

    def test_rows_once_read_are_not_read_again(self) -> None:
        self.add(self.store, new_session() + turn(1))
        before = self.read(self.store)
        # Were the store to read the first row again, it would not get the event back.
        with sa.create_engine(self.url).begin() as connection:
            connection.execute(sa.text("UPDATE events SET data = 'not json' WHERE id = 1"))
        second = turn(2)
        self.add(self.store, second)
        self.assertEqual(self.read(self.store), before + [event.as_dict() for event in second])

    def test_what_rasa_changes_in_a_tracker_is_not_kept(self) -> None:
        self.add(self.store, new_session() + turn(1))
        tracker = asyncio.run(self.store.retrieve(SENDER))
        assert tracker is not None
        tracker.events[-1].metadata = {"changed": True}
        self.assertEqual(self.read(self.store), self.rasas_own_read())

    def test_what_another_instance_saved_is_read_too(self) -> None:
        other = self.instance()
        self.add(self.store, new_session() + turn(1))
        self.read(self.store)
        self.add(other, [*turn(2), SlotSet("handoff_active", True)])
        tracker = asyncio.run(self.store.retrieve(SENDER))
        assert tracker is not None
        self.assertTrue(tracker.get_slot("handoff_active"))
        self.assertEqual(self.read(self.store), self.rasas_own_read())

    def test_the_copies_handed_out_are_copy_copys_own(self) -> None:
        for event in [*new_session(), *turn(1), SlotSet("faq_result", {"kind": "answer"})]:
            clone = shallow_copy(event)
            self.assertIsNot(clone, event)
            self.assertIs(type(clone), type(event))
            self.assertEqual(clone.__dict__, copy.copy(event).__dict__)

    def test_a_new_session_starts_the_conversation_afresh(self) -> None:
        self.add(self.store, new_session() + turn(1) + turn(2))
        self.read(self.store)
        self.add(self.store, new_session() + turn(3))
        self.assertEqual(self.read(self.store), self.rasas_own_read())
        said = [event["text"] for event in self.read(self.store) if event["event"] == "user"]
        self.assertEqual(said, ["question 3"])

    def test_past_its_bound_the_store_forgets_the_conversations_served_longest_ago(self) -> None:
        senders = [f"customer-{number}" for number in range(3)]
        with mock.patch("bot.tracker_store.KEPT_EVENTS", 12):
            for sender in senders:
                self.add(self.store, new_session() + turn(1) + turn(2), sender)
                self.read(self.store, sender)
            self.assertLessEqual(self.store._kept_events, 12)
            for sender in senders:
                self.assertEqual(self.read(self.store, sender), self.rasas_own_read(sender))

    def test_a_turn_of_a_conversation_it_holds_is_saved_without_counting_the_rows(self) -> None:
        self.add(self.store, new_session() + turn(1))
        with mock.patch.object(
            SQLTrackerStore, "_additional_events", side_effect=AssertionError("counted")
        ):
            self.add(self.store, turn(2))
        self.assertEqual(self.read(self.store), self.rasas_own_read())

    def test_rows_another_instance_added_since_the_read_are_counted(self) -> None:
        # A tracker saved by a store whose read is stale (no lock held): the store does as
        # Rasa's own does, it counts the rows, and writes exactly what Rasa's would.
        first, second, third = new_session() + turn(1), turn(2), turn(3)
        rasas = SQLTrackerStore(domain=DOMAIN, host=f"sqlite:///{self.folder.name}/rasa2.db")
        for store in (self.store, rasas):
            self.add(store, first)
        stale = asyncio.run(self.store.retrieve(SENDER))
        assert stale is not None
        for event in third:
            stale.update(event)
        self.add(self.instance(), second)
        self.add(rasas, second)
        for store in (self.store, rasas):
            asyncio.run(store.save(stale))
        self.assertEqual(self.rasas_own_read(), self.read(rasas))

    def test_the_sqlite_file_is_in_write_ahead_log_mode(self) -> None:
        with sa.create_engine(self.url).connect() as connection:
            mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        self.assertEqual(mode, "wal")

    def test_turns_reuse_the_stores_connections_to_the_sqlite_file(self) -> None:
        # Opening the file at every read and save also checkpointed the write-ahead log
        # at every close, on Rasa's event loop.
        self.add(self.store, new_session() + turn(1))
        opened: list[object] = []
        sa.event.listen(self.store.engine, "connect", lambda *_: opened.append(_))
        for number in range(2, 6):
            self.add(self.store, turn(number))
        self.assertEqual(opened, [])
        self.assertEqual(self.read(self.store), self.rasas_own_read())

    def test_an_unknown_conversation_is_none(self) -> None:
        self.assertIsNone(asyncio.run(self.store.retrieve("nobody")))


class RequiringADatabase(unittest.TestCase):
    def test_rasa_refuses_to_serve_on_the_store_it_falls_back_to_when_ours_fails_to_import(
        self,
    ) -> None:
        with self.assertRaisesRegex(NoTrackerDatabase, "bot/endpoints.yml"):
            require_a_database(FailSafeTrackerStore(InMemoryTrackerStore(DOMAIN)))

    def test_a_database_store_serves(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            store = IncrementalSQLTrackerStore(domain=DOMAIN, host=f"sqlite:///{folder}/rasa.db")
            require_a_database(FailSafeTrackerStore(store))
