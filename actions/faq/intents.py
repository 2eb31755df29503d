"""How strongly the FAQ claims each conversational intent's own examples: evidence against NLU.

NLU puts short questions confidently into small talk ("visa requirements" as a name,
"braille signs" as goodbye). The FAQ engine's score says how much a text looks like a known
question; measured on the NLU training examples of each intent, its highest value there is the
most an FAQ ever claims a real greeting, name or request for a person. A text the best FAQ
outscores, and answers outright, is a question, whatever the intent. The build measures this
and stores it in the index's metadata; an index built without NLU data claims nothing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path

import yaml

# The intent whose examples are questions: never measured, always the FAQ's.
QUESTION_INTENT = "ask_question"
# `[Tom](name)` or `[Tom]{"entity": "name"}`: Rasa's entity annotations, kept as their text.
ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


def read_nlu_examples(nlu_dir: Path) -> dict[str, list[str]]:
    """Return the plain texts of every intent's examples in Rasa NLU files (YAML, format 3)."""
    examples: dict[str, list[str]] = defaultdict(list)
    for path in sorted(Path(nlu_dir).glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in document.get("nlu") or []:
            if "intent" not in block:
                continue  # regexes, lookups and synonyms
            for line in str(block.get("examples") or "").splitlines():
                text = ANNOTATION.sub(r"\1", line.strip().removeprefix("- ")).strip()
                if text:
                    examples[block["intent"]].append(text)
    return dict(examples)


def measure_intent_scores(
    examples: Mapping[str, list[str]], best_faq_score: Callable[[str], float]
) -> dict[str, float]:
    """Return, per conversational intent, the best FAQ score any of its examples reaches."""
    return {
        intent: max(best_faq_score(text) for text in texts)
        for intent, texts in sorted(examples.items())
        if intent != QUESTION_INTENT and texts
    }
