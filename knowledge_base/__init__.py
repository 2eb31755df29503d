"""The FAQ knowledge base (`data/faq/*.yml`): load, validate, fingerprint, import.

A library of its own that needs only PyYAML: the FAQ engine builds its index from it,
and the handoff server reads it to teach questions to FAQs without the embedding stack.
"""
