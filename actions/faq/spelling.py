"""Typing slips mended towards the knowledge base's own words before a question is embedded.

The encoder splits a misspelt word into pieces that mean little ("vosa", "bookign"), so one
slip can turn a known question into "I don't know". A word that is neither in the knowledge
base nor a common English word (SymSpell's bundled frequency list: a slip often makes a rare
word, "boar" for board, "seep" for steep) is replaced by the knowledge base's word nearest to
it in edits (SymSpell), if one is near enough; every other word is left as typed.
Only words of MIN_LENGTH letters or more are mended, and only into such words ("cabn" is
cabin, not can). The engine embeds the text both as typed and mended, and keeps the better.
"""

from __future__ import annotations

import importlib.resources
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from symspellpy import SymSpell, Verbosity

WORD = re.compile(r"[^\W\d_]+")
# Shorter words have too many neighbours to guess from: "tisp" may be tips, "lots" lost.
MIN_LENGTH = 4
# English words rarer than this may be slips of the knowledge base's words.
COMMON_WORD_COUNT = 1_000_000
# One slip in a short word, two in a long one.
LONG_WORD = 7
MAX_EDITS = 2


@lru_cache(maxsize=1)
def common_english_words() -> frozenset[str]:
    """Return the common words of the English frequency list that ships inside symspellpy."""
    listing = importlib.resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt"
    entries = (line.split(" ", 1) for line in listing.read_text().splitlines())
    return frozenset(word for word, count in entries if int(count) >= COMMON_WORD_COUNT)


class Speller:
    """Mend the words of a question that only a slip of the keyboard can explain."""

    def __init__(self, texts: Iterable[str]) -> None:
        counts = Counter(word.casefold() for text in texts for word in WORD.findall(text))
        self._known = common_english_words() | counts.keys()
        self._nearest = SymSpell(max_dictionary_edit_distance=MAX_EDITS)
        for word, count in counts.items():
            if len(word) >= MIN_LENGTH:
                self._nearest.create_dictionary_entry(word, count)

    def correct(self, text: str) -> str:
        """Return the text with each unknown word replaced by its nearest KB word, if any."""
        return WORD.sub(lambda match: self._mend(match.group()), text)

    def _mend(self, word: str) -> str:
        lowered = word.casefold()
        if len(lowered) < MIN_LENGTH or lowered in self._known:
            return word
        edits = 1 if len(lowered) < LONG_WORD else MAX_EDITS
        found = self._nearest.lookup(lowered, Verbosity.TOP, max_edit_distance=edits)
        return found[0].term if found else word
