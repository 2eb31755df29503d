"""The knowledge base the end-to-end stack answers from."""

from __future__ import annotations

from knowledge_base.faqs import Faq, load_knowledge_base
from scripts.stack import REPO_ROOT


def faq(faq_id: str) -> Faq:
    """Return one entry of the knowledge base the stack answers from."""
    by_id = {entry.id: entry for entry in load_knowledge_base(REPO_ROOT / "data" / "faq")}
    return by_id[faq_id]
