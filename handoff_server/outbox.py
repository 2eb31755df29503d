"""Store pushes to customers and deliver each through Rasa exactly once, retrying failures."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from handoff_server.db import Database, outbox
from handoff_server.rasa_client import IntentTrigger, RasaUnavailable

AGENT_MESSAGE = "EXTERNAL_agent_message"
AGENT_JOINED = "EXTERNAL_agent_joined"
QUEUE_UPDATE = "EXTERNAL_queue_update"
HANDOFF_RESOLVED = "EXTERNAL_handoff_resolved"

# Longer than RasaClient's timeouts, so a lease never lapses while its delivery is in flight.
LEASE_S = 60.0
MAX_BACKOFF_S = 60.0

log = logging.getLogger(__name__)


def push(
    conn: Connection,
    conversation_id: int,
    sender_id: str,
    intent: str,
    entities: dict[str, Any],
    now: float,
) -> None:
    """Queue a push to the customer, inside the transaction that caused it."""
    # Anything newer makes an undelivered queue update stale; the customer needs only the latest.
    conn.execute(
        outbox.update()
        .where(outbox.c.sender_id == sender_id)
        .where(outbox.c.intent == QUEUE_UPDATE)
        .where(outbox.c.status == "pending")
        .where(sa.or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now))
        .values(status="superseded")
    )
    conn.execute(
        outbox.insert().values(
            conversation_id=conversation_id,
            sender_id=sender_id,
            intent=intent,
            entities=entities,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )


class Outbox:
    """Deliver pending pushes in order per conversation, never twice once Rasa accepted one."""

    def __init__(self, db: Database, rasa: IntentTrigger, *, poll_s: float = 1.0) -> None:
        self.db = db
        self.rasa = rasa
        self.poll_s = poll_s
        self._stopped = threading.Event()
        self._wakeup = threading.Event()

    def deliver_due(self, now: float | None = None) -> int:
        """Run one delivery pass over every conversation with a due push; return how many went."""
        now = time.time() if now is None else now
        with self.db.read() as conn:
            pending = conn.execute(
                sa.select(outbox.c.sender_id, outbox.c.next_attempt_at)
                .where(outbox.c.status == "pending")
                .order_by(outbox.c.id)
            ).all()
        # A conversation is due when its oldest push is: later ones wait behind it, in order.
        oldest: dict[str, float] = {}
        for sender_id, next_attempt_at in pending:
            oldest.setdefault(sender_id, next_attempt_at)
        delivered = 0
        for sender_id in sorted(oldest, key=oldest.__getitem__):
            if oldest[sender_id] > now:
                continue
            count, reached_rasa = self._deliver_conversation(sender_id, now)
            delivered += count
            if not reached_rasa:
                # Rasa is most likely down: leave the rest to the next pass instead of
                # waiting out a timeout per conversation.
                break
        return delivered

    def deliver_for(self, conversation_id: int, now: float | None = None) -> int:
        """Deliver the due pushes to one conversation's customer; return how many went."""
        now = time.time() if now is None else now
        with self.db.read() as conn:
            senders = (
                conn.execute(
                    sa.select(outbox.c.sender_id)
                    .where(outbox.c.conversation_id == conversation_id)
                    .where(outbox.c.status == "pending")
                    .distinct()
                )
                .scalars()
                .all()
            )
        return sum(self._deliver_conversation(sender_id, now)[0] for sender_id in senders)

    def _deliver_conversation(self, sender_id: str, now: float) -> tuple[int, bool]:
        delivered = 0
        while (row := self._lease_next(sender_id, now)) is not None:
            try:
                self.rasa.trigger_intent(sender_id, row.intent, row.entities)
            except RasaUnavailable as error:
                log.warning("push %s failed (attempt %d): %s", row.id, row.attempts + 1, error)
                self._record_failure(row, str(error), now)
                return delivered, False
            self._record_delivery(row)
            delivered += 1
        return delivered, True

    def _lease_next(self, sender_id: str, now: float) -> Row[Any] | None:
        """Take the conversation's oldest pending push, unless another deliverer holds it."""
        with self.db.transaction() as conn:
            row = conn.execute(
                sa.select(outbox)
                .where(outbox.c.sender_id == sender_id)
                .where(outbox.c.status == "pending")
                .order_by(outbox.c.id)
                .limit(1)
            ).first()
            if row is None or row.next_attempt_at > now:
                return None
            leased = conn.execute(
                outbox.update()
                .where(outbox.c.id == row.id)
                .where(outbox.c.status == "pending")
                .where(sa.or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now))
                .values(lease_until=now + LEASE_S)
            )
            return row if leased.rowcount == 1 else None

    def _record_delivery(self, row: Row[Any]) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                outbox.update()
                .where(outbox.c.id == row.id)
                .values(status="delivered", delivered_at=time.time(), lease_until=None)
            )

    def _record_failure(self, row: Row[Any], error: str, now: float) -> None:
        attempts = row.attempts + 1
        with self.db.transaction() as conn:
            conn.execute(
                outbox.update()
                .where(outbox.c.id == row.id)
                .values(
                    attempts=attempts,
                    last_error=error[:1000],
                    lease_until=None,
                    next_attempt_at=now + min(2.0 ** (attempts - 1), MAX_BACKOFF_S),
                )
            )

    def start(self) -> None:
        """Deliver pushes from a background thread (a greenlet under gunicorn's gevent)."""
        threading.Thread(target=self._run, name="handoff-outbox", daemon=True).start()

    def wake(self) -> None:
        """Make the background thread start a delivery pass now rather than at its next poll."""
        self._wakeup.set()

    def stop(self) -> None:
        """Stop the background thread after its current pass."""
        self._stopped.set()
        self._wakeup.set()

    def _run(self) -> None:
        while True:
            self._wakeup.wait(self.poll_s)
            # Cleared before the pass, so a push stored during it gets a pass of its own.
            self._wakeup.clear()
            if self._stopped.is_set():
                return
            try:
                self.deliver_due()
            except Exception:
                # The loop must outlive a database hiccup; the next pass tries again.
                log.exception("outbox delivery pass failed")
