"""Importing question/answer pairs from CSV or JSON, through the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge_base.faqs import load_knowledge_base

REPO_ROOT = Path(__file__).resolve().parents[2]

EXISTING = """faqs:
  - id: wifi
    question: Is there wifi on board?
    paraphrases: [internet on the ship]
    answer: Yes, free wifi everywhere.
    tags: [onboard]
    channels: [web, kiosk]
"""


def run_import(source: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "actions.faq", "import", str(source), "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "faq"
    directory.mkdir()
    (directory / "onboard.yml").write_text(EXISTING, encoding="utf-8")
    return directory


def test_csv_rows_with_one_faq_id_become_one_faq(faq_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "import.csv"
    source.write_text(
        "faq_id,question,answer,channels,tags\n"
        "gym,When is the gym open?,06:00 to 22:00.,kiosk,onboard\n"
        "gym,fitness centre hours,,,\n"
        ",Can I bring my dog?,No pets on board.,,\n",
        encoding="utf-8",
    )

    result = run_import(source, faq_dir / "imported.yml")

    assert result.returncode == 0, result.stderr
    assert "wrote 2 FAQs with 1 paraphrases" in result.stdout
    faqs = {faq.id: faq for faq in load_knowledge_base(faq_dir)}
    assert faqs["gym"].paraphrases == ("fitness centre hours",)
    assert faqs["gym"].channels == ("kiosk",)
    assert faqs["gym"].tags == ("onboard",)
    assert faqs["can_i_bring_my_dog"].answer == "No pets on board."
    assert faqs["can_i_bring_my_dog"].channels == ("web", "kiosk")


def test_json_records_are_imported(faq_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "import.json"
    records = [{"question": "Is breakfast included?", "answer": "Yes, from 07:00."}]
    source.write_text(json.dumps(records), encoding="utf-8")

    result = run_import(source, faq_dir / "imported.yml")

    assert result.returncode == 0, result.stderr
    [faq] = [faq for faq in load_knowledge_base(faq_dir) if faq.id != "wifi"]
    assert faq.question == "Is breakfast included?"


@pytest.mark.parametrize(
    ("csv_text", "messages"),
    [
        pytest.param(
            "faq_id,question,answer\nwifi,Can I get online?,Yes.\n",
            ["duplicate id 'wifi'", "onboard.yml", "import.csv line 2"],
            id="duplicate id",
        ),
        pytest.param(
            "faq_id,question,answer\ngym,When is the gym open?,\n",
            ["import.csv line 2 (faq 'gym'): empty answer"],
            id="empty answer",
        ),
        pytest.param(
            "faq_id,question,answer\ninternet,Internet on the ship?,Yes.\n",
            [
                "'Internet on the ship?' is a question or paraphrase of two FAQs",
                "'wifi'",
                "'internet'",
            ],
            id="paraphrase under two faqs",
        ),
        pytest.param(
            "faq_id,question,answer,channels\ngym,Gym hours?,06:00.,web;app\n",
            ["unknown channel 'app'"],
            id="unknown channel",
        ),
        pytest.param(
            "faq_id,question,answer\ngym,Gym hours?,06:00.\ngym,fitness hours,07:00.\n",
            ["(faq 'gym'): different answers in", "line 2 and", "line 3"],
            id="two answers",
        ),
        pytest.param(
            "question,reply\nGym hours?,06:00.\n",
            ["missing column(s) answer (found: question, reply)"],
            id="missing column",
        ),
    ],
)
def test_invalid_import_is_refused_with_a_clear_message(
    faq_dir: Path, tmp_path: Path, csv_text: str, messages: list[str]
) -> None:
    source = tmp_path / "import.csv"
    source.write_text(csv_text, encoding="utf-8")

    result = run_import(source, faq_dir / "imported.yml")

    assert result.returncode == 1
    for message in messages:
        assert message in result.stderr
    assert not (faq_dir / "imported.yml").exists()


def test_reimport_replaces_its_own_output(faq_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "import.csv"
    source.write_text("faq_id,question,answer\ngym,Gym hours?,06:00.\n", encoding="utf-8")

    assert run_import(source, faq_dir / "imported.yml").returncode == 0
    second = run_import(source, faq_dir / "imported.yml")

    assert second.returncode == 0, second.stderr
    assert [faq.id for faq in load_knowledge_base(faq_dir)] == ["gym", "wifi"]
