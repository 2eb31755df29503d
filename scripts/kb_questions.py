"""The knowledge base asked back as customers would: every question, paraphrase and typo of it.

The FAQ data is free labelled data for the dialogue: each text must reach its own FAQ in a
real Rasa turn. Typos are made by a seeded generator, so every run asks the same texts.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from knowledge_base.faqs import Faq, load_knowledge_base

SEED = 15
# Keys next to each other on a QWERTY keyboard: the substitutions a hurried thumb makes.
NEIGHBOURS = {
    row[i]: row[max(i - 1, 0)] + row[i + 1 : i + 2]
    for row in ("qwertyuiop", "asdfghjkl", "zxcvbnm")
    for i in range(len(row))
}


@dataclass(frozen=True)
class KbQuestion:
    """A text a customer might send, the FAQ it belongs to, and how it was made."""

    text: str
    faq: Faq
    typo: bool


def kb_questions(faq_dir: Path, channel: str = "web") -> Iterator[KbQuestion]:
    """Yield every question and paraphrase of the channel's FAQs, then one typo'd copy of each."""
    faqs = [faq for faq in load_knowledge_base(faq_dir) if channel in faq.channels]
    rng = random.Random(SEED)
    texts = [(text, faq) for faq in faqs for text in faq.texts]
    yield from (KbQuestion(text, faq, typo=False) for text, faq in texts)
    for text, faq in texts:
        typed = misspell(text, rng)
        if typed != text:
            yield KbQuestion(typed, faq, typo=True)


def misspell(text: str, rng: random.Random) -> str:
    """Return the text with one typing slip in one of its longer words (if it has any)."""
    words = text.split(" ")
    candidates = [n for n, word in enumerate(words) if sum(c.isalpha() for c in word) >= 4]
    if not candidates:
        return text
    n = rng.choice(candidates)
    word = words[n]
    letters = [i for i, c in enumerate(word) if c.isalpha()]
    i = rng.choice(letters[1:])  # customers rarely miss the first letter
    slip = rng.choice(("swap", "drop", "double", "neighbour"))
    if slip == "swap" and i + 1 < len(word) and word[i + 1].isalpha():
        word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    elif slip == "drop":
        word = word[:i] + word[i + 1 :]
    elif slip == "double":
        word = word[:i] + word[i] + word[i:]
    else:
        near = NEIGHBOURS.get(word[i].lower(), word[i])
        word = word[:i] + rng.choice(near) + word[i + 1 :]
    words[n] = word
    return " ".join(words)


def reached_its_faq(question: KbQuestion, replies: list[dict[str, Any]], did_you_mean: str) -> bool:
    """Tell whether the bot's first reply is the FAQ's answer, or suggestions with it first."""
    if not replies:
        return False
    first = replies[0]
    if first.get("text") == question.faq.answer.strip():
        return True
    buttons = first.get("buttons") or []
    return (
        first.get("text") == did_you_mean
        and bool(buttons)
        and (buttons[0].get("payload") == question.faq.question)
    )


def response_text(domain_file: Path, response: str) -> str:
    """Return the text of a response (`utter_did_you_mean`...) as the domain defines it."""
    domain = yaml.safe_load(Path(domain_file).read_text(encoding="utf-8"))
    return str(domain["responses"][response][0]["text"])
