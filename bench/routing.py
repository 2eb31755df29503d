"""Routing: does every question the knowledge base knows reach its FAQ in a real Rasa turn?

Every question and paraphrase of the web FAQs, and a seeded typo of each, is the first message
of a fresh REST conversation on a private stack; it is routed right when the bot's first reply
is its FAQ's answer or a suggestion with that FAQ first. The same-run baseline is NLU alone:
the share of those texts that Rasa's NLU (`/model/parse`) sends to the FAQ by itself, as
ask_question or nlu_fallback, before the FAQ's own evidence is heard.
Run: `.venv/bin/python -m bench.routing` (or `make bench`).
"""

from __future__ import annotations

import sys
import tempfile
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from bench.report import Chart, Row, format_summary, say, write_report
from scripts.kb_questions import KbQuestion, kb_questions, reached_its_faq, response_text
from scripts.stack import REPO_ROOT, Stack, running_stack

REPORT_PATH = REPO_ROOT / "reports" / "bench" / "routing.html"
TARGET_PERCENT = 99.0
CONCURRENT_CUSTOMERS = 4
FAQ_INTENTS = {"ask_question", "nlu_fallback"}


def ask(stack: Stack, text: str) -> list[dict[str, Any]]:
    """Send the text as a new customer's first message over REST; return the bot's replies."""
    response = requests.post(
        f"{stack.rasa_url}/webhooks/rest/webhook",
        json={"sender": uuid.uuid4().hex, "message": text},
        timeout=60,
    )
    response.raise_for_status()
    return list(response.json())


def nlu_intent(stack: Stack, text: str) -> str:
    """Return the intent Rasa's NLU alone gives the text."""
    response = requests.post(
        f"{stack.rasa_url}/model/parse",
        params={"token": stack.env["RASA_API_TOKEN"]},
        json={"text": text},
        timeout=60,
    )
    response.raise_for_status()
    return str(response.json()["intent"]["name"])


def ask_all(stack: Stack, questions: list[KbQuestion]) -> list[list[dict[str, Any]]]:
    """Ask every text, CONCURRENT_CUSTOMERS at a time; return the replies in order."""
    with ThreadPoolExecutor(CONCURRENT_CUSTOMERS) as pool:
        return list(pool.map(lambda question: ask(stack, question.text), questions))


def share(outcomes: list[bool], members: list[bool]) -> float:
    """Return the percentage of the members whose outcome is true, rounded for the summary."""
    picked = [outcome for outcome, member in zip(outcomes, members, strict=True) if member]
    return round(100 * sum(picked) / len(picked), 2) if picked else 0.0


def main(argv: list[str] | None = None) -> int:
    """Ask every KB text through Rasa, print the routing figures and write the report."""
    did_you_mean = response_text(REPO_ROOT / "bot" / "domain.yml", "utter_did_you_mean")
    questions = list(kb_questions(REPO_ROOT / "data" / "faq", channel="web"))
    say(f"starting a private stack; {len(questions)} texts to ask, {CONCURRENT_CUSTOMERS} at once")
    with (
        tempfile.TemporaryDirectory(prefix="bench-routing-") as workdir,
        running_stack(Path(workdir)) as stack,
    ):
        replies = ask_all(stack, questions)
        intents = [nlu_intent(stack, question.text) for question in questions]
    right = [
        reached_its_faq(question, answer, did_you_mean)
        for question, answer in zip(questions, replies, strict=True)
    ]
    by_nlu = [intent in FAQ_INTENTS for intent in intents]
    missed = [
        f"{q.text!r} ({q.faq.id}; NLU: {intent}) heard {(answer[:1] or [{}])[0].get('text')!r}"
        for q, answer, intent, ok in zip(questions, replies, intents, right, strict=True)
        if not ok
    ]
    groups = {
        "questions and paraphrases": [not q.typo for q in questions],
        "typos": [q.typo for q in questions],
        "all": [True] * len(questions),
    }
    rows = [
        Row(
            f"routed to their FAQ, {group} ({sum(members)} texts)",
            share(right, members),
            "%",
            baseline=share(by_nlu, members),
            target=TARGET_PERCENT if group == "all" else None,
            higher_is_better=True,
            note="baseline: NLU alone sends it to the FAQ",
        )
        for group, members in groups.items()
    ]
    diverted = Counter(intent for intent in intents if intent not in FAQ_INTENTS)
    charts = [
        Chart(
            "Texts of the knowledge base that reach their FAQ",
            {
                "NLU alone": [row.baseline or 0.0 for row in rows],
                "with the FAQ's evidence": [row.value for row in rows],
            },
            categories=list(groups),
            kind="bar",
            xlabel="texts",
            ylabel="% routed to their FAQ",
            target=TARGET_PERCENT,
            caption="Each text is the first message of a new REST conversation.",
        ),
    ]
    notes = [
        "NLU's other intents for these texts: "
        + ", ".join(f"{intent} {count}" for intent, count in diverted.most_common()),
        f"Missed ({len(missed)}): " + ("; ".join(missed) or "none"),
    ]
    title = "Routing: the knowledge base asked back through Rasa"
    print(f"\n{title}\n{format_summary(rows)}")
    for note in notes:
        print(f"- {note}")
    print(f"report: {write_report(REPORT_PATH, title, rows, charts, notes)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
