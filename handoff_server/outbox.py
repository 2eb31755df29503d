"""Store pushes to customers and deliver each through Rasa exactly once, retrying failures.

Delivery never blocks a request: a request that stores a push wakes the background loop,
which delivers each conversation's pushes in order, many conversations at once. Each push
carries its id; Rasa skips an id its tracker already holds (`bot.pushes`), so a push
re-sent after a deliverer died between Rasa's answer and the outbox's record reaches the
customer once. That makes a short lease safe: its holder renews it while the push is in
flight, so a push whose deliverer vanished (a worker or host killed mid-push) is anyone's
within LEASE_S seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from handoff_server.db import Database, outbox
from handoff_server.domain_errors import Busy
from handoff_server.rasa_client import IntentTrigger, RasaBusy, RasaUnavailable

AGENT_MESSAGE = "EXTERNAL_agent_message"
AGENT_JOINED = "EXTERNAL_agent_joined"
QUEUE_UPDATE = "EXTERNAL_queue_update"

# The background loop renews the leases of pushes in flight every RENEW_EVERY_S, however
# long Rasa takes, so a lease lapses only when its holder is gone (or stalled: the duplicate
# that might cause is skipped by Rasa anyway).
LEASE_S = 3.0
RENEW_EVERY_S = 1.0
MAX_BACKOFF_S = 60.0
# A push Rasa took but answered late is sent again this soon, however often: Rasa is busy,
# not down, and a growing backoff held a busy Rasa's pushes back for minutes (load run:
# agent to customer p95 185 s). The resend is skipped by Rasa once the turn is done.
BUSY_RETRY_S = 1.0
# Conversations delivered to at once: one slow or unreachable customer holds up no other.
DELIVERERS = 8

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


def push_id(row: Row[Any]) -> str:
    """Name a push uniquely, even across databases that reuse row ids (a reset, a test)."""
    return f"{row.id}-{round(row.created_at * 1000)}"


class Outbox:
    """Deliver pending pushes in order per conversation, never twice once Rasa accepted one."""

    def __init__(
        self,
        db: Database,
        rasa: IntentTrigger,
        *,
        poll_s: float = 1.0,
        deliverers: int = DELIVERERS,
    ) -> None:
        self.db = db
        self.rasa = rasa
        self.poll_s = poll_s
        self._pool = ThreadPoolExecutor(max_workers=deliverers, thread_name_prefix="outbox")
        # Conversations a deliverer of this process is working on: a pass skips them.
        self._busy: set[str] = set()
        self._busy_lock = threading.Lock()
        # Pushes this process's deliverers hold leases on; the loop renews them.
        self._in_flight: set[int] = set()
        self._renewed_at = 0.0
        self._stopped = threading.Event()
        self._wakeup = threading.Event()

    def deliver_due(self, now: float | None = None) -> int:
        """Run one delivery pass and wait for it; return how many pushes went."""
        return sum(future.result() for future in self._dispatch(now))

    def _dispatch(self, now: float | None) -> list[Future[int]]:
        """Start delivering to every conversation whose oldest push is due; don't wait."""
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
        due_by = time.time() if now is None else now
        futures = []
        for sender_id in sorted(oldest, key=oldest.__getitem__):
            if oldest[sender_id] > due_by:
                continue
            with self._busy_lock:
                if sender_id in self._busy:
                    continue
                self._busy.add(sender_id)
            futures.append(self._pool.submit(self._deliver_conversation, sender_id, now))
        return futures

    def _deliver_conversation(self, sender_id: str, now: float | None) -> int:
        delivered = 0
        try:
            while (row := self._lease_next(sender_id, now)) is not None:
                with self._busy_lock:
                    self._in_flight.add(row.id)
                try:
                    self.rasa.trigger_intent(sender_id, row.intent, row.entities, push_id(row))
                except RasaBusy as error:
                    log.warning("push %s answered late, sent again soon: %s", row.id, error)
                    self._record_failure(row, str(error), now, refused=False)
                    break
                except RasaUnavailable as error:
                    log.warning("push %s failed (attempt %d): %s", row.id, row.attempts + 1, error)
                    self._record_failure(row, str(error), now, refused=True)
                    break
                finally:
                    with self._busy_lock:
                        self._in_flight.discard(row.id)
                self._record_delivery(row)
                delivered += 1
        except Exception:
            # A database hiccup: the lease lapses and a later pass tries again.
            log.exception("delivery to %s failed", sender_id)
        finally:
            with self._busy_lock:
                self._busy.discard(sender_id)
        return delivered

    def _lease_next(self, sender_id: str, now: float | None) -> Row[Any] | None:
        """Take the conversation's oldest pending push, unless another deliverer holds it.

        Deliverers of any number of processes compete here. Only the oldest pending push
        can be taken, so a conversation's pushes go in order. On PostgreSQL the row lock
        makes taking it atomic, and SKIP LOCKED passes over a row another deliverer is
        taking this instant rather than waiting for it (it is then not this one's to take,
        and never a later push); on SQLite the transaction holds the database's write lock.
        """
        now = time.time() if now is None else now
        oldest = (
            sa.select(sa.func.min(outbox.c.id))
            .where(outbox.c.sender_id == sender_id)
            .where(outbox.c.status == "pending")
            .scalar_subquery()
        )
        with self.db.transaction() as conn:
            row = conn.execute(
                sa.select(outbox)
                .where(outbox.c.id == oldest)
                # Checked again on the row as locked: another deliverer may have just sent it.
                .where(outbox.c.status == "pending")
                .with_for_update(skip_locked=True)
            ).first()
            if row is None or row.next_attempt_at > now:
                return None
            if row.lease_until is not None and row.lease_until >= now:
                return None
            conn.execute(
                outbox.update().where(outbox.c.id == row.id).values(lease_until=now + LEASE_S)
            )
            return row

    def _renew_leases(self) -> None:
        """Extend the leases of this process's pushes in flight, at most every RENEW_EVERY_S."""
        if time.monotonic() - self._renewed_at < RENEW_EVERY_S:
            return
        self._renewed_at = time.monotonic()
        with self._busy_lock:
            held = sorted(self._in_flight)
        if not held:
            return
        try:
            # Waiting long for a locked database would hold up the delivery passes.
            with self.db.transaction(wait_s=RENEW_EVERY_S / 2) as conn:
                conn.execute(
                    outbox.update()
                    .where(outbox.c.id.in_(held))
                    .where(outbox.c.status == "pending")
                    # A push whose outcome is recorded has no lease to renew.
                    .where(outbox.c.lease_until.is_not(None))
                    .values(lease_until=time.time() + LEASE_S)
                )
        except Busy:
            # The next renewal tries again; a lease that lapses meanwhile costs a duplicate
            # push at most, which Rasa skips.
            log.warning("outbox: database busy, %d leases not renewed this time", len(held))

    def _record_delivery(self, row: Row[Any]) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                outbox.update()
                .where(outbox.c.id == row.id)
                .values(status="delivered", delivered_at=time.time(), lease_until=None)
            )

    def _record_failure(self, row: Row[Any], error: str, now: float | None, refused: bool) -> None:
        """Schedule the push again: backoff after a refusal, BUSY_RETRY_S after a late answer."""
        now = time.time() if now is None else now
        # `attempts` counts refusals: the backoff grows for a Rasa that is down, not busy.
        attempts = row.attempts + 1 if refused else row.attempts
        backoff_s = min(2.0 ** (attempts - 1), MAX_BACKOFF_S) if refused else BUSY_RETRY_S
        with self.db.transaction() as conn:
            conn.execute(
                outbox.update()
                .where(outbox.c.id == row.id)
                .values(
                    attempts=attempts,
                    last_error=error[:1000],
                    lease_until=None,
                    next_attempt_at=now + backoff_s,
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
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        while True:
            self._wakeup.wait(min(self.poll_s, RENEW_EVERY_S))
            # Cleared before the pass, so a push stored during it gets a pass of its own.
            self._wakeup.clear()
            if self._stopped.is_set():
                return
            try:
                self._renew_leases()
                self._dispatch(None)
            except Exception:
                # The loop must outlive a database hiccup; the next pass tries again.
                log.exception("outbox delivery pass failed")
