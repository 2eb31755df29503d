"""How long until every action server answers a question a supervisor just taught.

On a private scaled-out stack (`make run-scaled`'s, scripts/stack.py): a question the
knowledge base does not cover is recorded as unanswered, a supervisor teaches it to an FAQ
through the API, and each action server is asked directly (its webhook, as Rasa calls it)
every POLL_S until it answers with that FAQ. Prints each server's delay from the teaching,
per round: `.venv/bin/python -m scripts.teaching_delay`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from knowledge_base.faqs import load_knowledge_base
from scripts.stack import REPO_ROOT, Stack, running_scaled_stack

# None of them is covered by the knowledge base; all belong to the luggage allowance.
QUESTIONS = (
    "can I bring my kayak",
    "may I take my surfboard on the cruise",
    "is a folding canoe allowed in the cabin",
)
FAQ_ID = "luggage_allowance"
POLL_S = 0.1
TIMEOUT_S = 60.0


def action_answer(actions_url: str, text: str) -> str:
    """Ask one action server to answer `text` as Rasa would; return what it says."""
    sender = f"teaching-delay-{uuid.uuid4().hex[:8]}"
    latest = {"text": text, "intent": {"name": "ask_question", "confidence": 1.0}, "entities": []}
    body: dict[str, Any] = {
        "next_action": "action_answer_faq",
        "sender_id": sender,
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": {},
            "latest_message": latest,
            "events": [{"event": "user", "text": text, "parse_data": latest}],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
            "latest_event_time": time.time(),
        },
    }
    response = requests.post(f"{actions_url}/webhook", json=body, timeout=10)
    response.raise_for_status()
    return " ".join(str(reply.get("text") or "") for reply in response.json()["responses"])


def teach(stack: Stack, token: str, text: str) -> float:
    """Record `text` as unanswered, teach it to FAQ_ID; return when the teaching was stored."""
    service = {"Authorization": f"Bearer {stack.env['HANDOFF_SERVICE_TOKEN']}"}
    recorded = requests.post(
        f"{stack.handoff_url}/api/unanswered-questions",
        json={"sender_id": uuid.uuid4().hex, "channel": "web", "text": text, "outcome": "none"},
        headers=service,
        timeout=10,
    )
    recorded.raise_for_status()
    question_id = recorded.json()["id"]
    taught = requests.post(
        f"{stack.handoff_url}/api/unanswered-questions/{question_id}/teach",
        json={"faq_id": FAQ_ID},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    taught.raise_for_status()
    return time.monotonic()


def delays_after_teaching(stack: Stack, token: str, text: str) -> list[float]:
    """Teach `text`; return how long each action server took to answer it with the FAQ."""
    (answer,) = [
        str(entry.answer).strip()
        for entry in load_knowledge_base(REPO_ROOT / "data" / "faq")
        if entry.id == FAQ_ID
    ]
    servers = [f"http://127.0.0.1:{port}" for port in stack.action_server_ports]
    for server in servers:
        if answer in action_answer(server, text):
            raise SystemExit(f"{server} answers {text!r} before it is taught")
    taught_at = teach(stack, token, text)
    delays: dict[str, float] = {}
    while len(delays) < len(servers):
        if time.monotonic() - taught_at > TIMEOUT_S:
            raise SystemExit(f"not every action server learned {text!r} in {TIMEOUT_S:.0f} s")
        for server in servers:
            if server not in delays and answer in action_answer(server, text):
                delays[server] = time.monotonic() - taught_at
        time.sleep(POLL_S)
    return [delays[server] for server in servers]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m scripts.teaching_delay", description=__doc__)
    parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="teaching-") as workdir,
        running_scaled_stack(Path(workdir)) as stack,
    ):
        password = stack.create_agent("sam", "--role", "supervisor")
        token = stack.log_in("sam", password)
        interval = stack.env["FAQ_SYNC_INTERVAL_S"]
        print(f"FAQ_SYNC_INTERVAL_S={interval}; delay from teaching to an answer, per server:")
        last = []
        for text in QUESTIONS:
            delays = delays_after_teaching(stack, token, text)
            last.append(max(delays))
            print(f"  {text!r}: " + ", ".join(f"{delay:.2f} s" for delay in delays))
        median, worst = statistics.median(last), max(last)
        print(f"until every server answers: median {median:.2f} s, max {worst:.2f} s")


if __name__ == "__main__":
    main()
