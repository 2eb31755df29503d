"""Fixtures shared across the test folders: the fixture FAQ knowledge base and its index."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from actions.faq.encoder import OnnxEncoder, export_encoder
from actions.faq.index import build_index
from knowledge_base.faqs import load_knowledge_base

# The model ships inside a Python package; nothing may reach for the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

FIXTURE_KB = Path(__file__).parent / "faq" / "kb"


@pytest.fixture(scope="session")
def fixture_kb() -> Path:
    """Return the directory of the fixture knowledge base (read only)."""
    return FIXTURE_KB


@pytest.fixture(scope="session")
def built_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Export the encoder and build the fixture KB's index once per test session, as the CLI."""
    index_dir = tmp_path_factory.mktemp("faq-index")
    export_encoder(index_dir)
    build_index(load_knowledge_base(FIXTURE_KB), OnnxEncoder(index_dir)).save(index_dir)
    return index_dir


@pytest.fixture(scope="session")
def encoder(built_index_dir: Path) -> OnnxEncoder:
    """Return the encoder the bot uses (ONNX, int8), shared by every test."""
    return OnnxEncoder(built_index_dir)
