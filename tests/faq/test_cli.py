"""The command line on a tiny knowledge base: build, search, eval."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "actions.faq", *map(str, args)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
    )


def test_build_then_search(tmp_path: Path, fixture_kb: Path) -> None:
    index_dir = tmp_path / "index"

    built = run_cli("build", "--faq-dir", fixture_kb, "--out", index_dir)

    assert built.returncode == 0, built.stderr
    assert "wrote" in built.stderr and "40 vectors of 8 FAQs" in built.stderr
    metadata = json.loads((index_dir / "metadata.json").read_text())
    assert metadata["count"] == 40

    common = ("--faq-dir", fixture_kb, "--index-dir", index_dir, "--json")
    found = run_cli("search", "how long does a refund take", "--channel", "web", *common)
    lost_on_web = run_cli("search", "where is lost property", "--channel", "web", *common)

    assert found.returncode == 0, found.stderr
    decision = json.loads(found.stdout)
    assert decision["kind"] == "answer"
    assert decision["hits"][0]["faq_id"] == "refund_timeline"
    hits_on_web = [hit["faq_id"] for hit in json.loads(lost_on_web.stdout)["hits"]]
    assert "lost_property" not in hits_on_web


def test_search_without_index_fails_clearly(tmp_path: Path, fixture_kb: Path) -> None:
    result = run_cli(
        "search", "wifi?", "--faq-dir", fixture_kb, "--index-dir", tmp_path / "missing"
    )

    assert result.returncode == 1
    assert "no FAQ index in" in result.stderr


def test_eval_scores_labelled_queries(tmp_path: Path) -> None:
    kb = tmp_path / "kb.csv"
    kb.write_text(
        "faq_id,question\n"
        "wifi,Is there wifi on board?\nwifi,how do I get online on the ship\n"
        "wifi,internet access on the boat\n"
        "wifi,can I connect to wireless internet on the cruise\n"
        "dinner,What time is dinner?\ndinner,when is the evening meal served\n"
        "dinner,dinner hours\ndinner,when do we eat in the evening\n"
        "gym,When is the gym open?\ngym,fitness centre opening hours\n"
        "gym,what time does the gym open\ngym,gym hours\n",
        encoding="utf-8",
    )
    queries = tmp_path / "queries.csv"
    queries.write_text(
        "text,faq_id\n"
        "can I use the internet on the ship,wifi\n"
        "at what time is supper,dinner\n"
        "gym opening times,gym\n"
        "what is the capital of Peru,\n",
        encoding="utf-8",
    )

    result = run_cli("eval", "--kb", kb, "--queries", queries, "--json")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["n_in_scope"] == 3 and report["n_oos"] == 1
    assert report["in_scope_accuracy"] == 1.0
    assert report["oos_recall"] == 1.0
    assert sum(report["decisions"].values()) == 4
    assert report["decisions"]["none"] >= 1
    assert 0 < report["p50_ms"] <= report["p95_ms"]
