"""Teach the FAQ engine, live, the paraphrases supervisors teach in the handoff console."""

from __future__ import annotations

import logging
import threading

from actions.faq.engine import FaqEngine, get_engine
from actions.handoff_client import HandoffClient, HandoffUnavailable

logger = logging.getLogger(__name__)

PAGE_SIZE = 500


class ParaphraseSync:
    """Poll the handoff server for taught paraphrases and add them to the engine's index.

    The handoff server keeps every taught paraphrase; the cursor starts at 0, so an action
    server that (re)starts learns them all again. The index is never rebuilt.
    """

    def __init__(
        self,
        engine: FaqEngine | None = None,
        client: HandoffClient | None = None,
        interval_s: float | None = None,
    ) -> None:
        self._engine = engine
        self.client = client or HandoffClient()
        self.interval_s = (
            self.client.settings.faq_sync_interval_s if interval_s is None else interval_s
        )
        # The id of the last taught paraphrase this process has seen.
        self.cursor = 0
        self._failing = False
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def engine(self) -> FaqEngine:
        return self._engine or get_engine()

    def poll(self) -> int:
        """Learn every paraphrase taught since the last poll; return how many joined the index."""
        learned = 0
        while True:
            page = self.client.taught_paraphrases(after=self.cursor, limit=PAGE_SIZE)
            if not page:
                return learned
            result = self.engine.add_paraphrases((item["faq_id"], item["text"]) for item in page)
            for reason in result.refused:
                # The FAQ data changed since it was taught (FAQ gone, text now another's).
                logger.warning("skipped a taught paraphrase: %s", reason)
            self.cursor = int(page[-1]["id"])
            learned += result.added
            if len(page) < PAGE_SIZE:
                return learned

    def catch_up(self) -> None:
        """Poll once, logging what was learned; an outage is logged once, then retried quietly."""
        try:
            learned = self.poll()
        except HandoffUnavailable as error:
            if not self._failing:
                logger.warning(
                    "cannot read taught paraphrases, retrying every %g s: %s",
                    self.interval_s,
                    error,
                )
            self._failing = True
        except Exception:
            # Whatever else broke (the FAQ index missing, say), the next poll tries again.
            if not self._failing:
                logger.exception("learning taught paraphrases failed; retrying")
            self._failing = True
        else:
            if self._failing:
                logger.info("reading taught paraphrases again")
            self._failing = False
            if learned:
                logger.info("learned %d taught paraphrase(s)", learned)

    def start(self) -> None:
        """Catch up now, then poll every interval in a daemon thread until stop()."""
        self.catch_up()
        self._thread = threading.Thread(target=self._run, name="faq-paraphrase-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the polling loop and wait for its thread."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stopped.wait(self.interval_s):
            self.catch_up()


_process_sync: ParaphraseSync | None = None
_process_sync_lock = threading.Lock()


def start_paraphrase_sync() -> ParaphraseSync:
    """Start the process's one sync of taught paraphrases into the shared engine, once.

    Call it in the process that answers: the action server's workers are new processes
    (Sanic), which receive the actions pickled, without any thread of the main process.
    """
    global _process_sync
    with _process_sync_lock:
        if _process_sync is None:
            _process_sync = ParaphraseSync()
            _process_sync.start()
        return _process_sync
