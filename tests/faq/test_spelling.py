"""Typing slips are mended towards the knowledge base's words; everything else is left alone."""

from __future__ import annotations

import pytest

from actions.faq.spelling import Speller

KB_TEXTS = [
    "Do I need a visa?",
    "Can I add a passenger to my booking?",
    "Where can I smoke?",
    "ESA",
    "Can I upgrade my cabin?",
]


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("Do I need a vosa?", "Do I need a visa?"),  # one slip
        ("add a passsenger to my bookign", "add a passenger to my booking"),  # two words
        ("Where can I smoe?", "Where can I smoke?"),  # the KB's word, not English "some"
        ("cabn upgrade", "cabin upgrade"),  # never into a short word such as "can"
    ],
)
def test_slips_become_the_knowledge_bases_words(typed, meant):
    assert Speller(KB_TEXTS).correct(typed) == meant


@pytest.mark.parametrize(
    "text",
    [
        "what is the capital of Peru",  # English words the KB lacks
        "ESA",  # the KB's own abbreviation
        "tisp",  # too short to guess
        "room 214, deck 2",  # numbers
        "",
    ],
)
def test_known_words_numbers_and_short_words_are_left_as_typed(text):
    assert Speller(KB_TEXTS).correct(text) == text


@pytest.mark.slow  # loads the embedding model
def test_the_engine_answers_a_slip_as_the_word_meant(engine):
    typed = engine.decide("when will I get my refnud", channel="web")
    meant = engine.decide("when will I get my refund", channel="web")
    assert (typed.kind, typed.hits[0].faq.id) == (meant.kind, "refund_timeline")
    # Embedded in one batch with the text as typed: int8 activations differ in the 3rd digit.
    assert typed.hits[0].score == pytest.approx(meant.hits[0].score, abs=0.005)
