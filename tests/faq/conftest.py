"""Fixtures of the FAQ engine tests (the fixture KB and its index are in tests/conftest.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from actions.faq.engine import FaqEngine


@pytest.fixture(scope="session")
def engine(built_index_dir: Path, encoder, fixture_kb: Path) -> FaqEngine:
    """Return an engine on the fixture KB, for tests that only read."""
    return FaqEngine(index_dir=built_index_dir, faq_dir=fixture_kb, encoder=encoder)


@pytest.fixture
def kb_copy(tmp_path: Path, built_index_dir: Path, fixture_kb: Path) -> tuple[Path, Path]:
    """Return writable copies of the fixture KB and its index: (faq_dir, index_dir)."""
    faq_dir = shutil.copytree(fixture_kb, tmp_path / "faq")
    index_dir = shutil.copytree(built_index_dir, tmp_path / "index")
    return faq_dir, index_dir
