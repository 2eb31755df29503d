"""Measure the largest message each channel accepts and what it costs, beside short messages.

Run with `.venv/bin/python -m bench.message_size` (or `make bench`). On a private stack it
sends, per channel, COUNT short messages and then COUNT of the largest text accepted
(MAX_TEXT_CHARS): Rasa's REST webhook and socket.io (a new conversation per message, so
no conversation is handed off for repeating itself), and the handoff API's customer and
agent messages (one conversation each). It checks that one character more is refused and
prints, for each channel, the time per message and the resident memory the receiving
process (Rasa, the handoff server's worker) grew by over each batch, short ones first. The
chat limits are lifted: this measures size, not pace.
"""

from __future__ import annotations

import argparse
import queue
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bench import procfs
from bench.handoff import handoff_packet
from bench.load import UNLIMITED_CHAT
from bench.report import Row, format_summary, say
from bench.stats import summarize
from lumen.vocabulary import MAX_TEXT_CHARS
from scripts.stack import Stack, running_stack
from scripts.widget_socket import WidgetSocket

COUNT = 200
REPLY_TIMEOUT_S = 30.0
SENTENCE = "Hello, how do I connect my laptop to the wifi in my cabin on the boat? "
SHORT_TEXT = SENTENCE.strip()
LONGEST_TEXT = (SENTENCE * (MAX_TEXT_CHARS // len(SENTENCE) + 1))[:MAX_TEXT_CHARS]

# Send one message of a channel, wait until it is taken (REST and socket.io: answered) and
# return how long that took in seconds.
Sender = Callable[[str], float]


@dataclass(frozen=True)
class Batch:
    """What one batch of messages cost: seconds per message and the receiver's RSS growth."""

    seconds: list[float]
    rss_growth_mib: float


def run_batch(send: Sender, text: str, count: int, pid: int) -> Batch:
    """Send `count` messages of `text` one after another; time each and follow `pid`'s memory."""
    rss_before = procfs.rss_mib(pid)
    seconds = [send(text) for _ in range(count)]
    return Batch(seconds, procfs.rss_mib(pid) - rss_before)


def timed(call: Callable[[], Any]) -> float:
    """Return the seconds `call` took."""
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def rest_sender(stack: Stack) -> Sender:
    webhook = f"{stack.rasa_url}/webhooks/rest/webhook"

    def answered(text: str) -> None:
        response = requests.post(
            webhook, json={"sender": uuid.uuid4().hex, "message": text}, timeout=REPLY_TIMEOUT_S
        )
        response.raise_for_status()
        if not response.json():
            raise RuntimeError("REST: no reply")

    return lambda text: timed(lambda: answered(text))


def rest_refuses(stack: Stack) -> str:
    """Say how REST refuses one character more and a body over its bound."""
    webhook = f"{stack.rasa_url}/webhooks/rest/webhook"
    over = requests.post(
        webhook, json={"sender": "x", "message": "a" * (MAX_TEXT_CHARS + 1)}, timeout=30
    )
    body = b'{"sender": "x", "message": "' + b"a" * 1_000_000 + b'"}'
    too_big = requests.post(
        webhook, data=body, headers={"Content-Type": "application/json"}, timeout=30
    )
    return f"{MAX_TEXT_CHARS + 1} chars: {over.status_code}; 1 MB body: {too_big.status_code}"


def socket_sender(stack: Stack) -> Sender:
    def send(text: str) -> float:
        replies: queue.Queue[dict[str, Any]] = queue.Queue()
        # A new conversation each time; connecting is not part of the message's time.
        customer = WidgetSocket(stack.rasa_url, replies.put)
        try:
            customer.say(text)
            started = time.perf_counter()
            replies.get(timeout=REPLY_TIMEOUT_S)
            return time.perf_counter() - started
        finally:
            customer.close()

    return send


def socket_refuses(stack: Stack) -> str:
    replies: queue.Queue[dict[str, Any]] = queue.Queue()
    customer = WidgetSocket(stack.rasa_url, replies.put)
    try:
        customer.say("a" * (MAX_TEXT_CHARS + 1))
        return f"{MAX_TEXT_CHARS + 1} chars: {replies.get(timeout=REPLY_TIMEOUT_S)['text'][:40]}…"
    finally:
        customer.close()


def handoff_sender(stack: Stack, path: str, headers: dict[str, str]) -> Sender:
    session = requests.Session()
    session.headers.update(headers)

    def stored(text: str) -> None:
        session.post(
            f"{stack.handoff_url}{path}", json={"text": text}, timeout=10
        ).raise_for_status()

    return lambda text: timed(lambda: stored(text))


def handoff_refuses(stack: Stack, path: str, headers: dict[str, str]) -> str:
    url = f"{stack.handoff_url}{path}"
    over = requests.post(
        url, json={"text": "a" * (MAX_TEXT_CHARS + 1)}, headers=headers, timeout=10
    )
    too_big = requests.post(url, json={"text": "a" * 2_000_000}, headers=headers, timeout=30)
    return f"{MAX_TEXT_CHARS + 1} chars: {over.status_code}; 2 MB body: {too_big.status_code}"


def claimed_conversation(stack: Stack) -> tuple[int, dict[str, str], dict[str, str]]:
    """Queue a handoff and have an agent claim it; return its id, service and agent headers."""
    service = {"Authorization": f"Bearer {stack.env['HANDOFF_SERVICE_TOKEN']}"}
    packet = handoff_packet(f"bench-size-{uuid.uuid4().hex[:8]}", "customer_request", 1)
    response = requests.post(
        f"{stack.handoff_url}/api/handoffs", json=packet, headers=service, timeout=10
    )
    response.raise_for_status()
    conversation_id = int(response.json()["id"])
    agent = {"Authorization": f"Bearer {stack.log_in('size', stack.create_agent('size'))}"}
    claim = f"{stack.handoff_url}/api/conversations/{conversation_id}/claim"
    requests.post(claim, headers=agent, timeout=10).raise_for_status()
    return conversation_id, service, agent


def measure(stack: Stack, count: int) -> list[Row]:
    """Measure every channel, short batch then longest batch, and return the summary's rows."""
    rasa = procfs.port_holders(int(stack.env["RASA_PORT"]))[0]
    handoff = procfs.worker_pid(int(stack.env["HANDOFF_PORT"]))
    conversation_id, service, agent = claimed_conversation(stack)
    messages = f"/api/conversations/{conversation_id}"
    channels: list[tuple[str, Sender, int, str]] = [
        ("REST", rest_sender(stack), rasa, rest_refuses(stack)),
        ("socket.io", socket_sender(stack), rasa, socket_refuses(stack)),
        (
            "API customer message",
            handoff_sender(stack, f"{messages}/customer-messages", service),
            handoff,
            handoff_refuses(stack, f"{messages}/customer-messages", service),
        ),
        (
            "API agent message",
            handoff_sender(stack, f"{messages}/messages", agent),
            handoff,
            handoff_refuses(stack, f"{messages}/messages", agent),
        ),
    ]
    rows = []
    for name, send, pid, refused in channels:
        batches = {}
        for label, text in (("short", SHORT_TEXT), ("longest", LONGEST_TEXT)):
            say(f"{name}: {count} {label} messages ({len(text)} chars)")
            batches[label] = run_batch(send, text, count, pid)
        short, longest = batches["short"], batches["longest"]
        receiver = "Rasa" if pid == rasa else "handoff worker"
        rows += [
            Row(
                f"{name}: largest text accepted",
                MAX_TEXT_CHARS,
                "chars",
                note=f"refused: {refused}",
            ),
            Row(
                f"{name}: time per message, p50",
                summarize(longest.seconds).p50 * 1000,
                "ms",
                baseline=summarize(short.seconds).p50 * 1000,
            ),
            Row(
                f"{name}: time per message, p95",
                summarize(longest.seconds).p95 * 1000,
                "ms",
                baseline=summarize(short.seconds).p95 * 1000,
            ),
            Row(
                f"{name}: RSS growth over {count} messages",
                longest.rss_growth_mib,
                "MiB",
                baseline=short.rss_growth_mib,
                note=f"{receiver} RSS now {procfs.rss_mib(pid):,.0f} MiB",
            ),
        ]
    return rows


@contextmanager
def private_stack() -> Iterator[Stack]:
    with (
        tempfile.TemporaryDirectory() as workdir,
        running_stack(Path(workdir), **UNLIMITED_CHAT) as stack,
    ):
        yield stack


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and print its figures beside the short-message baseline."""
    parser = argparse.ArgumentParser(prog="python -m bench.message_size")
    parser.add_argument("--count", type=int, default=COUNT, help="messages per batch (1-1000)")
    args = parser.parse_args(argv)
    if not 1 <= args.count <= 1000:
        parser.error("--count must be 1 to 1000")
    say("starting a private stack")
    with private_stack() as stack:
        rows = measure(stack, args.count)
    print(format_summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
